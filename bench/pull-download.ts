// The download part of a chrun pull, for bench/pull.ts: the same library pull as
// `chrun pull` (manifests, blobs verified and stored, the name registered) with the
// snapshotter's unpack step left out, in a process of its own like the CLI's.
//
//   node dist/bench/pull-download.js STORE REFERENCE
import { Engine } from '../src/engine/index.js';

const [root, ref] = process.argv.slice(2);
if (root === undefined || ref === undefined) {
  process.stderr.write('usage: pull-download.js STORE REFERENCE\n');
  process.exit(2);
}
const engine = new Engine({ root });
engine.images.unpacker = undefined;
await engine.images.pull(ref);
