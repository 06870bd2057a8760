import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { deviceRuleV1 } from '../../../src/cgroups/index.js';
import { isChrunError } from '../../../src/util/index.js';
import { fakeHost, type FakeHost } from './fake-host.js';

const read = (file: string): string => readFileSync(file, 'utf8').trim();
const MiB = 1024 * 1024;

describe('v1 manager on fake per-controller hierarchies', () => {
  let h: FakeHost;
  const at = (hierarchy: string, file = ''): string =>
    path.join(h.base, hierarchy, 'chrun/c1', file);
  beforeEach(() => {
    h = fakeHost({ mode: 'v1' });
  });
  afterEach(() => h.cleanup());

  test('create makes the cgroup in every hierarchy and gives cpuset its cpus and mems', () => {
    const m = h.manager();
    assert.equal(m.mode, 'v1');
    m.create();
    for (const dir of [
      'cpu,cpuacct',
      'cpuset',
      'memory',
      'devices',
      'freezer',
      'blkio',
      'pids',
      'systemd',
    ]) {
      assert.ok(existsSync(at(dir)), dir);
    }
    assert.equal(m.dirs.length, 8);
    assert.equal(read(at('cpuset', 'cpuset.cpus')), '0-1');
    assert.equal(read(at('cpuset', 'cpuset.mems')), '0');
    assert.equal(read(path.join(h.base, 'cpuset/chrun/cpuset.cpus')), '0-1');
  });

  test('placement writes the pid into every hierarchy', () => {
    const m = h.manager();
    m.create();
    const p = m.placement();
    assert.equal(p.cloneInto, undefined);
    assert.equal(p.procsFiles.length, 8);
    m.addProcess(500);
    for (const file of p.procsFiles) assert.equal(read(file), '500', file);
    assert.deepEqual(m.pids(), [500]);
  });

  test('memory and memory+swap are written in the order the kernel accepts', () => {
    const m = h.manager();
    m.create();
    m.apply({ memory: { limit: 512 * MiB, swap: 1024 * MiB } });
    assert.equal(read(at('memory', 'memory.limit_in_bytes')), String(512 * MiB));
    assert.equal(read(at('memory', 'memory.memsw.limit_in_bytes')), String(1024 * MiB));
    // Raising both: memory+swap must grow first.
    m.apply({ memory: { limit: 2048 * MiB, swap: 4096 * MiB } });
    assert.equal(read(at('memory', 'memory.limit_in_bytes')), String(2048 * MiB));
    // Lowering both: memory must shrink first.
    const res = m.apply({ memory: { limit: 256 * MiB, swap: 256 * MiB } });
    assert.equal(read(at('memory', 'memory.memsw.limit_in_bytes')), String(256 * MiB));
    assert.deepEqual(
      res.writes.map((w) => path.basename(w.file)),
      ['memory.limit_in_bytes', 'memory.memsw.limit_in_bytes'],
    );
    // Unlimited memory lifts memory+swap too.
    m.apply({ memory: { limit: -1 } });
    assert.equal(read(at('memory', 'memory.limit_in_bytes')), '9223372036854771712');
  });

  test('memory below the current usage is refused with the usage', () => {
    const m = h.manager();
    m.create();
    h.fs.setKernelValue(at('memory', 'memory.usage_in_bytes'), String(100 * MiB));
    h.fs.setKernelValue(at('memory', 'memory.max_usage_in_bytes'), String(120 * MiB));
    assert.throws(
      () => m.apply({ memory: { limit: 50 * MiB } }),
      /unable to set memory limit to 52428800 \(current usage: 104857600, peak usage: 125829120\)/,
    );
  });

  test("without swap accounting memory is limited alone, with docker's warning", () => {
    h.cleanup();
    h = fakeHost({ mode: 'v1', swapAccounting: false });
    const m = h.manager();
    m.create();
    const res = m.apply({ memory: { limit: 64 * MiB, swap: 128 * MiB } });
    assert.equal(read(at('memory', 'memory.limit_in_bytes')), String(64 * MiB));
    assert.match(res.warnings[0] ?? '', /does not support swap limit capabilities/);
  });

  test('cpu shares, quota and period; shares the kernel clamps are an error', () => {
    const m = h.manager();
    m.create();
    m.apply({ cpu: { shares: 512, quota: 150000, period: 100000, cpus: '1', mems: '0' } });
    assert.equal(read(at('cpu,cpuacct', 'cpu.shares')), '512');
    assert.equal(read(at('cpu,cpuacct', 'cpu.cfs_quota_us')), '150000');
    assert.equal(read(at('cpu,cpuacct', 'cpu.cfs_period_us')), '100000');
    assert.equal(read(at('cpuset', 'cpuset.cpus')), '1');
    assert.throws(() => m.apply({ cpu: { shares: 1 } }), /minimum allowed cpu-shares is 2/);
    assert.throws(
      () => m.apply({ cpu: { shares: 300000 } }),
      /maximum allowed cpu-shares is 262144/,
    );
    assert.throws(
      () => m.apply({ cpu: { cpus: '5' } }),
      (err) => isChrunError(err, 'CHRUN_CGROUP_FAILED'),
    );
  });

  test('pids, blkio (BFQ) and device rules', () => {
    const m = h.manager();
    m.create();
    const res = m.apply({
      pids: { limit: 100 },
      blockIO: { weight: 300, throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }] },
      devices: [
        { allow: false, access: 'rwm' },
        { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
        { allow: true, type: 'c', major: 136, minor: null, access: 'rwm' },
        { allow: true, type: 'b', access: 'm' },
      ],
    });
    assert.deepEqual(res.warnings, []);
    assert.equal(read(at('pids', 'pids.max')), '100');
    assert.equal(read(at('blkio', 'blkio.bfq.weight')), '300');
    assert.equal(read(at('blkio', 'blkio.throttle.read_bps_device')), '8:0 1048576');
    assert.equal(read(at('devices', 'devices.list')), 'c 1:3 rwm\nc 136:* rwm\nb *:* m');
    m.apply({ pids: { limit: -1 } });
    assert.equal(read(at('pids', 'pids.max')), 'max');
  });

  test('a kernel without a blkio weight file discards the weight with a warning', () => {
    h.cleanup();
    h = fakeHost({ mode: 'v1', blkioWeight: null });
    const m = h.manager();
    m.create();
    assert.match(m.apply({ blockIO: { weight: 300 } }).warnings.join(), /block i\/o weight/);
  });

  test('device rules in the kernel syntax', () => {
    assert.equal(deviceRuleV1({ allow: false, access: 'rwm' }), 'a');
    assert.equal(deviceRuleV1({ allow: true, type: 'c', major: 5, minor: 1 }), 'c 5:1 rwm');
    assert.equal(
      deviceRuleV1({ allow: true, type: 'c', major: -1, minor: 2, access: 'r' }),
      'c *:2 r',
    );
    assert.throws(() => deviceRuleV1({ allow: true, type: 'x' }), /invalid device rule type "x"/);
    assert.throws(
      () => deviceRuleV1({ allow: true, type: 'c', access: 'rx' }),
      /invalid device rule access/,
    );
  });

  test('a hugepage size the kernel lacks is an error', () => {
    const noHugetlb = h.manager();
    noHugetlb.create();
    assert.match(
      noHugetlb.apply({ hugepageLimits: [{ pageSize: '2MB', limit: 1 }] }).warnings.join(),
      /hugetlb cgroup controller is not available/,
    );
    h.cleanup();
    h = fakeHost({ mode: 'v1', v1Mounts: [['hugetlb'], ['pids']], hugepageSizes: ['2MB'] });
    const m = h.manager();
    m.create();
    m.apply({ hugepageLimits: [{ pageSize: '2MB', limit: 2097152 }] });
    assert.equal(read(at('hugetlb', 'hugetlb.2MB.limit_in_bytes')), '2097152');
    assert.throws(
      () => m.apply({ hugepageLimits: [{ pageSize: '1GB', limit: 1 }] }),
      /hugepage size 1GB is not supported/,
    );
  });

  test('unified resources need a v2 hierarchy', () => {
    const m = h.manager();
    m.create();
    assert.throws(
      () => m.apply({ unified: { 'memory.high': '1000000' } }),
      /no cgroup v2 hierarchy/,
    );
  });

  test('stats from memory, pids and cpuacct; OOM from memory.oom_control', () => {
    const m = h.manager();
    m.create();
    m.apply({ memory: { limit: 64 * MiB } });
    h.fs.setKernelValue(at('memory', 'memory.usage_in_bytes'), '4096');
    h.fs.setKernelValue(at('memory', 'memory.max_usage_in_bytes'), '8192');
    h.fs.setKernelValue(at('pids', 'pids.current'), '2');
    h.fs.setKernelValue(at('cpu,cpuacct', 'cpuacct.usage'), '123456789');
    assert.deepEqual(m.stats(), {
      memory: { usage: 4096, peak: 8192, limit: 64 * MiB },
      pids: { current: 2, limit: undefined },
      cpu: { usageNs: 123456789 },
    });
    assert.equal(m.oomKilled(), false);
    h.fs.setKernelValue(
      at('memory', 'memory.oom_control'),
      'oom_kill_disable 0\nunder_oom 0\noom_kill 1\n',
    );
    h.fs.setKernelValue(at('memory', 'memory.failcnt'), '7');
    assert.deepEqual(m.oom(), { oomKills: 1, ooms: 7 });
  });

  test('kill freezes, signals every pid (child cgroups too), thaws', async () => {
    const m = h.manager();
    m.create();
    m.addProcess(600);
    h.fs.mkdir(at('pids', 'sub'));
    h.fs.write(at('pids', 'sub/cgroup.procs'), '601');
    await m.kill('SIGTERM');
    assert.deepEqual(h.signals, [
      [600, 'SIGTERM'],
      [601, 'SIGTERM'],
    ]);
    assert.equal(read(at('freezer', 'freezer.state')), 'THAWED');
  });

  test("destroy removes every hierarchy's cgroup, child cgroups first", async () => {
    const m = h.manager();
    m.create();
    m.addProcess(700);
    h.fs.mkdir(at('memory', 'nested'));
    await m.destroy();
    assert.deepEqual(h.signals, [[700, 'SIGKILL']]);
    for (const dir of m.dirs) assert.ok(!existsSync(dir), dir);
    assert.ok(!existsSync(path.join(h.base, 'memory/chrun')));
  });
});
