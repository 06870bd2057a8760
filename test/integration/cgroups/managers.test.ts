import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CgroupDriver,
  createCgroupManager,
  detectCgroupLayout,
  type CgroupLayout,
  type CgroupManager,
} from '../../../src/cgroups/index.js';
import { testNoLeaks } from '../../helpers/leak-check.js';
import { needsRootAnd } from '../../helpers/requirements.js';

const MiB = 1024 * 1024;
const skip = needsRootAnd('busybox');
const read = (file: string): string => readFileSync(file, 'utf8').trim();
let counter = 0;
const uniqueId = (): string => `it-${process.pid}-${++counter}`;

let layoutCache: CgroupLayout | undefined;
async function manager(): Promise<CgroupManager> {
  layoutCache ??= await detectCgroupLayout();
  return createCgroupManager({ layout: layoutCache, path: `/chrun/${uniqueId()}` });
}

/**
 * A busybox shell that waits for a line on stdin before running `script`, so the test can
 * put it into the cgroup first, as the runtime does with a child waiting on its sync pipe.
 */
function waitingShell(script: string): ChildProcess & { stderrText: () => string } {
  const child = spawn('busybox', ['sh', '-c', `read go; ${script}`], {
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return Object.assign(child, { stderrText: () => err });
}

async function exitOf(
  child: ChildProcess,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null)
    return { code: child.exitCode, signal: child.signalCode };
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  return { code, signal };
}

testNoLeaks(
  'limits are written, read back by the kernel, and the cgroup goes away',
  { skip },
  async (t) => {
    const cg = await manager();
    t.after(() => cg.destroy());
    const resources = {
      memory: { limit: 64 * MiB, swap: 64 * MiB, reservation: 32 * MiB },
      cpu: { shares: 512, quota: 50000, period: 100000, cpus: '0', mems: '0' },
      pids: { limit: 32 },
      devices: [
        { allow: false, access: 'rwm' },
        { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
      ],
    };
    cg.create(resources);
    const res = cg.apply(resources);
    assert.deepEqual(res.unenforcedDevices, []);
    const dir = (controller: string): string => cg.dirs.find((d) => d.includes(`/${controller}/`))!;
    if (cg.mode === 'v2') {
      assert.equal(read(path.join(cg.dirs[0]!, 'memory.max')), String(64 * MiB));
      assert.equal(read(path.join(cg.dirs[0]!, 'cpu.max')), '50000 100000');
    } else {
      assert.equal(read(path.join(dir('memory'), 'memory.limit_in_bytes')), String(64 * MiB));
      assert.equal(read(path.join(dir('memory'), 'memory.soft_limit_in_bytes')), String(32 * MiB));
      assert.equal(read(path.join(dir('cpu'), 'cpu.shares')), '512');
      assert.equal(read(path.join(dir('cpu'), 'cpu.cfs_quota_us')), '50000');
      assert.equal(read(path.join(dir('cpuset'), 'cpuset.cpus')), '0');
      assert.equal(read(path.join(dir('pids'), 'pids.max')), '32');
      assert.equal(read(path.join(dir('devices'), 'devices.list')), 'c 1:3 rwm');
    }
    const child = waitingShell('exit 7');
    cg.addProcess(child.pid!);
    for (const file of cg.placement().procsFiles)
      assert.ok(read(file).split('\n').includes(String(child.pid)), file);
    assert.deepEqual(cg.pids(), [child.pid]);
    const stats = cg.stats();
    assert.equal(stats.memory?.limit, 64 * MiB);
    assert.equal(stats.pids?.current, 1);
    child.stdin!.end('go\n');
    assert.deepEqual(await exitOf(child), { code: 7, signal: null });
    assert.equal(cg.oomKilled(), false);
    await cg.destroy();
    for (const d of cg.dirs) assert.ok(!existsSync(d), `${d} removed`);
  },
);

testNoLeaks(
  'a memory hog is OOM-killed at its limit and the kill is reported',
  { skip },
  async (t) => {
    const cg = await manager();
    t.after(() => cg.destroy());
    const resources = { memory: { limit: 16 * MiB, swap: 16 * MiB } };
    cg.create(resources);
    cg.apply(resources);
    // dd's 64 MiB buffer is touched page by page as /dev/zero is read into it.
    const hog = waitingShell('exec busybox dd if=/dev/zero of=/dev/null bs=64M count=1');
    cg.addProcess(hog.pid!);
    hog.stdin!.end('go\n');
    assert.deepEqual(await exitOf(hog), { code: null, signal: 'SIGKILL' });
    assert.equal(cg.oomKilled(), true);
    assert.ok(cg.oom().oomKills >= 1);
    const peak = cg.stats().memory?.peak ?? 0;
    assert.ok(peak <= 16 * MiB && peak > 8 * MiB, `peak ${peak} stays at the limit`);
  },
);

testNoLeaks('a fork loop stops at the pids limit and the host stays fine', { skip }, async (t) => {
  const cg = await manager();
  t.after(() => cg.destroy());
  const resources = { pids: { limit: 5 } };
  cg.create(resources);
  cg.apply(resources);
  const loop = waitingShell(
    'i=0; while [ $i -lt 50 ]; do busybox sleep 60 & i=$((i+1)); done; wait',
  );
  cg.addProcess(loop.pid!);
  loop.stdin!.end('go\n');
  const { code } = await exitOf(loop);
  assert.notEqual(code, 0);
  assert.match(loop.stderrText(), /can't fork: Resource temporarily unavailable/);
  const pids = cg.pids();
  assert.ok(pids.length <= 5 && pids.length >= 4, `${pids.length} sleepers left, the limit held`);
  if (cg.mode !== 'v2') {
    const pidsDir = cg.dirs.find((d) => d.includes('/pids/'))!;
    assert.match(read(path.join(pidsDir, 'pids.events')), /^max [1-9]/);
  }
  await cg.kill();
  for (let i = 0; i < 200 && cg.pids().length > 0; i++) await sleep(5);
  assert.deepEqual(cg.pids(), [], 'every sleeper killed');
});

testNoLeaks(
  'kill reaches a whole process tree with SIGTERM (freezer) and SIGKILL',
  { skip },
  async (t) => {
    const cg = await manager();
    t.after(() => cg.destroy());
    cg.create();
    cg.apply({});
    const tree = waitingShell('busybox sleep 60 & busybox sleep 60 & wait');
    cg.addProcess(tree.pid!);
    tree.stdin!.end('go\n');
    for (let i = 0; i < 200 && cg.pids().length < 3; i++) await sleep(5);
    assert.equal(cg.pids().length, 3);
    await cg.kill('SIGTERM');
    assert.deepEqual(await exitOf(tree), { code: null, signal: 'SIGTERM' });
    for (let i = 0; i < 200 && cg.pids().length > 0; i++) await sleep(5);
    assert.deepEqual(cg.pids(), []);
    const again = waitingShell('busybox sleep 60');
    cg.addProcess(again.pid!);
    again.stdin!.end('go\n');
    await cg.kill();
    assert.deepEqual(await exitOf(again), { code: null, signal: 'SIGKILL' });
  },
);

testNoLeaks(
  'destroy kills what is still running before removing the cgroup',
  { skip },
  async () => {
    const cg = await manager();
    cg.create();
    const sleeper = waitingShell('busybox sleep 60');
    cg.addProcess(sleeper.pid!);
    sleeper.stdin!.end('go\n');
    await cg.destroy();
    assert.deepEqual(await exitOf(sleeper), { code: null, signal: 'SIGKILL' });
    for (const d of cg.dirs) assert.ok(!existsSync(d), `${d} removed`);
  },
);

testNoLeaks(
  'hugetlb limits go to the unified hierarchy when v1 lacks the controller',
  { skip },
  async (t) => {
    const layout = (layoutCache ??= await detectCgroupLayout());
    if (layout.mode !== 'hybrid' || layout.v1.hugetlb !== undefined) {
      t.skip('needs a hybrid host whose hugetlb controller is on the unified mount');
      return;
    }
    const rootControl = path.join(layout.unified!, 'cgroup.subtree_control');
    const before = read(rootControl);
    const cg = await manager();
    t.after(() => cg.destroy());
    // The manager enables hugetlb at the root for the container; put the root back after.
    if (!before.split(' ').includes('hugetlb'))
      t.after(() => writeFileSync(rootControl, '-hugetlb'));
    const resources = { hugepageLimits: [{ pageSize: '2MB', limit: 4 * 2 * MiB }] };
    cg.create(resources);
    cg.apply(resources);
    const unified = cg.dirs.find((d) => d.startsWith(layout.unified!))!;
    assert.equal(read(path.join(unified, 'hugetlb.2MB.max')), String(8 * MiB));
  },
);

testNoLeaks(
  'the runtime driver makes cgroups from a spec and reopens them by path',
  { skip },
  async () => {
    const driver = new CgroupDriver();
    const id = uniqueId();
    const c = await driver.create(id, {
      ociVersion: '1.2.0',
      linux: { resources: { memory: { limit: 32 * MiB }, pids: { limit: 16 } } },
    });
    assert.ok(c.paths.every((p) => p.endsWith(`/chrun/${id}`)));
    const child = waitingShell('exit 3');
    for (const file of c.placement.procs ?? []) writeFileSync(file, String(child.pid));
    if (c.placement.cloneInto !== undefined) c.manager.addProcess(child.pid!);
    const reopened = driver.open(c.paths);
    assert.deepEqual(reopened.manager.pids(), [child.pid]);
    assert.equal(reopened.manager.stats().pids?.limit, 16);
    child.stdin!.end('go\n');
    assert.deepEqual(await exitOf(child), { code: 3, signal: null });
    assert.equal(await reopened.oomKilled(), false);
    await reopened.destroy();
    for (const p of c.paths) assert.ok(!existsSync(p), p);
  },
);
