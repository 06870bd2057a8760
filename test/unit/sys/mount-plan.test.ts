import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makedev, MS, parseMountOptions, planMount, splitdev } from '../../../src/sys/index.js';
import { isChrunError } from '../../../src/util/index.js';

test('mount options split into flags and file system data', () => {
  const { flags, data } = parseMountOptions(['ro', 'nosuid', 'lowerdir=/a:/b', 'rw', 'nodev']);
  assert.equal(flags, MS.NOSUID | MS.NODEV);
  assert.deepEqual(data, ['lowerdir=/a:/b']);
});

test('a read-only bind mount is a bind then a remount', () => {
  const calls = planMount({ type: 'bind', source: '/src', options: ['rbind', 'ro'] });
  assert.equal(calls.length, 2);
  assert.equal(calls[0]!.flags, MS.BIND | MS.REC);
  assert.equal(calls[1]!.flags, MS.REMOUNT | MS.BIND | MS.RDONLY);
  assert.equal(planMount({ type: 'bind', source: '/src', options: ['rbind', 'rw'] }).length, 1);
});

test('an overlay with too many lowerdirs for a page gets relative lowerdirs and a chdir', () => {
  const lowers = Array.from(
    { length: 120 },
    (_, i) => `/var/lib/chrun/snapshots/overlay/layers/l${i}abcdefgh/fs`,
  );
  const short = planMount({
    type: 'overlay',
    source: 'overlay',
    options: [`lowerdir=${lowers.slice(0, 3).join(':')}`],
  });
  assert.equal(short[0]!.chdir, undefined);
  const [call] = planMount({
    type: 'overlay',
    source: 'overlay',
    options: [`lowerdir=${lowers.join(':')}`, 'upperdir=/u', 'workdir=/w'],
  });
  assert.equal(call!.chdir, '/var/lib/chrun/snapshots/overlay/layers');
  assert.ok(call!.data.startsWith('lowerdir=l0abcdefgh/fs:l1abcdefgh/fs:'));
  assert.ok(call!.data.endsWith(',upperdir=/u,workdir=/w'));
  assert.ok(call!.data.length < 4096);
});

test('an overlay past the kernel limits is refused with the reason, not left to E2BIG', () => {
  const lowers = (n: number) =>
    Array.from(
      { length: n },
      (_, i) => `/var/lib/chrun/snapshots/overlay/layers/l${String(i).padStart(9, '0')}/fs`,
    );
  const mount = (n: number) => ({
    type: 'overlay',
    source: 'overlay',
    options: [`lowerdir=${lowers(n).join(':')}`, 'upperdir=/u', 'workdir=/w'],
  });
  // 'lNNNNNNNNN/fs:' is 14 bytes: about 290 fit in a page once relative.
  assert.ok(planMount(mount(280))[0]!.data.length <= 4095);
  assert.throws(
    () => planMount(mount(300)),
    (e: unknown) =>
      isChrunError(e, 'CHRUN_UNSUPPORTED') &&
      /^mount overlay: 300 layers need 4\d{3} bytes of mount options even with short relative paths, above the kernel's limit of 4095$/.test(
        e.message,
      ),
  );
  assert.throws(
    () => planMount(mount(501)),
    /501 layers, above overlayfs's limit of 500 lower directories/,
  );
});

test('makedev and splitdev agree with glibc', () => {
  assert.equal(makedev(1, 3), 0x103n);
  assert.equal(makedev(259, 65536), 0x10010300n);
  for (const [ma, mi] of [
    [0, 0],
    [1, 3],
    [8, 1],
    [259, 65536],
    [4095, 1048575],
  ] as const) {
    assert.deepEqual(splitdev(Number(makedev(ma, mi))), { major: ma, minor: mi });
  }
});
