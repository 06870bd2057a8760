import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { removeTree } from '../../../src/util/index.js';
import { tempDir } from '../../helpers/temp.js';

test('removeTree removes a tree, and symlinks in it without following them', async () => {
  const t = await tempDir();
  try {
    const outside = path.join(t.path, 'outside');
    mkdirSync(outside);
    writeFileSync(path.join(outside, 'keep'), 'x');
    const tree = path.join(t.path, 'tree');
    mkdirSync(path.join(tree, 'a', 'b', 'c'), { recursive: true });
    mkdirSync(path.join(tree, 'empty'));
    writeFileSync(path.join(tree, 'a', 'f'), 'x');
    writeFileSync(path.join(tree, 'a', 'b', 'c', 'g'), 'y');
    symlinkSync(outside, path.join(tree, 'a', 'to-outside'));
    symlinkSync('/nonexistent', path.join(tree, 'dangling'));
    removeTree(tree);
    assert.equal(existsSync(tree), false);
    assert.deepEqual(readdirSync(outside), ['keep']);
  } finally {
    await t.cleanup();
  }
});

test('removeTree takes a file, and nothing there is fine', async () => {
  const t = await tempDir();
  try {
    const file = path.join(t.path, 'f');
    writeFileSync(file, 'x');
    removeTree(file);
    assert.equal(existsSync(file), false);
    removeTree(path.join(t.path, 'missing'));
    removeTree(path.join(t.path, 'missing', 'deeper'));
  } finally {
    await t.cleanup();
  }
});

test('removeTree reports what it cannot remove', async () => {
  const t = await tempDir();
  try {
    // a path through a file: ENOTDIR on readdir, then unlink fails with ENOTDIR too
    const file = path.join(t.path, 'f');
    writeFileSync(file, 'x');
    assert.throws(() => removeTree(path.join(file, 'x')), { code: 'ENOTDIR' });
  } finally {
    await t.cleanup();
  }
});
