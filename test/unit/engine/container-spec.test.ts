import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  containerCommand,
  containerSpec,
  type HostFacts,
  type SpecInput,
} from '../../../src/engine/index.js';
import { DEFAULT_CAPABILITIES, RLIM_INFINITY } from '../../../src/oci/index.js';
import { isChrunError } from '../../../src/util/index.js';

const ALL_CAPS = [...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN', 'CAP_NET_ADMIN', 'CAP_SYS_MODULE'];

const host: HostFacts = {
  capabilities: ALL_CAPS,
  kernel: '6.1.0',
  arch: 'amd64',
  cpus: 2,
  hostname: 'the-host',
  limits: new Map([['RLIMIT_NOFILE', { soft: 1024, hard: 20000 }]]),
  canRaise: false,
};

const ID = 'abcdef0123456789'.repeat(4);

function input(extra: Partial<SpecInput> = {}): SpecInput {
  return {
    id: ID,
    rootfs: '/var/lib/chrun/snapshots/containers/x/rootfs',
    image: {
      Entrypoint: ['/docker-entrypoint.sh'],
      Cmd: ['serve', '--port', '80'],
      Env: ['PATH=/app/bin:/bin', 'LANG=C.UTF-8'],
      WorkingDir: '/app',
    },
    options: {},
    user: { uid: 0, gid: 0, additionalGids: [0, 10], home: '/root' },
    host,
    ...extra,
  };
}

test('the command: Entrypoint + Cmd, COMMAND replaces Cmd, --entrypoint clears Cmd', () => {
  const image = { Entrypoint: ['/e'], Cmd: ['c1', 'c2'] };
  assert.deepEqual(containerCommand(image, {}), ['/e', 'c1', 'c2']);
  assert.deepEqual(containerCommand(image, { command: ['x', 'y'] }), ['/e', 'x', 'y']);
  assert.deepEqual(containerCommand(image, { entrypoint: '/other' }), ['/other']);
  assert.deepEqual(containerCommand(image, { entrypoint: '/other', command: ['a'] }), [
    '/other',
    'a',
  ]);
  assert.deepEqual(containerCommand(image, { entrypoint: '', command: ['ls'] }), ['ls']);
  assert.deepEqual(containerCommand(image, { entrypoint: ['/a', '-b'] }), ['/a', '-b']);
  assert.deepEqual(containerCommand({ Cmd: null, Entrypoint: null }, {}), []);
  assert.throws(
    () => containerSpec(input({ image: {}, options: {} })),
    (e: unknown) =>
      isChrunError(e, 'CHRUN_INVALID_ARGUMENT') && e.message === 'no command specified',
  );
});

test("full isolation by default: docker's namespaces, mounts, security and limits", () => {
  const { spec, warnings, hostDirs } = containerSpec(input());
  assert.deepEqual(warnings, []);
  assert.deepEqual(hostDirs, []);
  const p = spec.process!;
  assert.deepEqual(p.args, ['/docker-entrypoint.sh', 'serve', '--port', '80']);
  assert.equal(p.cwd, '/app');
  assert.equal(p.terminal, false);
  assert.deepEqual(p.user, { uid: 0, gid: 0, additionalGids: [0, 10] });
  // PATH from the image replaces the default in place; HOSTNAME; HOME from /etc/passwd
  assert.deepEqual(p.env, [
    'PATH=/app/bin:/bin',
    `HOSTNAME=${ID.slice(0, 12)}`,
    'LANG=C.UTF-8',
    'HOME=/root',
  ]);
  assert.equal(spec.hostname, ID.slice(0, 12));
  assert.deepEqual(spec.linux!.namespaces!.map((n) => n.type).sort(), [
    'cgroup',
    'ipc',
    'mount',
    'network',
    'pid',
    'uts',
  ]);
  assert.deepEqual(
    spec.mounts!.map((m) => m.destination),
    ['/proc', '/dev', '/dev/pts', '/sys', '/sys/fs/cgroup', '/dev/mqueue', '/dev/shm'],
  );
  assert.ok(spec.mounts!.find((m) => m.destination === '/sys')!.options!.includes('ro'));
  assert.deepEqual([...p.capabilities!.bounding!].sort(), [...DEFAULT_CAPABILITIES].sort());
  assert.equal(p.noNewPrivileges, true);
  assert.ok(spec.linux!.seccomp !== undefined && spec.linux!.seccomp.syscalls!.length > 10);
  assert.ok(spec.linux!.maskedPaths!.includes('/proc/kcore'));
  assert.ok(spec.linux!.readonlyPaths!.includes('/proc/sys'));
  assert.equal(spec.root!.readonly, false);
  // docker's default nofile (1024:524288), its hard limit clamped to what this host allows
  assert.deepEqual(p.rlimits, [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 20000 }]);
  // deny everything, then the default devices
  assert.deepEqual(spec.linux!.resources!.devices![0], { allow: false, access: 'rwm' });
});

