import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCgroupLayout, unescapeMountPath } from '../../../src/cgroups/index.js';

const line = (id: number, mp: string, fs: string, opts: string) =>
  `${id} 1 0:${id} / ${mp} rw,relatime shared:${id} - ${fs} ${fs === 'cgroup2' ? 'cgroup2' : 'cgroup'} ${opts}`;

test('pure v2', () => {
  const l = parseCgroupLayout([line(30, '/sys/fs/cgroup', 'cgroup2', 'rw,nsdelegate')].join('\n'));
  assert.equal(l.mode, 'v2');
  assert.equal(l.unified, '/sys/fs/cgroup');
  assert.deepEqual(l.v1, {});
});

test('pure v1 with a named hierarchy', () => {
  const l = parseCgroupLayout(
    [
      line(31, '/sys/fs/cgroup/memory', 'cgroup', 'rw,memory'),
      line(32, '/sys/fs/cgroup/cpu,cpuacct', 'cgroup', 'rw,cpu,cpuacct'),
      line(33, '/sys/fs/cgroup/systemd', 'cgroup', 'rw,xattr,name=systemd'),
    ].join('\n'),
  );
  assert.equal(l.mode, 'v1');
  assert.equal(l.v1.memory, '/sys/fs/cgroup/memory');
  assert.equal(l.v1.cpu, '/sys/fs/cgroup/cpu,cpuacct');
  assert.equal(l.v1.cpuacct, '/sys/fs/cgroup/cpu,cpuacct');
  assert.equal(l.v1['name=systemd'], '/sys/fs/cgroup/systemd');
});

test('hybrid: v1 controllers plus a unified mount', () => {
  const l = parseCgroupLayout(
    [
      line(31, '/sys/fs/cgroup/pids', 'cgroup', 'rw,pids'),
      line(34, '/sys/fs/cgroup/unified', 'cgroup2', 'rw'),
    ].join('\n'),
  );
  assert.equal(l.mode, 'hybrid');
  assert.equal(l.unified, '/sys/fs/cgroup/unified');
});

test('only a named v1 hierarchy is not v1', () => {
  const l = parseCgroupLayout(line(33, '/x', 'cgroup', 'rw,name=systemd'));
  assert.equal(l.mode, 'none');
});

test('mountinfo octal escapes', () => {
  assert.equal(unescapeMountPath('/a\\040b\\011c\\134d'), '/a b\tc\\d');
});
