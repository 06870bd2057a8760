import assert from 'node:assert/strict';
import { test } from 'node:test';
import { containerCgroupPath, hierarchyDir, parseProcCgroup } from '../../../src/cgroups/index.js';

const procSelf = `9:name=systemd:/user.slice
4:memory:/process_api/abc
2:cpu,cpuacct:/
0::/init.scope
`;

test('parse /proc/self/cgroup', () => {
  const e = parseProcCgroup(procSelf);
  assert.equal(e.length, 4);
  assert.deepEqual(e[1], { id: 4, controllers: ['memory'], path: '/process_api/abc' });
  assert.deepEqual(e[3], { id: 0, controllers: [], path: '/init.scope' });
});

test('container cgroup path: default, absolute, relative, cleaned', () => {
  assert.equal(containerCgroupPath('abc'), '/chrun/abc');
  assert.equal(containerCgroupPath('abc', undefined, '/mine'), '/mine/abc');
  assert.equal(containerCgroupPath('abc', '/x/y'), '/x/y');
  assert.equal(containerCgroupPath('abc', '/x/../../y'), '/y');
  assert.equal(containerCgroupPath('abc', 'x/../../y'), 'y');
  assert.throws(() => containerCgroupPath('abc', '/'), /the root/);
  assert.throws(() => containerCgroupPath('abc', 'system.slice:chrun:abc'), /systemd/);
});

test('hierarchy dir: absolute from the mount, relative from own cgroup', () => {
  const own = parseProcCgroup(procSelf);
  assert.equal(
    hierarchyDir('/sys/fs/cgroup/memory', ['memory'], '/chrun/a', own),
    '/sys/fs/cgroup/memory/chrun/a',
  );
  assert.equal(
    hierarchyDir('/sys/fs/cgroup/memory', ['memory'], 'chrun/a', own),
    '/sys/fs/cgroup/memory/process_api/abc/chrun/a',
  );
  assert.equal(
    hierarchyDir('/sys/fs/cgroup/unified', [], 'a', own),
    '/sys/fs/cgroup/unified/init.scope/a',
  );
  assert.equal(
    hierarchyDir('/sys/fs/cgroup/systemd', ['name=systemd'], 'a', own),
    '/sys/fs/cgroup/systemd/user.slice/a',
  );
  assert.equal(hierarchyDir('/sys/fs/cgroup/pids', ['pids'], 'a', own), '/sys/fs/cgroup/pids/a');
});
