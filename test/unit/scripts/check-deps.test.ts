import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../../helpers/cli.js';
import { tempDir } from '../../helpers/temp.js';

const script = path.join(repoRoot, 'scripts/check-deps.mjs');

async function tree(
  files: Record<string, string>,
): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const dir = await tempDir();
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir.path, name)), { recursive: true });
    await writeFile(path.join(dir.path, name), text);
  }
  return dir;
}

function check(src: string) {
  return spawnSync(process.execPath, [script, '--src', src], { encoding: 'utf8' });
}

test('the real source tree follows the dependency rule', () => {
  const res = check(path.join(repoRoot, 'src'));
  assert.equal(res.status, 0, res.stderr);
});

test('a lower folder importing a higher one is caught', async (t) => {
  const dir = await tree({
    'util/index.ts': "export { x } from './x.js';",
    'util/x.ts': "import { Engine } from '../engine/index.js';\nexport const x = Engine;",
    'engine/index.ts': 'export class Engine {}',
  });
  t.after(dir.cleanup);
  const res = check(dir.path);
  assert.equal(res.status, 1);
  assert.match(res.stderr, /util\/x\.ts: 'util' imports 'engine', a folder above it/);
});

test('same-level imports and deep imports are caught', async (t) => {
  const dir = await tree({
    'image/index.ts': "import { a } from '../runtime/index.js';\nexport const b = a;",
    'runtime/index.ts': 'export const a = 1;',
    'engine/x.ts': "import { a } from '../runtime/start.js';\nexport const c = a;",
    'runtime/start.ts': 'export const a = 1;',
    'weird/x.ts': 'export const d = 1;',
  });
  t.after(dir.cleanup);
  const res = check(dir.path);
  assert.equal(res.status, 1);
  assert.match(res.stderr, /'image' imports 'runtime', a folder of the same level/);
  assert.match(res.stderr, /enter 'runtime\/' through its index\.ts/);
  assert.match(res.stderr, /folder 'weird' has no level/);
});

test('imports within a folder and downward through index are fine', async (t) => {
  const dir = await tree({
    'engine/a.ts':
      "import { b } from './b.js';\nimport { u } from '../util/index.js';\nexport const a = b + u;",
    'engine/b.ts': 'export const b = 1;',
    'util/index.ts': 'export const u = 1;',
    'engine/index.ts': "export * from './a.js';",
    'index.ts': "export * from './engine/index.js';",
  });
  t.after(dir.cleanup);
  const res = check(dir.path);
  assert.equal(res.status, 0, res.stderr);
});
