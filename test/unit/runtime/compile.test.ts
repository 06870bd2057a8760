import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Spec } from '../../../src/oci/index.js';
import { compilePlan, type CompileInput } from '../../../src/runtime/compile.js';
import { CLONE, MS, describeStep, type PlanStep } from '../../../src/sys/index.js';
import { defaultSpec } from '../../helpers/busybox-bundle.js';
import { isChrunError } from '../../../src/util/index.js';

function compile(spec: Spec, extra: Partial<CompileInput> = {}): PlanStep[] {
  return [...compilePlan({ spec, rootfs: '/b/rootfs', attached: true, ...extra })];
}

const ops = (p: PlanStep[]): string[] => p.map((s) => s.op);
const idx = (p: PlanStep[], pred: (s: PlanStep) => boolean): number => p.findIndex(pred);

test('full isolation: clone flags from the namespaces, host steps first, exec last', () => {
  const p = compile(defaultSpec(['true']));
  const clone = p[0];
  assert.ok(clone?.op === 'clone');
  assert.equal(
    clone.flags,
    CLONE.NEWPID | CLONE.NEWNET | CLONE.NEWIPC | CLONE.NEWUTS | CLONE.NEWNS | CLONE.NEWCGROUP,
  );
  assert.equal(p.at(-1)?.op, 'exec');
  const exec = p.at(-1);
  assert.deepEqual(exec?.op === 'exec' && [exec.file, exec.searchPath], [
    'true',
    '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  ]);
});

test('mount order: propagation, root bind, spec mounts, devices, pivot, then paths inside', () => {
  const p = compile(defaultSpec(['true']));
  const o = ops(p);
  const first = p[1];
  assert.ok(first?.op === 'mount' && first.target === '/' && first.flags === (MS.SLAVE | MS.REC));
  const bind = p[2];
  assert.ok(
    bind?.op === 'mount' && bind.flags === (MS.BIND | MS.REC) && bind.source === '/b/rootfs',
  );
  assert.equal(o[3], 'rootfs');
  const proc = idx(p, (s) => s.op === 'mount' && s.fstype === 'proc');
  const pivot = o.indexOf('pivot-root');
  assert.ok(proc > 3 && proc < pivot);
  assert.ok(o.indexOf('mknod') < pivot && o.indexOf('symlink') < pivot);
  for (const op of ['mask', 'readonly', 'hostname']) assert.ok(o.indexOf(op) > pivot, op);
  // devpts is there, so /dev/ptmx points into it
  assert.ok(p.some((s) => s.op === 'symlink' && s.path === '/dev/ptmx' && s.target === 'pts/ptmx'));
  // the read-only root comes after the working dir is created
  const ro = idx(p, (s) => s.op === 'mount' && s.target === '/' && (s.flags & MS.REMOUNT) !== 0);
  assert.ok(ro > o.indexOf('mkdir'));
  // a read-only sysfs mount: ro is a flag, the rest is data
  const sys = p.find((s) => s.op === 'mount' && s.fstype === 'sysfs');
  assert.ok(sys?.op === 'mount' && (sys.flags & MS.RDONLY) !== 0 && sys.data === '');
  const dev = p.find((s) => s.op === 'mount' && s.target === '/dev');
  assert.ok(
    dev?.op === 'mount' &&
      dev.data === 'mode=755,size=65536k' &&
      dev.flags === (MS.NOSUID | MS.STRICTATIME),
  );
});

test('privileges: sysctl before read-only /proc/sys; ids then caps; seccomp last with no_new_privs', () => {
  const spec = defaultSpec(['true']);
  spec.process!.user = { uid: 1000, gid: 1000, additionalGids: [10, 10, 20] };
  spec.linux!.sysctl = { 'net.ipv4.ip_forward': '1' };
  spec.linux!.seccomp = {
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }],
  };
  const rules = {
    defaultAction: 0x7fff0000,
    flags: 0,
    architectures: [],
    rules: [{ syscall: 'mkdir', action: 0x50001, args: [] }],
  };
  const p = compile(spec, {
    seccompBpf: Buffer.alloc(8),
    seccompRules: rules,
    execFifo: '/s/exec.fifo',
  });
  const o = ops(p);
  const sysctl = idx(p, (s) => s.op === 'write-file' && s.path === '/proc/sys/net/ipv4/ip_forward');
  const roSys = idx(p, (s) => s.op === 'readonly' && s.path === '/proc/sys');
  assert.ok(sysctl >= 0 && sysctl < roSys);
  assert.ok(o.indexOf('caps-bounding') < o.indexOf('keepcaps'));
  assert.ok(o.indexOf('keepcaps') < o.indexOf('setuid') && o.indexOf('setuid') < o.indexOf('caps'));
  assert.ok(o.indexOf('pdeathsig') > o.indexOf('setuid'), 'pdeathsig is set again after setuid');
  const g = p.find((s) => s.op === 'setgroups');
  assert.deepEqual(g?.op === 'setgroups' && g.gids, [10, 20]);
  // fifo: host side first, wait late; with no_new_privs seccomp comes right before exec
  assert.equal(o[0], 'fifo');
  assert.deepEqual(o.slice(-4), ['ready', 'fifo-wait', 'seccomp-bpf', 'exec']);
});

