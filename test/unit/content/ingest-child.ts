// A child process for the store tests: starts writing a blob, reports how far it got,
// then waits to be killed. argv: ROOT TMP DIGEST SIZE PART_FILE
import { readFile } from 'node:fs/promises';
import { ContentStore } from '../../../src/content/index.js';
import { parseDigest } from '../../../src/oci/index.js';

const [root, tmp, digest, size, part] = process.argv.slice(2);
const store = new ContentStore({ root: root!, tmp: tmp! });
await store.init();
const w = await store.writer(parseDigest(digest!), Number(size));
if (w === undefined) throw new Error('blob already present');
await w.write(await readFile(part!));
process.stdout.write(`wrote ${w.offset}\n`);
setInterval(() => undefined, 1000);
