import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_STATE, DEFAULT_STORAGE, resolvePaths } from '../../../src/engine/index.js';

test('default paths follow a root daemonless engine', () => {
  const p = resolvePaths();
  assert.equal(p.root, undefined);
  assert.equal(p.storage, DEFAULT_STORAGE);
  assert.equal(p.state, DEFAULT_STATE);
  assert.equal(p.content, '/var/lib/chrun/content');
});

test('--root puts storage and state under one directory', () => {
  const p = resolvePaths('rel/dir');
  assert.ok(p.root?.startsWith('/'));
  for (const dir of [p.storage, p.content, p.images, p.snapshots, p.state, p.tmp]) {
    assert.ok(dir.startsWith(p.root ?? '-'), `${dir} is under ${p.root ?? '-'}`);
  }
  assert.notEqual(p.state, p.storage);
  assert.deepEqual(resolvePaths(''), resolvePaths());
});
