import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VERSION } from '../../src/util/index.js';
import { runChrun } from '../helpers/cli.js';
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
