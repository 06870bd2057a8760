import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { markTopDir } from '../../../src/sys/index.js';
import { needsRootAnd } from '../../helpers/requirements.js';
import { tempDir } from '../../helpers/temp.js';

/** The attribute letters `lsattr -d` shows for dir, or undefined where it has none. */
function attrs(dir: string): string | undefined {
  const r = spawnSync('lsattr', ['-d', dir], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.split(' ')[0] : undefined;
}

describe('markTopDir', { skip: needsRootAnd('lsattr') }, () => {
  test('sets the Orlov top-directory flag (chattr +T) where the file system has it', async (t) => {
    const tmp = await tempDir('chrun-topdir-');
    t.after(tmp.cleanup);
    const dir = path.join(tmp.path, 'tmp');
    mkdirSync(dir);
    const before = attrs(dir);
    if (before === undefined) return t.skip(`${os.tmpdir()} has no file attributes`);
    assert.doesNotMatch(before, /T/);
    assert.equal(markTopDir(dir), true);
    assert.match(attrs(dir) ?? '', /T/);
    assert.equal(markTopDir(dir), true, 'marking again is fine');
    assert.equal(attrs(dir)?.replace('T', '-'), before, 'no other flag changed');
  });

  test('is a no-op answering false where it cannot be done', () => {
    assert.equal(markTopDir('/nonexistent/chrun-topdir'), false);
    const shm = path.join('/dev/shm', `chrun-topdir-${process.pid}`);
    mkdirSync(shm);
    try {
      assert.equal(markTopDir(shm), false, 'tmpfs has no such flag');
    } finally {
      rmdirSync(shm);
    }
  });
});
