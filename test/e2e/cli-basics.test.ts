import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { VERSION } from '../../src/util/index.js';
import { chrunBin, runChrun } from '../helpers/cli.js';
import { skipUnless } from '../helpers/requirements.js';
import { tempDir } from '../helpers/temp.js';

test('--version prints the version', async () => {
  const res = await runChrun(['--version']);
  assert.equal(res.code, 0);
  assert.equal(res.stdout.trim(), VERSION);
});

test('--help lists commands, and each command has its own help', async () => {
  const res = await runChrun(['--help']);
  assert.equal(res.code, 0);
  assert.match(res.stdout, /Usage: chrun/);
  assert.match(res.stdout, /--root <dir>/);
  assert.match(res.stdout, /\binfo\b/);
  const sub = await runChrun(['info', '--help']);
  assert.equal(sub.code, 0);
  assert.match(sub.stdout, /Usage: chrun info/);
  const viaHelp = await runChrun(['help', 'info']);
  assert.equal(viaHelp.stdout, sub.stdout);
  const nested = await runChrun(['help', 'image', 'inspect']);
  assert.equal(nested.code, 0, nested.stderr);
  assert.equal(nested.stdout, (await runChrun(['image', 'inspect', '--help'])).stdout);
  const bare = await runChrun(['help']);
  assert.equal(bare.stdout, res.stdout);
});

test('a bad flag is one line on stderr and exit 125', async () => {
  for (const args of [
    ['--bogus'],
    ['info', '--bogus'],
    ['no-such-command'],
    ['info', '--format', 'xml'],
    ['help', 'nope'],
    ['help', 'image', 'nope'],
    ['image', 'inspect', '--format', '{{.Id', 'busybox'],
    ['inspect', '--format', '{{nope .Id}}', 'busybox'],
  ]) {
    const res = await runChrun(args);
    assert.equal(res.code, 125, `${args.join(' ')}: ${res.stderr}`);
    assert.equal(res.stdout, '');
    const lines = res.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, res.stderr);
    assert.match(lines[0] ?? '', /^chrun: /);
  }
});

test('--root and CHRUN_ROOT choose the store', async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  const byFlag = await runChrun(['info', '--format', 'json'], { root: dir.path });
  assert.equal(byFlag.code, 0, byFlag.stderr);
  const info = JSON.parse(byFlag.stdout) as { paths: { storage: string; state: string } };
  assert.equal(info.paths.storage, dir.path);
  assert.ok(info.paths.state.startsWith(dir.path));
  const byEnv = await runChrun(['info', '--format', 'json'], { env: { CHRUN_ROOT: dir.path } });
  assert.deepEqual(JSON.parse(byEnv.stdout), info);
});

test('info tells which gunzip applies layers: ISA-L from the bundle, node:zlib when asked', async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  // The bundle (dist/bundle) finds native/build/libchrun-gunzip.so as the layer worker does:
  // a build without it would silently fall back to node:zlib.
  const built = await runChrun(['info', '--format', 'json'], { root: dir.path });
  assert.equal(built.code, 0, built.stderr);
  const gunzip = (JSON.parse(built.stdout) as { gunzip: { kind: string; library?: string } })
    .gunzip;
  const skip = skipUnless(gunzip.kind === 'isal', `libchrun-gunzip.so not used: ${built.stdout}`);
  if (skip !== false) return t.skip(skip);
  assert.match(gunzip.library ?? '', /\/native\/build\/libchrun-gunzip\.so$/);
  const text = await runChrun(['info'], { root: dir.path });
  assert.match(text.stdout, /^gunzip: +ISA-L \(/m);
  const zlib = await runChrun(['info'], { root: dir.path, env: { CHRUN_GUNZIP: 'zlib' } });
  assert.match(zlib.stdout, /^gunzip: +node:zlib \(CHRUN_GUNZIP=zlib\)$/m);
});

test('a code cache written after undici set --liftoff-only is accepted by the next run', async () => {
  // bin/chrun writes a command's V8 code cache at the end of a run, and V8 rejects a cache
  // stamped with other flags than its own: bin/chrun sets back what undici's loader changed
  // (src/registry/undici-lite.ts). Checked on this Node with bin/chrun's own words, against
  // a control without them.
  const reset = /setFlagsFromString\('(--no-liftoff-only[^']*)'\)/.exec(
    readFileSync(chrunBin, 'utf8'),
  )?.[1];
  assert.ok(reset !== undefined, 'bin/chrun sets the flags back');
  const tmp = await tempDir('chrun-code-cache-');
  try {
    const cache = path.join(tmp.path, 'cache.v8');
    const source = JSON.stringify('function f(a) { return a + 1 }; f(1);');
    const node = (code: string, ...args: string[]): string => {
      const r = spawnSync(process.execPath, ['-e', code, '--', ...args], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      return r.stdout.trim();
    };
    const write = `const vm = require('node:vm'), v8 = require('node:v8');
      const s = new vm.Script(${source}); s.runInThisContext();
      v8.setFlagsFromString('--liftoff-only');
      if (process.argv[1] !== '') v8.setFlagsFromString(process.argv[1]);
      require('node:fs').writeFileSync(process.argv[2], s.createCachedData());`;
    const rejected = `const s = new (require('node:vm').Script)(${source},
      { cachedData: require('node:fs').readFileSync(process.argv[1]) });
      console.log(s.cachedDataRejected);`;
    node(write, reset, cache);
    assert.equal(node(rejected, cache), 'false', 'the cache made after the reset is used');
    node(write, '', cache);
    assert.equal(node(rejected, cache), 'true', 'without the reset it is rejected');
  } finally {
    await tmp.cleanup();
  }
});
