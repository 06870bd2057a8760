import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { isMountPoint, mountAll, tryUnmount } from '../../../src/sys/index.js';
import { isChrunError } from '../../../src/util/index.js';
import { leakCheckEachTest } from '../../helpers/leak-check.js';
import { needsRoot } from '../../helpers/requirements.js';
import { tempDir } from '../../helpers/temp.js';

leakCheckEachTest({ files: [{ path: os.tmpdir(), match: /^chrun-mountall-/ }] });

function mountedOn(target: string): number {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l.split(' ')[4] === target).length;
}

describe('mountAll', { skip: needsRoot() }, () => {
  test('a failing mount is named with the kernel reason, and the ones before it are undone', async (t) => {
    const tmp = await tempDir('chrun-mountall-');
    t.after(tmp.cleanup);
    const target = path.join(tmp.path, 'target');
    const src = path.join(tmp.path, 'src');
    mkdirSync(target);
    mkdirSync(src);
    const missing = path.join(tmp.path, 'missing');
    assert.throws(
      () =>
        mountAll(
          [
            { type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] },
            // a read-only bind is two calls (bind, then remount): both undone
            { type: 'bind', source: src, options: ['rbind', 'ro'] },
            { type: 'bind', source: missing, options: ['rbind'] },
          ],
          target,
        ),
      (err: unknown) => {
        assert.ok(isChrunError(err, 'CHRUN_MOUNT_FAILED'));
        assert.equal(
          err.message,
          `mount bind ${missing} on ${target} (mount 3 of 3): no such file or directory`,
        );
        return true;
      },
    );
    assert.equal(mountedOn(target), 0, 'nothing left mounted');
  });

  test('a file system the kernel refuses: its type and reason', async (t) => {
    const tmp = await tempDir('chrun-mountall-');
    t.after(tmp.cleanup);
    const target = path.join(tmp.path, 'target');
    mkdirSync(target);
    assert.throws(
      () =>
        mountAll(
          [{ type: 'overlay', source: 'overlay', options: [`lowerdir=${tmp.path}/nope`] }],
          target,
        ),
      /^ChrunError: mount overlay on .*target: no such file or directory$/,
    );
    assert.equal(mountedOn(target), 0);
  });

  test('mounts all of them in order when they work', async (t) => {
    const tmp = await tempDir('chrun-mountall-');
    t.after(tmp.cleanup);
    const target = path.join(tmp.path, 'target');
    mkdirSync(target);
    mountAll(
      [
        { type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] },
        { type: 'tmpfs', source: 'tmpfs', options: ['size=2m', 'ro'] },
      ],
      target,
    );
    try {
      assert.equal(mountedOn(target), 2);
    } finally {
      while (tryUnmount(target));
    }
  });
});

describe('isMountPoint', { skip: needsRoot() }, () => {
  test('sees a mount by its path, through symlinks and with spaces; not once unmounted', async (t) => {
    const tmp = await tempDir('chrun-mountall-');
    t.after(tmp.cleanup);
    const target = path.join(tmp.path, 'a dir\twith spaces');
    const link = path.join(tmp.path, 'link');
    mkdirSync(target);
    symlinkSync(target, link);
    assert.equal(isMountPoint(target), false);
    assert.equal(isMountPoint(tmp.path), false);
    mountAll([{ type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] }], target);
    try {
      assert.equal(isMountPoint(target), true);
      assert.equal(isMountPoint(link), true, 'through a symlink');
      assert.equal(isMountPoint(path.join(target, '.')), true);
      assert.equal(isMountPoint(tmp.path), false, 'its parent is not');
    } finally {
      while (tryUnmount(target));
    }
    assert.equal(isMountPoint(target), false);
    assert.equal(isMountPoint(path.join(tmp.path, 'missing')), false);
  });
});
