import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makedev, MS, parseMountOptions, planMount, splitdev } from '../../../src/sys/index.js';

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
