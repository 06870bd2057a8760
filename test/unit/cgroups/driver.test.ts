import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, test } from 'node:test';
import {
  CgroupDriver,
  createFakeCgroupHost,
  type FakeCgroupOptions,
} from '../../../src/cgroups/index.js';
import type { Spec } from '../../../src/oci/index.js';
import type { CgroupDriver as RuntimeCgroupDriver } from '../../../src/runtime/index.js';

const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

function driver(
  opts: FakeCgroupOptions,
  procSelfCgroup?: string,
): { d: CgroupDriver; base: string } {
  const root = mkdtempSync(path.join(os.tmpdir(), 'chrun-driver-'));
  roots.push(root);
  const { layout, fs } = createFakeCgroupHost(root, opts);
  return {
    d: new CgroupDriver({ layout, fs, procSelfCgroup }),
    base: path.join(root, 'sys/fs/cgroup'),
  };
}

const spec = (linux: Spec['linux'] = {}): Spec => ({ ociVersion: '1.2.0', linux });

test('v2: the container is cloned into its cgroup; limits applied from the spec', async () => {
  const { d, base } = driver({ mode: 'v2' });
  const c = await d.create('abc', spec({ resources: { pids: { limit: 7 } } }));
  const dir = path.join(base, 'chrun/abc');
  assert.deepEqual(c.placement, {
    cloneInto: dir,
    cleanup: [dir],
    cleanupParents: [path.join(base, 'chrun')],
  });
  assert.deepEqual(c.paths, [dir]);
  assert.equal(readFileSync(path.join(dir, 'pids.max'), 'utf8').trim(), '7');
  assert.equal(await c.oomKilled(), false);
  await c.destroy();
  assert.ok(!existsSync(path.join(base, 'chrun')));
  assert.deepEqual(d.mounts(), { mode: 'v2', v1: [] });
});

test('hybrid: procs files for every hierarchy, cleanup deepest first, reopen by paths', async () => {
  const { d, base } = driver({ mode: 'hybrid' });
  const c = await d.create(
    'h1',
    spec({
      cgroupsPath: '/mine/deep/h1',
      resources: {
        memory: { limit: 1 << 26 },
        pids: { limit: 10 },
        devices: [{ allow: false, access: 'rwm' }],
      },
    }),
  );
  assert.equal(c.placement.cloneInto, undefined);
  assert.equal(c.placement.procs?.length, 4, 'memory, devices, pids and the unified one');
  assert.equal(c.deviceFilter, undefined, 'v1 enforces devices');
  assert.equal(c.placement.cleanup?.length, 4);
  assert.deepEqual(c.placement.cleanupParents, [], 'a user parent is never removed');
  c.manager.addProcess(321);
  const again = d.open(c.paths);
  assert.deepEqual(again.manager.dirs, c.manager.dirs);
  assert.deepEqual(again.manager.pids(), [321]);
  await again.destroy();
  for (const p of c.paths) assert.ok(!existsSync(p), p);
  assert.ok(existsSync(path.join(base, 'memory/mine/deep')), 'a user parent stays');
  assert.deepEqual(
    d.mounts().v1.map((m) => `${m.name}:${m.options}`),
    [
      'cpu,cpuacct:cpu,cpuacct',
      'cpuset:cpuset',
      'memory:memory',
      'devices:devices',
      'freezer:freezer',
      'blkio:blkio',
      'pids:pids',
      'systemd:name=systemd',
    ],
  );
});

test("a relative cgroupsPath lands under the runtime's own cgroup of each hierarchy", async () => {
  const { d, base } = driver(
    { mode: 'v1', v1Mounts: [['memory'], ['pids']] },
    '5:memory:/sess\n3:pids:/\n',
  );
  const c = await d.create(
    'r1',
    spec({ cgroupsPath: 'ctr/r1', resources: { memory: { limit: 1 << 26 }, pids: { limit: 9 } } }),
  );
  assert.deepEqual(c.paths, [
    path.join(base, 'memory/sess/ctr/r1'),
    path.join(base, 'pids/ctr/r1'),
  ]);
});

test('v1 and hybrid: directories only in the hierarchies the limits need', async () => {
  const hybrid = driver({ mode: 'hybrid' });
  const none = await hybrid.d.create('n1', spec());
  assert.deepEqual(none.paths, [path.join(hybrid.base, 'unified/chrun/n1')], 'tracking only');
  const cpu = await hybrid.d.create('c1', spec({ resources: { cpu: { shares: 512 } } }));
  assert.deepEqual(cpu.paths, [
    path.join(hybrid.base, 'cpu,cpuacct/chrun/c1'),
    path.join(hybrid.base, 'unified/chrun/c1'),
  ]);
  assert.equal(readFileSync(path.join(cpu.paths[0]!, 'cpu.shares'), 'utf8').trim(), '512');
  const memory = path.join(hybrid.base, 'memory/chrun');
  assert.ok(!existsSync(memory), 'no memory cgroup without a memory limit');
  await none.destroy();
  await cpu.destroy();
  const v1 = driver({ mode: 'v1' });
  const plain = await v1.d.create('p1', spec());
  // without a v2 hierarchy the freezer tracks the processes and lets kill freeze them
  assert.deepEqual(plain.paths, [path.join(v1.base, 'freezer/chrun/p1')]);
  const pids = await v1.d.create('p2', spec({ resources: { pids: { limit: 5 } } }));
  assert.deepEqual(pids.paths, [
    path.join(v1.base, 'freezer/chrun/p2'),
    path.join(v1.base, 'pids/chrun/p2'),
  ]);
  assert.deepEqual(v1.d.open(pids.paths).manager.dirs, pids.paths, 'reopened by its paths');
  await plain.destroy();
  await pids.destroy();
});

test('a refused limit removes what create made', async () => {
  const { d, base } = driver({ mode: 'v2' });
  await assert.rejects(
    d.create('bad', spec({ resources: { cpu: { quota: 10 } } })),
    /set cpu quota/,
  );
  assert.ok(!existsSync(path.join(base, 'chrun/bad')));
});

test('device rules on v2 are handed back as unenforced', async () => {
  const { d } = driver({ mode: 'v2' });
  const c = await d.create(
    'dev',
    spec({ resources: { devices: [{ allow: false, access: 'rwm' }] } }),
  );
  assert.deepEqual(c.applied.unenforcedDevices, [{ allow: false, access: 'rwm' }]);
  const f = c.deviceFilter;
  assert.ok(f !== undefined);
  assert.equal(f.cgroup, c.paths[0]);
  assert.equal(f.filter.defaultAllow, false);
  assert.equal(f.filter.instructions, 8);
  await c.destroy();
});

test("the driver has src/runtime's CgroupDriver shape", () => {
  const { d } = driver({ mode: 'v2' });
  // Compile-time check: this file stops building if the two drift apart.
  const asRuntime: RuntimeCgroupDriver = d;
  assert.equal(typeof asRuntime.open, 'function');
});
