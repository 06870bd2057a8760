import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../../helpers/cli.js';

test(".ci/run runs exactly the README's test command", async () => {
  const ci = await readFile(path.join(repoRoot, '.ci/run'), 'utf8');
  const readme = await readFile(path.join(repoRoot, 'README.md'), 'utf8');
  const m = /^TEST_COMMAND='([^']+)'$/m.exec(ci);
  assert.ok(m?.[1], '.ci/run defines TEST_COMMAND');
  const blocks = [...readme.matchAll(/```sh\n([^`]+?)\n```/g)].map((b) => b[1]);
  assert.ok(blocks.includes(m[1]), `README has a sh block with exactly: ${m[1]}`);
});