test('the flags: env, env files, workdir, hostname, tty, volumes, tmpfs, read-only, host network', () => {
  const { spec, hostDirs } = containerSpec(
    input({
      envFiles: ['FROMFILE=1', 'LANG=from-file'],
      etc: { hostname: '/s/hostname', hosts: '/s/hosts', resolvConf: '/s/resolv.conf' },
      options: {
        env: ['LANG=from-flag', 'X=1', 'FROMHOST', 'NOTSET'],
        workdir: '/work/dir',
        hostname: 'web1',
        tty: true,
        volumes: ['/srv/data:/data:ro', '/srv/a:/data/a'],
        tmpfs: ['/run:size=1m', '/dev/shm:size=2m'],
        readOnly: true,
        network: 'host',
      },
      lookupEnv: (n) => (n === 'FROMHOST' ? 'yes' : undefined),
    }),
  );
  const p = spec.process!;
  assert.deepEqual(p.env, [
    'PATH=/app/bin:/bin',
    'HOSTNAME=web1',
    'TERM=xterm',
    'LANG=from-flag',
    'FROMFILE=1',
    'X=1',
    'FROMHOST=yes',
    'HOME=/root',
  ]);
  assert.equal(p.cwd, '/work/dir');
  assert.equal(p.terminal, true);
  assert.equal(spec.hostname, 'web1');
  assert.equal(spec.root!.readonly, true);
  assert.ok(!spec.linux!.namespaces!.some((n) => n.type === 'network'));
  assert.deepEqual(hostDirs, ['/srv/data', '/srv/a']);
  const dests = spec.mounts!.map((m) => m.destination);
  // --tmpfs /dev/shm replaces docker's; parents before children
  assert.equal(dests.filter((d) => d === '/dev/shm').length, 1);
  assert.ok(dests.indexOf('/data') < dests.indexOf('/data/a'));
  assert.deepEqual(dests.slice(6, 9), ['/etc/hostname', '/etc/hosts', '/etc/resolv.conf']);
  const shm = spec.mounts!.find((m) => m.destination === '/dev/shm')!;
  assert.deepEqual(shm.options, ['noexec', 'nosuid', 'nodev', 'size=2m']);
  // host network: the host's hostname unless -h
  const h = containerSpec(input({ options: { network: 'host' } }));
  assert.equal(h.spec.hostname, 'the-host');
});

test('security flags: --cap-add/--cap-drop, --security-opt, --privileged', () => {
  const caps = containerSpec(
    input({ options: { capAdd: ['NET_ADMIN'], capDrop: ['CHOWN', 'cap_kill'] } }),
  ).spec.process!.capabilities!.bounding!;
  assert.ok(caps.includes('CAP_NET_ADMIN'));
  assert.ok(!caps.includes('CAP_CHOWN') && !caps.includes('CAP_KILL'));
  const unconfined = containerSpec(input({ options: { securityOpt: ['seccomp=unconfined'] } }));
  assert.equal(unconfined.spec.linux!.seccomp, undefined);
  const custom = containerSpec(
    input({
      options: { securityOpt: ['seccomp=/p.json'] },
      seccompProfile: { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [] },
    }),
  );
  assert.equal(custom.spec.linux!.seccomp!.defaultAction, 'SCMP_ACT_ERRNO');
  const priv = containerSpec(input({ options: { privileged: true } })).spec;
  assert.deepEqual([...priv.process!.capabilities!.bounding!].sort(), [...ALL_CAPS].sort());
  assert.equal(priv.linux!.seccomp, undefined);
  assert.deepEqual(priv.linux!.maskedPaths, []);
  assert.ok(priv.mounts!.find((m) => m.destination === '/sys')!.options!.includes('rw'));
  assert.equal(priv.process!.noNewPrivileges, false);
  assert.throws(() => containerSpec(input({ options: { capAdd: ['BOGUS'] } })), /BOGUS/i);
});

