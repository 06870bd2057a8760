import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { isChrunError } from '../../../src/util/index.js';
import { fakeHost, type FakeHost } from './fake-host.js';

const read = (file: string): string => readFileSync(file, 'utf8').trim();

describe('v2 manager on a fake unified hierarchy', () => {
  let h: FakeHost;
  let root: string;
  let dir: string;
  beforeEach(() => {
    h = fakeHost({ mode: 'v2' });
    root = h.base;
    dir = path.join(root, 'chrun/c1');
  });
  afterEach(() => h.cleanup());

  test('create enables memory and pids down the tree, and only the limits need more', () => {
    const m = h.manager();
    assert.equal(m.mode, 'v2');
    m.create();
    assert.equal(read(path.join(root, 'cgroup.subtree_control')), 'memory pids');
    assert.equal(read(path.join(root, 'chrun/cgroup.subtree_control')), 'memory pids');
    assert.equal(read(path.join(dir, 'cgroup.controllers')), 'memory pids');
    assert.equal(
      read(path.join(dir, 'cgroup.subtree_control')),
      '',
      'the leaf keeps its processes',
    );
    assert.ok(existsSync(path.join(dir, 'memory.max')));
    assert.ok(!existsSync(path.join(dir, 'cpu.max')), 'cpu is not enabled without cpu limits');
    m.create(); // idempotent
  });

  test('memory, swap, cpu, pids, cpuset, hugetlb limits become v2 files', () => {
    const m = h.manager();
    const r = {
      memory: {
        limit: 512 * 1024 * 1024,
        swap: 1024 * 1024 * 1024,
        reservation: 256 * 1024 * 1024,
      },
      cpu: { shares: 1024, quota: 150000, period: 100000, cpus: '1', mems: '0' },
      pids: { limit: 64 },
      hugepageLimits: [{ pageSize: '2MB', limit: 4194304 }],
    };
    m.create(r);
    assert.equal(
      read(path.join(root, 'chrun/cgroup.subtree_control')),
      'cpuset cpu memory hugetlb pids',
    );
    const res = m.apply(r);
    assert.deepEqual(res.warnings, []);
    assert.deepEqual(res.unenforcedDevices, []);
    assert.equal(read(path.join(dir, 'memory.max')), '536870912');
    assert.equal(
      read(path.join(dir, 'memory.swap.max')),
      '536870912',
      'swap alone: memory+swap minus memory',
    );
    assert.equal(read(path.join(dir, 'memory.low')), '268435456');
    assert.equal(read(path.join(dir, 'cpu.weight')), '100');
    assert.equal(read(path.join(dir, 'cpu.max')), '150000 100000');
    assert.equal(read(path.join(dir, 'cpuset.cpus')), '1');
    assert.equal(read(path.join(dir, 'pids.max')), '64');
    assert.equal(read(path.join(dir, 'hugetlb.2MB.max')), '4194304');
    assert.ok(
      res.writes.some((w) => w.file === path.join(dir, 'memory.max') && w.value === '536870912'),
    );
  });

  test('swap equal to memory disables swap; -1 lifts both limits', () => {
    const m = h.manager();
    m.create();
    m.apply({ memory: { limit: 64 << 20, swap: 64 << 20 } });
    assert.equal(read(path.join(dir, 'memory.swap.max')), '0');
    m.apply({ memory: { limit: -1 } });
    assert.equal(read(path.join(dir, 'memory.max')), 'max');
    assert.equal(read(path.join(dir, 'memory.swap.max')), 'max');
  });

  test('quota without a period keeps the period; -1 quota is max', () => {
    const m = h.manager();
    m.create({ cpu: { quota: 50000 } });
    m.apply({ cpu: { quota: 50000 } });
    assert.equal(read(path.join(dir, 'cpu.max')), '50000 100000');
    m.apply({ cpu: { quota: -1, period: 200000 } });
    assert.equal(read(path.join(dir, 'cpu.max')), 'max 200000');
  });

  test('a host without swap accounting limits memory and warns', () => {
    h.cleanup();
    h = fakeHost({ mode: 'v2', swapAccounting: false });
    dir = path.join(h.base, 'chrun/c1');
    const m = h.manager();
    m.create();
    const res = m.apply({ memory: { limit: 64 << 20, swap: 128 << 20 } });
    assert.equal(read(path.join(dir, 'memory.max')), String(64 << 20));
    assert.match(res.warnings.join(), /memory limited without swap/);
    assert.deepEqual(
      m.apply({ memory: { limit: 64 << 20, swap: -1 } }).warnings,
      [],
      'unlimited swap needs no file',
    );
  });

  test('the kernel refuses a bad value and the error names the setting, file and reason', () => {
    const m = h.manager();
    m.create({ cpu: { quota: 500 } });
    assert.throws(
      () => m.apply({ cpu: { quota: 500, period: 100000 } }),
      (err) =>
        isChrunError(err, 'CHRUN_CGROUP_FAILED') &&
        err.message === `set cpu quota: write ${path.join(dir, 'cpu.max')}: invalid argument`,
    );
  });

  test('devices cannot be enforced through v2 files and come back to the runtime', () => {
    const m = h.manager();
    m.create();
    const devices = [
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
    ];
    const res = m.apply({ devices });
    assert.deepEqual(res.unenforcedDevices, devices);
  });

  test('placement: born inside with CLONE_INTO_CGROUP, or by writing cgroup.procs', () => {
    const m = h.manager();
    m.create();
    assert.deepEqual(m.placement(), {
      cloneInto: dir,
      procsFiles: [path.join(dir, 'cgroup.procs')],
    });
    m.addProcess(4242);
    assert.deepEqual(h.fs.procsOf(dir), [4242]);
    assert.deepEqual(m.pids(), [4242]);
    assert.throws(() => m.addProcess(0), /invalid pid 0/);
  });

  test('stats and OOM come from memory.*, pids.* and cpu.stat', () => {
    const m = h.manager();
    m.create();
    m.apply({ memory: { limit: 64 << 20 }, pids: { limit: 10 } });
    h.fs.setKernelValue(path.join(dir, 'memory.current'), '1048576\n');
    h.fs.setKernelValue(path.join(dir, 'memory.peak'), '2097152\n');
    h.fs.setKernelValue(path.join(dir, 'pids.current'), '3\n');
    h.fs.setKernelValue(
      path.join(dir, 'cpu.stat'),
      'usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n',
    );
    assert.deepEqual(m.stats(), {
      memory: { usage: 1048576, peak: 2097152, limit: 64 << 20 },
      pids: { current: 3, limit: 10 },
      cpu: { usageNs: 1500000 },
    });
    assert.equal(m.oomKilled(), false);
    h.fs.setKernelValue(
      path.join(dir, 'memory.events'),
      'low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\noom_group_kill 0\n',
    );
    assert.deepEqual(m.oom(), { oomKills: 1, ooms: 1 });
    assert.equal(m.oomKilled(), true);
  });

  test('SIGKILL goes through cgroup.kill; other signals freeze, signal each, thaw', async () => {
    const m = h.manager();
    m.create();
    m.addProcess(11);
    m.addProcess(12);
    await m.kill('SIGTERM');
    assert.deepEqual(h.signals, [
      [11, 'SIGTERM'],
      [12, 'SIGTERM'],
    ]);
    assert.equal(read(path.join(dir, 'cgroup.freeze')), '0', 'thawed again');
    m.addProcess(13);
    await m.kill();
    assert.deepEqual(h.fs.killed, [13]);
    assert.equal(h.signals.length, 2, 'cgroup.kill needs no signals');
  });

  test('without cgroup.kill SIGKILL freezes and signals', async () => {
    h.cleanup();
    h = fakeHost({ mode: 'v2', cgroupKill: false });
    const m = h.manager();
    m.create();
    m.addProcess(21);
    await m.kill();
    assert.deepEqual(h.signals, [[21, 'SIGKILL']]);
  });

  test('destroy kills what is left, retries a busy rmdir, removes the default parent', async () => {
    const m = h.manager();
    m.create();
    m.addProcess(31);
    h.fs.busyRmdir(dir, 2);
    await m.destroy();
    assert.deepEqual(h.fs.killed, [31]);
    assert.ok(!existsSync(dir));
    assert.ok(!existsSync(path.join(root, 'chrun')), 'the empty default parent goes too');
    await m.destroy(); // twice is fine
  });

  test('destroy keeps a parent that other containers use, and a custom parent', async () => {
    const a = h.manager('/chrun/a');
    const b = h.manager('/chrun/b');
    a.create();
    b.create();
    await a.destroy();
    assert.ok(existsSync(path.join(root, 'chrun/b')));
    await b.destroy();
    assert.ok(!existsSync(path.join(root, 'chrun')));
    const c = h.manager('/mine/c');
    c.create();
    await c.destroy();
    assert.ok(existsSync(path.join(root, 'mine')), 'a user parent is not ours to remove');
  });

  test('destroy gives up on a cgroup that stays busy, naming it', async () => {
    const m = h.manager();
    m.create();
    h.fs.busyRmdir(dir, 1000);
    await assert.rejects(
      m.destroy(),
      (err) =>
        isChrunError(err, 'CHRUN_CGROUP_FAILED') &&
        /rmdir .*chrun\/c1: device or resource busy/.test(err.message),
    );
  });

  test('a parent with processes of its own cannot hand controllers down', () => {
    const m = h.manager('/busy/c1');
    h.fs.mkdir(path.join(root, 'busy'));
    h.fs.write(path.join(root, 'busy/cgroup.procs'), '77');
    assert.throws(() => m.create(), /cgroup v2 gives controllers only to cgroups without them/);
    assert.ok(!existsSync(path.join(root, 'busy/c1')), 'nothing half-made is left');
  });

  test('a controller the root lacks is reported, not silently skipped', () => {
    h.cleanup();
    h = fakeHost({ mode: 'v2', unifiedControllers: ['cpu', 'memory', 'pids'] });
    const m = h.manager();
    m.create({ hugepageLimits: [{ pageSize: '2MB', limit: 2097152 }] });
    const res = m.apply({ hugepageLimits: [{ pageSize: '2MB', limit: 2097152 }] });
    assert.match(res.warnings.join(), /hugetlb cgroup controller is not available/);
  });
});