test('a cached seccomp program above 4096 instructions is refused, naming its length', () => {
  const spec = defaultSpec(['true']);
  spec.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW' };
  const rules = { defaultAction: 0x7fff0000, flags: 0, architectures: [], rules: [] };
  assert.ok(compile(spec, { seccompBpf: Buffer.alloc(4096 * 8), seccompRules: rules }));
  assert.throws(
    () => compile(spec, { seccompBpf: Buffer.alloc(4097 * 8), seccompRules: rules }),
    (e: unknown) =>
      isChrunError(e, 'CHRUN_INVALID_ARGUMENT') &&
      /is 4097 BPF instructions, above the kernel's limit of 4096/.test(e.message),
  );
});

test('without no_new_privs, seccomp is loaded while CAP_SYS_ADMIN is still there', () => {
  const spec = defaultSpec(['true']);
  spec.process!.noNewPrivileges = false;
  spec.linux!.seccomp = {
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }],
  };
  const rules = {
    defaultAction: 0x7fff0000,
    flags: 0,
    architectures: [],
    rules: [{ syscall: 'mkdir', action: 0x50001, args: [] }],
  };
  const o = ops(compile(spec, { seccompRules: rules }));
  assert.ok(o.indexOf('seccomp-rules') < o.indexOf('caps-bounding'));
  assert.ok(!o.includes('no-new-privs'));
});

test('chroot isolation: no namespaces, no mounts, a chroot', () => {
  const spec = defaultSpec(['true']);
  spec.linux = {};
  spec.mounts = [];
  delete spec.hostname;
  const p = compile(spec);
  assert.ok(p[0]?.op === 'clone' && p[0].flags === 0);
  assert.deepEqual(
    ops(p).filter((o) => ['mount', 'pivot-root', 'mknod', 'mask'].includes(o)),
    [],
  );
  assert.ok(p.some((s) => s.op === 'chroot' && s.path === '/b/rootfs'));
  spec.mounts = [{ destination: '/proc', type: 'proc' }];
  assert.throws(() => compile(spec), /mounts need a mount namespace/);
});

test('user namespace: maps written by the host side, setgroups denied, devices bound', () => {
  const spec = defaultSpec(['true']);
  spec.linux!.namespaces!.push({ type: 'user' });
  spec.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  spec.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  const p = compile(spec);
  const o = ops(p);
  assert.ok(
    o.indexOf('uid-map') < o.indexOf('setgroups-deny') &&
      o.indexOf('setgroups-deny') < o.indexOf('gid-map'),
  );
  assert.ok(!o.includes('mknod') && !o.includes('setgroups'));
  assert.ok(p.some((s) => s.op === 'mount' && s.source === '/dev/null' && s.mkfile === true));
  const map = p.find((s) => s.op === 'uid-map');
  assert.equal(map?.op === 'uid-map' && map.map, '0 100000 65536\n');
  delete spec.linux!.gidMappings;
  assert.throws(() => compile(spec), /uidMappings and linux.gidMappings/);
});