test('limits: memory, swap, cpus, shares, pids, ulimits', () => {
  const { spec } = containerSpec(
    input({
      options: {
        memory: '64m',
        memorySwap: '128m',
        cpus: '1.5',
        cpuShares: 512,
        pidsLimit: 20,
        ulimits: ['nproc=100:200', 'core=-1'],
      },
    }),
  );
  const r = spec.linux!.resources!;
  assert.deepEqual(r.memory, { limit: 64 << 20, swap: 128 << 20 });
  assert.deepEqual(r.cpu, { shares: 512, quota: 150000, period: 100000 });
  assert.deepEqual(r.pids, { limit: 20 });
  assert.deepEqual(spec.process!.rlimits, [
    { type: 'RLIMIT_NOFILE', soft: 1024, hard: 20000 },
    { type: 'RLIMIT_NPROC', soft: 100, hard: 200 },
    { type: 'RLIMIT_CORE', soft: RLIM_INFINITY, hard: RLIM_INFINITY },
  ]);
  assert.throws(
    () => containerSpec(input({ options: { ulimits: ['nofile=100:99999999'] } })),
    (e: unknown) => isChrunError(e, 'CHRUN_RLIMIT_EXCEEDS_HARD'),
  );
  assert.throws(() => containerSpec(input({ options: { memory: '1k' } })), /minimum memory/);
  assert.throws(
    () => containerSpec(input({ options: { ulimits: ['nproc=1', 'nproc=2'] } })),
    /given twice/,
  );
});

test('--isolation chroot: a chrooted process and nothing else', () => {
  const { spec } = containerSpec(
    input({ options: { isolation: 'chroot', user: 'x', memory: '64m', ulimits: ['nproc=50'] } }),
  );
  assert.deepEqual(spec.linux!.namespaces, []);
  assert.equal(spec.mounts, undefined);
  assert.equal(spec.process!.capabilities, undefined);
  assert.equal(spec.linux!.seccomp, undefined);
  assert.equal(spec.process!.noNewPrivileges, undefined);
  assert.equal(spec.hostname, undefined);
  assert.deepEqual(spec.process!.rlimits, [{ type: 'RLIMIT_NPROC', soft: 50, hard: 50 }]);
  assert.deepEqual(spec.linux!.resources!.memory, { limit: 64 << 20, swap: 128 << 20 });
  for (const options of [
    { volumes: ['/a:/b'] },
    { network: 'none' as const },
    { hostname: 'h' },
    { capDrop: ['ALL'] },
    { readOnly: true },
  ]) {
    assert.throws(
      () => containerSpec(input({ options: { isolation: 'chroot', ...options } })),
      /not available with --isolation chroot/,
    );
  }
});

test('bad values: relative workdir, unknown network and isolation, duplicate mounts', () => {
  assert.throws(
    () => containerSpec(input({ options: { workdir: 'rel' } })),
    /the working directory 'rel' is invalid, it needs to be an absolute path/,
  );
  assert.throws(
    () => containerSpec(input({ options: { network: 'bridge' as never } })),
    /--network bridge: chrun supports none and host/,
  );
  assert.throws(
    () => containerSpec(input({ options: { isolation: 'vm' as never } })),
    /--isolation vm/,
  );
  assert.throws(
    () => containerSpec(input({ options: { volumes: ['/a:/x'], tmpfs: ['/x'] } })),
    /duplicate mount point: \/x/,
  );
  assert.throws(
    () => containerSpec(input({ options: { hostname: 'bad_name!' } })),
    /invalid hostname/,
  );
});
