import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { fakeHost, type FakeHost } from './fake-host.js';

const read = (file: string): string => readFileSync(file, 'utf8').trim();

describe("hybrid manager: v1 controllers plus the unified mount (this host's shape)", () => {
  let h: FakeHost;
  const unified = (file = ''): string => path.join(h.base, 'unified/chrun/c1', file);
  beforeEach(() => {
    h = fakeHost({ mode: 'hybrid' });
  });
  afterEach(() => h.cleanup());

  test('the cgroup is in every v1 hierarchy and in the unified one', () => {
    const m = h.manager();
    assert.equal(m.mode, 'hybrid');
    m.create();
    assert.equal(m.dirs.length, 9);
    assert.ok(existsSync(unified()));
    assert.equal(
      read(path.join(h.base, 'unified/cgroup.subtree_control')),
      '',
      'no controller enabled without a need',
    );
    const p = m.placement();
    assert.equal(p.cloneInto, undefined);
    assert.ok(p.procsFiles.includes(unified('cgroup.procs')));
    m.addProcess(900);
    assert.deepEqual(h.fs.procsOf(unified()), [900]);
    assert.deepEqual(h.fs.procsOf(path.join(h.base, 'memory/chrun/c1')), [900]);
  });

  test('memory goes to v1; hugetlb, only on the unified mount, goes there', () => {
    const m = h.manager();
    const r = {
      memory: { limit: 64 << 20 },
      hugepageLimits: [{ pageSize: '2MB', limit: 4194304 }],
    };
    m.create(r);
    assert.equal(read(path.join(h.base, 'unified/cgroup.subtree_control')), 'hugetlb');
    const res = m.apply(r);
    assert.equal(
      read(path.join(h.base, 'memory/chrun/c1/memory.limit_in_bytes')),
      String(64 << 20),
    );
    assert.equal(read(unified('hugetlb.2MB.max')), '4194304');
    assert.deepEqual(res.unenforcedDevices, []);
  });

  test('devices are enforced by the v1 devices controller', () => {
    const m = h.manager();
    m.create();
    const res = m.apply({ devices: [{ allow: false, access: 'rwm' }] });
    assert.deepEqual(res.unenforcedDevices, []);
    assert.equal(read(path.join(h.base, 'devices/chrun/c1/devices.list')), '');
  });

  test('SIGKILL uses the unified cgroup.kill; destroy removes all nine', async () => {
    const m = h.manager();
    m.create();
    m.addProcess(901);
    await m.kill();
    assert.deepEqual(h.fs.killed, [901]);
    assert.deepEqual(h.signals, []);
    await m.destroy();
    for (const dir of m.dirs) assert.ok(!existsSync(dir), dir);
  });

  test('OOM and memory stats come from v1 memory', () => {
    const m = h.manager();
    m.create();
    h.fs.setKernelValue(
      path.join(h.base, 'memory/chrun/c1/memory.oom_control'),
      'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n',
    );
    assert.equal(m.oomKilled(), true);
  });
});