test('devices: a relative or root path is refused, a messy absolute one normalized', () => {
  for (const bad of ['dev/foo', 'foo', '/', '/dev/..', '']) {
    const spec = defaultSpec(['true']);
    spec.linux!.devices = [{ path: bad, type: 'c', major: 1, minor: 3 }];
    assert.throws(
      () => compile(spec),
      (e: unknown) =>
        isChrunError(e, 'CHRUN_INVALID_ARGUMENT') &&
        e.message === `config.json: linux.devices: path '${bad}' must be an absolute path below /`,
      bad,
    );
  }
  const spec = defaultSpec(['true']);
  spec.linux!.devices = [{ path: '/dev//sub/../fuse', type: 'c', major: 10, minor: 229 }];
  const p = compile(spec);
  assert.ok(p.some((s) => s.op === 'mknod' && s.path === '/dev/fuse'));
});

test('exec into a container: setns in order (user first, mount last), fork for pid, no root setup', () => {
  const spec = defaultSpec(['ps']);
  spec.linux!.namespaces = spec.linux!.namespaces!.map((n) => ({
    ...n,
    path: `/proc/7/ns/${n.type}`,
  }));
  const p = compile(spec, { exec: true, cgroup: { procs: ['/cg/cgroup.procs'] } });
  const o = ops(p);
  const joins = p.flatMap((s) => (s.op === 'setns' ? [s.path] : []));
  assert.equal(joins.at(-1), '/proc/7/ns/mount');
  assert.ok(o.indexOf('fork') > o.lastIndexOf('setns'));
  for (const op of ['pivot-root', 'mknod', 'mask', 'hostname', 'rootfs'])
    assert.ok(!o.includes(op), op);
  assert.ok(p[0]?.op === 'clone' && p[0].flags === 0);
  assert.equal(o[1], 'cgroup-join');
});

test('bind mounts: a file target for a file source, a remount for options, propagation', () => {
  const spec = defaultSpec(['true']);
  spec.mounts!.push(
    {
      destination: '/data',
      type: 'bind',
      source: '/srv/data',
      options: ['rbind', 'ro', 'rprivate'],
    },
    { destination: '/etc/hosts', type: 'bind', source: 'hosts', options: ['bind'] },
  );
  const p = compile(spec, { bindSourceIsFile: (s) => s.endsWith('hosts') });
  const data = p.filter((s) => s.op === 'mount' && s.target === '/data');
  assert.equal(data.length, 3);
  assert.ok(
    data[0]?.op === 'mount' && data[0].flags === (MS.BIND | MS.REC) && data[0].mkdir === true,
  );
  assert.ok(data[1]?.op === 'mount' && data[1].flags === (MS.BIND | MS.REMOUNT | MS.RDONLY));
  assert.ok(data[2]?.op === 'mount' && data[2].flags === (MS.PRIVATE | MS.REC));
  const hosts = p.find((s) => s.op === 'mount' && s.target === '/etc/hosts');
  assert.ok(hosts?.op === 'mount' && hosts.source === '/b/hosts' && hosts.mkfile === true);
});

test('an overlay root from the snapshotter is mounted inside the container', () => {
  const p = compile(defaultSpec(['true']), {
    rootMounts: [
      {
        type: 'overlay',
        source: 'overlay',
        options: ['lowerdir=/l1:/l2', 'upperdir=/u', 'workdir=/w'],
      },
    ],
  });
  const root = p[2];
  assert.ok(
    root?.op === 'mount' &&
      root.fstype === 'overlay' &&
      root.target === '/b/rootfs' &&
      !root.inRoot,
  );
  assert.equal(root.data, 'lowerdir=/l1:/l2,upperdir=/u,workdir=/w');
  // many layers: short relative lowerdirs after a chdir, as the snapshotter plans them
  const lowers = Array.from({ length: 120 }, (_v, i) => `/var/lib/chrun/snapshots/layers/${i}/fs`);
  const long = compile(defaultSpec(['true']), {
    rootMounts: [
      {
        type: 'overlay',
        source: 'overlay',
        options: [`lowerdir=${lowers.join(':')}`, 'upperdir=/u', 'workdir=/w'],
      },
    ],
  });
  const chdir = long.findIndex((s) => s.op === 'chdir');
  const mount = long[chdir + 1];
  assert.ok(
    chdir > 0 && mount?.op === 'mount' && mount.fstype === 'overlay' && mount.data.length < 4096,
  );
});

test('bad specs are refused with one clear line', () => {
  const cases: [(s: Spec) => void, RegExp][] = [
    [(s) => (s.process!.args = []), /process.args must name a command/],
    [(s) => (s.process!.cwd = 'rel'), /process.cwd rel must be absolute/],
    [(s) => s.linux!.namespaces!.push({ type: 'pid' }), /namespace pid is listed twice/],
    [(s) => (s.linux!.namespaces = [{ type: 'mount' }]), /hostname needs a uts namespace/],
    [
      (s) => (s.process!.capabilities!.bounding = ['CAP_NOPE']),
      /unknown capability CAP_NOPE in bounding/,
    ],
    [
      (s) => (s.process!.rlimits = [{ type: 'RLIMIT_NOPE', soft: 1, hard: 1 }]),
      /unknown rlimit RLIMIT_NOPE/,
    ],
    [
      (s) => (s.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 10, hard: 5 }]),
      /soft limit 10 above hard limit 5/,
    ],
    [(s) => (s.linux!.sysctl = { '../../etc': 'x' }), /bad sysctl name/],
    [
      (s) => {
        s.process!.terminal = true;
        s.mounts = s.mounts!.filter((m) => m.destination !== '/dev/pts');
      },
      /needs a devpts mount/,
    ],
  ];
  for (const [mutate, re] of cases) {
    const spec = defaultSpec(['true']);
    mutate(spec);
    assert.throws(
      () => compile(spec),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, 'CHRUN_INVALID_ARGUMENT');
        assert.match(err.message, re);
        assert.ok(!err.message.includes('\n'));
        return true;
      },
    );
  }
});

test('every step has words for errors and --explain', () => {
  const spec = defaultSpec(['true']);
  for (const s of compile(spec, { execFifo: '/f', init: true })) {
    const w = describeStep(s);
    assert.match(w, /^[a-z]/, `${s.op}: ${w}`);
  }
  const proc = compile(spec).find((s) => s.op === 'mount' && s.fstype === 'proc');
  assert.equal(proc && describeStep(proc), 'mount proc on /proc');
});

test('a new network namespace gets lo up inside; orphan unmounts and trees come in order', () => {
  const p = compile(defaultSpec(['true']), {
    orphanUnmounts: ['/m/rootfs'],
    orphanTrees: ['/s/layer', '/s/record'],
    orphanFiles: ['/run/x/state.json'],
  });
  const o = ops(p);
  assert.equal(o.filter((x) => x === 'loopback-up').length, 1);
  assert.ok(o.indexOf('loopback-up') > o.indexOf('pivot-root'));
  assert.ok(o.indexOf('loopback-up') < o.indexOf('caps'));
  assert.deepEqual(
    p.filter((s) => s.op.startsWith('orphan-')).map((s) => `${s.op} ${'path' in s ? s.path : ''}`),
    [
      'orphan-umount /m/rootfs',
      'orphan-unlink /run/x/state.json',
      'orphan-rmtree /s/layer',
      'orphan-rmtree /s/record',
    ],
  );
  const spec = defaultSpec(['true']);
  spec.linux!.namespaces = spec.linux!.namespaces!.filter((n) => n.type !== 'network');
  assert.ok(!ops(compile(spec)).includes('loopback-up'), 'no new netns, lo is left alone');
});

test('v1 cgroups joined after the clone: the cgroup namespace is made once they are', () => {
  const p = compile(defaultSpec(['true']), {
    cgroup: { procs: ['/sys/fs/cgroup/pids/c1/cgroup.procs'] },
  });
  const clone = p[0];
  assert.ok(clone?.op === 'clone' && (clone.flags & CLONE.NEWCGROUP) === 0);
  assert.ok(clone.what?.includes('new namespaces: pid, network, ipc, uts, mount)'), clone.what);
  const o = ops(p);
  const unshare = p.find((s) => s.op === 'unshare');
  assert.ok(unshare?.op === 'unshare' && unshare.flags === CLONE.NEWCGROUP);
  // the first container-side step: before any cgroup mount shows the hierarchy
  assert.ok(o.indexOf('unshare') > o.indexOf('cgroup-join'));
  assert.ok(o.indexOf('unshare') < o.indexOf('mount'));
  // cgroup v2 clones straight into the cgroup: the namespace comes with the clone
  const v2 = compile(defaultSpec(['true']), { cgroup: { cloneInto: '/sys/fs/cgroup/c1' } });
  assert.ok(v2[0]?.op === 'clone' && (v2[0].flags & CLONE.NEWCGROUP) !== 0);
  assert.ok(!ops(v2).includes('unshare'));
});
