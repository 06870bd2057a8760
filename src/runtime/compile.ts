import path from 'node:path';
import {
  DEFAULT_DEVICES,
  type LinuxDevice,
  type LinuxNamespaceType,
  type Mount,
  type Spec,
} from '../oci/index.js';
import {
  CLONE,
  MS,
  RLIMIT,
  RLIM_INFINITY,
  SIGKILL,
  bpfLengthError,
  capMask,
  capNames,
  type Plan,
  type PlanStep,
  type SeccompRules,
  type Mount as RootMount,
  planMount,
} from '../sys/index.js';
import { ChrunError } from '../util/index.js';
import { parseOciMountOptions, propagationFlags } from './mount-options.js';

/** Where the container's process lands in the cgroup tree (from the cgroup manager). */
export interface CgroupPlacement {
  /** A cgroup v2 directory to clone straight into (CLONE_INTO_CGROUP). */
  cloneInto?: string;
  /** cgroup.procs files the helper writes the pid to before the container runs (v1). */
  procs?: string[];
  /** Directories to remove if chrun dies before the container (deepest first). */
  cleanup?: string[];
}

/** The host's cgroup mounts, for the container's own /sys/fs/cgroup. */
export interface CgroupMounts {
  mode: 'v1' | 'v2' | 'hybrid' | 'none';
  /** v1 hierarchy mount names under /sys/fs/cgroup with their options ('cpu', 'name=systemd'). */
  v1: { name: string; options: string }[];
}

export interface CompileInput {
  spec: Spec;
  /** The root file system's absolute host path. */
  rootfs: string;
  /** The root's mounts, from the snapshotter, mounted in the container's own mount namespace. */
  rootMounts?: RootMount[];
  /** Host path of the exec fifo: the container waits on it until `start`. */
  execFifo?: string;
  cgroup?: CgroupPlacement;
  cgroupMounts?: CgroupMounts;
  /** Files, then directories, to remove if chrun dies before the container (state records). */
  orphanFiles?: string[];
  orphanDirs?: string[];
  /** Host mount points to detach if chrun dies first (a root mounted for chroot isolation). */
  orphanUnmounts?: string[];
  /** Trees to remove if chrun dies first (the writable layer and record of a `--rm` container). */
  orphanTrees?: string[];
  /** chrun holds the container (attached run): chrun's death kills it and cleans up. */
  attached: boolean;
  /** The helper leaves once the container is ready (an OCI caller's subreaper reaps it). */
  detach?: boolean;
  /** A tiny reaper as PID 1 (`--init`). */
  init?: boolean;
  /** Initial window size when process.terminal. */
  consoleSize?: { rows: number; cols: number };
  /** A unix socket to hand the pty master to (OCI --console-socket) instead of relaying it. */
  consoleSocket?: string;
  /** Relaying the pty: the helper makes the terminal on its stdin raw while it does. */
  rawTty?: boolean;
  /** The compiled seccomp filter (from the cache); without it the helper builds it. */
  seccompBpf?: Buffer;
  seccompRules?: SeccompRules;
  /** Whether a bind mount's host source is a file (the target is then created as a file). */
  bindSourceIsFile?: (source: string) => boolean;
  /** A process joining a running container (`exec`): no root, mount or device setup. */
  exec?: boolean;
  /** pivot_root cannot work here (the host root is a ramfs/rootfs): move the root and chroot. */
  noPivot?: boolean;
}

const NS_FLAGS: Record<LinuxNamespaceType, number> = {
  pid: CLONE.NEWPID,
  network: CLONE.NEWNET,
  mount: CLONE.NEWNS,
  ipc: CLONE.NEWIPC,
  uts: CLONE.NEWUTS,
  user: CLONE.NEWUSER,
  cgroup: CLONE.NEWCGROUP,
  time: CLONE.NEWTIME,
};

/** setns order: user first (it grants the rights for the others), mount last. */
const JOIN_ORDER: LinuxNamespaceType[] = [
  'user',
  'ipc',
  'uts',
  'network',
  'pid',
  'cgroup',
  'time',
  'mount',
];

function invalid(msg: string): never {
  throw new ChrunError('CHRUN_INVALID_ARGUMENT', msg);
}

function idMap(m: { containerID: number; hostID: number; size: number }[]): string {
  return m.map((e) => `${e.containerID} ${e.hostID} ${e.size}\n`).join('');
}

function devMode(d: LinuxDevice): number {
  const type =
    d.type === 'c' || d.type === 'u'
      ? 0o020000
      : d.type === 'b'
        ? 0o060000
        : d.type === 'p'
          ? 0o010000
          : undefined;
  if (type === undefined) invalid(`device ${d.path}: unknown type ${d.type}`);
  return type | ((d.fileMode ?? 0o666) & 0o7777);
}

/** The PATH an exec searches: the process's own, else the usual default. */
function searchPath(env: readonly string[]): string {
  const p = env.findLast((e) => e.startsWith('PATH='));
  return p === undefined
    ? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
    : p.slice(5);
}

function mountSteps(
  m: Mount,
  bundle: string,
  cg: CgroupMounts | undefined,
  hasCgroupNs: boolean,
  isFile: (source: string) => boolean,
): PlanStep[] {
  const opts = parseOciMountOptions(m.options);
  const target = m.destination;
  if (!path.isAbsolute(target)) invalid(`mount ${target}: the destination must be absolute`);
  const type = m.type ?? (opts.bind ? 'bind' : 'none');
  const steps: PlanStep[] = [];
  const what = `mount ${type === 'bind' ? (m.source ?? '') : type} on ${target}`;
  if (opts.bind || type === 'bind') {
    const source = path.resolve(
      bundle,
      m.source ?? invalid(`mount ${target}: a bind mount needs a source`),
    );
    const file = isFile(source);
    steps.push({
      op: 'mount',
      source,
      target,
      fstype: '',
      flags: MS.BIND | (opts.recursive ? MS.REC : 0),
      data: '',
      inRoot: true,
      mkdir: !file,
      mkfile: file,
      what,
    });
    if (opts.flags !== 0) {
      steps.push({
        op: 'mount',
        source: '',
        target,
        fstype: '',
        flags: MS.BIND | MS.REMOUNT | opts.flags,
        data: '',
        inRoot: true,
        what: `remount ${target} (${(m.options ?? []).filter((o) => o !== 'bind' && o !== 'rbind').join(',')})`,
      });
    }
  } else if (type === 'cgroup' && cg !== undefined && cg.mode !== 'v2') {
    // v1 and hybrid: a tmpfs holding one mount per hierarchy, like runc and docker
    steps.push({
      op: 'mount',
      source: 'tmpfs',
      target,
      fstype: 'tmpfs',
      flags: MS.NOSUID | MS.NODEV | MS.NOEXEC,
      data: 'mode=755',
      inRoot: true,
      mkdir: true,
      what: `mount tmpfs on ${target}`,
    });
    for (const h of cg.v1) {
      steps.push({
        op: 'mount',
        source: 'cgroup',
        target: path.join(target, h.name),
        fstype: 'cgroup',
        flags: (opts.flags & ~MS.RDONLY) | MS.NOSUID | MS.NODEV | MS.NOEXEC,
        data: h.options,
        inRoot: true,
        mkdir: true,
        what: `mount cgroup ${h.options} on ${path.join(target, h.name)}`,
      });
    }
    if (cg.mode === 'hybrid' && hasCgroupNs) {
      steps.push({
        op: 'mount',
        source: 'cgroup2',
        target: path.join(target, 'unified'),
        fstype: 'cgroup2',
        flags: (opts.flags & ~MS.RDONLY) | MS.NOSUID | MS.NODEV | MS.NOEXEC,
        data: '',
        inRoot: true,
        mkdir: true,
        what: `mount cgroup2 on ${path.join(target, 'unified')}`,
      });
    }
    if ((opts.flags & MS.RDONLY) !== 0) {
      steps.push({
        op: 'mount',
        source: '',
        target,
        fstype: '',
        flags: MS.BIND | MS.REMOUNT | MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC,
        data: '',
        inRoot: true,
        what: `remount ${target} read-only`,
      });
    }
  } else {
    const fstype = type === 'cgroup' ? 'cgroup2' : type;
    steps.push({
      op: 'mount',
      source: m.source ?? fstype,
      target,
      fstype,
      flags: opts.flags,
      data: opts.data.join(','),
      inRoot: true,
      mkdir: true,
      what,
    });
  }
  if (opts.propagation !== 0) {
    steps.push({
      op: 'mount',
      source: '',
      target,
      fstype: '',
      flags: opts.propagation,
      data: '',
      inRoot: true,
      what: `set propagation of ${target}`,
    });
  }
  return steps;
}

/** Steps inside the new root: hostname, sysctls, read-only and masked paths, the working dir. */
function insideRoot(
  input: CompileInput,
  chrootOnly: boolean,
  has: (t: LinuxNamespaceType) => boolean,
  joins: { type: LinuxNamespaceType }[],
): PlanStep[] {
  const { spec } = input;
  const linux = spec.linux ?? {};
  const cwd = spec.process?.cwd ?? '/';
  const plan: PlanStep[] = [];
  if (spec.hostname !== undefined && spec.hostname !== '') {
    if (!has('uts') && joins.every((j) => j.type !== 'uts'))
      invalid('config.json: setting the hostname needs a uts namespace');
    plan.push({ op: 'hostname', name: spec.hostname, what: `set hostname ${spec.hostname}` });
  }
  if (spec.domainname !== undefined && spec.domainname !== '') {
    if (!has('uts')) invalid('config.json: setting the domainname needs a uts namespace');
    plan.push({
      op: 'domainname',
      name: spec.domainname,
      what: `set domainname ${spec.domainname}`,
    });
  }
  for (const [key, value] of Object.entries(linux.sysctl ?? {})) {
    if (!/^[a-zA-Z0-9_.\-/]+$/.test(key) || key.includes('..'))
      invalid(`config.json: bad sysctl name ${key}`);
    plan.push({
      op: 'write-file',
      path: `/proc/sys/${key.replace(/\./g, '/')}`,
      data: value,
      what: `sysctl ${key}=${value}`,
    });
  }
  if (!chrootOnly) {
    for (const p of linux.readonlyPaths ?? [])
      plan.push({ op: 'readonly', path: p, what: `make ${p} read-only` });
    for (const p of linux.maskedPaths ?? []) plan.push({ op: 'mask', path: p, what: `mask ${p}` });
  }
  if (!chrootOnly)
    plan.push({ op: 'mkdir', path: cwd, mode: 0o755, what: `create working directory ${cwd}` });
  if (spec.root?.readonly === true && !chrootOnly) {
    plan.push({
      op: 'mount',
      source: '',
      target: '/',
      fstype: '',
      flags: MS.BIND | MS.REMOUNT | MS.RDONLY,
      data: '',
      inRoot: false,
      what: 'remount the root read-only',
    });
  }
  return plan;
}

/**
 * Compiles an OCI spec into the plan the helper carries out. Pure: every decision about what
 * the container is (namespaces, mounts, devices, ids, capabilities, seccomp, order) is made
 * here, and the plan says exactly what to do.
 */
export function compilePlan(input: CompileInput): Plan {
  const { spec } = input;
  const proc = spec.process ?? invalid('config.json: process is required to run a container');
  const args = proc.args ?? [];
  if (args.length === 0 || args[0] === '') invalid('config.json: process.args must name a command');
  const linux = spec.linux ?? {};
  const namespaces = linux.namespaces ?? [];
  const seen = new Set<LinuxNamespaceType>();
  let cloneFlags = 0;
  const joins: { type: LinuxNamespaceType; path: string }[] = [];
  for (const ns of namespaces) {
    if (!(ns.type in NS_FLAGS)) invalid(`config.json: unknown namespace type ${ns.type}`);
    if (seen.has(ns.type)) invalid(`config.json: namespace ${ns.type} is listed twice`);
    seen.add(ns.type);
    if (ns.path !== undefined && ns.path !== '') joins.push({ type: ns.type, path: ns.path });
    else cloneFlags |= NS_FLAGS[ns.type];
  }
  const has = (t: LinuxNamespaceType): boolean => seen.has(t);
  // v1 cgroups are joined after the clone: a cgroup namespace made at the clone would be
  // rooted at chrun's cgroups, not the container's. Make it once they are joined (as runc).
  const lateCgroupNs =
    (cloneFlags & CLONE.NEWCGROUP) !== 0 && (input.cgroup?.procs ?? []).length > 0;
  if (lateCgroupNs) cloneFlags &= ~CLONE.NEWCGROUP;
  const newUserNs = (cloneFlags & CLONE.NEWUSER) !== 0;
  const rootfs = input.rootfs;
  const bundleDir = path.dirname(rootfs);
  const plan: PlanStep[] = [];

  // ---- host side ----
  if (input.execFifo !== undefined) plan.push({ op: 'fifo', path: input.execFifo });
  if (input.consoleSocket !== undefined && proc.terminal === true) {
    plan.push({
      op: 'console-socket',
      path: input.consoleSocket,
      what: `connect console socket ${input.consoleSocket}`,
    });
  }
  const nsNames = namespaces
    .filter((n) => n.path === undefined || n.path === '')
    .filter((n) => !(lateCgroupNs && n.type === 'cgroup'))
    .map((n) => n.type);
  plan.push({
    op: 'clone',
    flags: cloneFlags,
    cgroupDir: input.cgroup?.cloneInto ?? '',
    attached: input.attached,
    detach: input.detach ?? false,
    rawTty: input.rawTty === true && proc.terminal === true && input.consoleSocket === undefined,
    what: `clone (flags 0x${cloneFlags.toString(16)}, new namespaces: ${nsNames.length > 0 ? nsNames.join(', ') : 'none'}${
      input.cgroup?.cloneInto !== undefined ? `; into cgroup ${input.cgroup.cloneInto}` : ''
    })`,
  });
  for (const procs of input.cgroup?.procs ?? []) plan.push({ op: 'cgroup-join', procs });
  if (newUserNs) {
    if ((linux.uidMappings ?? []).length === 0 || (linux.gidMappings ?? []).length === 0) {
      invalid('config.json: a new user namespace needs linux.uidMappings and linux.gidMappings');
    }
    plan.push({ op: 'uid-map', map: idMap(linux.uidMappings ?? []), what: 'write uid_map' });
    plan.push({ op: 'setgroups-deny', what: 'deny setgroups' });
    plan.push({ op: 'gid-map', map: idMap(linux.gidMappings ?? []), what: 'write gid_map' });
  }
  for (const m of input.orphanUnmounts ?? []) plan.push({ op: 'orphan-umount', path: m });
  for (const f of input.orphanFiles ?? []) plan.push({ op: 'orphan-unlink', path: f });
  for (const d of input.cgroup?.cleanup ?? []) plan.push({ op: 'orphan-rmdir', path: d });
  for (const d of input.orphanDirs ?? []) plan.push({ op: 'orphan-rmdir', path: d });
  for (const d of input.orphanTrees ?? []) plan.push({ op: 'orphan-rmtree', path: d });

  // ---- container side ----
  if (lateCgroupNs) {
    plan.push({
      op: 'unshare',
      flags: CLONE.NEWCGROUP,
      what: 'unshare the cgroup namespace (now that the cgroups are joined)',
    });
  }
  const joinSorted = [...joins].sort(
    (a, b) => JOIN_ORDER.indexOf(a.type) - JOIN_ORDER.indexOf(b.type),
  );
  for (const j of joinSorted) {
    plan.push({
      op: 'setns',
      path: j.path,
      nstype: NS_FLAGS[j.type],
      what: `join ${j.type} namespace ${j.path}`,
    });
  }
  if (joins.some((j) => j.type === 'pid'))
    plan.push({ op: 'fork', what: 'fork into the joined pid namespace' });

  const chrootOnly = !has('mount');
  const exec = input.exec === true;
  if (exec) {
    // the container's root and mounts are already there
  } else if (chrootOnly) {
    if ((spec.mounts ?? []).length > 0) {
      invalid(
        'config.json: mounts need a mount namespace (add {"type": "mount"} to linux.namespaces)',
      );
    }
    plan.push({ op: 'chroot', path: rootfs, what: `chroot ${rootfs}` });
  } else {
    const prop = linux.rootfsPropagation;
    const rootProp = prop === undefined || prop === '' ? MS.SLAVE | MS.REC : propagationFlags(prop);
    if (rootProp === undefined) invalid(`config.json: unknown rootfsPropagation ${prop ?? ''}`);
    plan.push({
      op: 'mount',
      source: '',
      target: '/',
      fstype: '',
      flags: rootProp | MS.REC,
      data: '',
      inRoot: false,
      what: 'make / a slave mount (no propagation to the host)',
    });
    if (input.rootMounts !== undefined && input.rootMounts.length > 0) {
      // the snapshotter's root (an overlay of the image's layers), mounted in the
      // container's own mount namespace: it disappears with the container
      for (const m of input.rootMounts) {
        for (const call of planMount(m)) {
          if (call.chdir !== undefined) {
            plan.push({
              op: 'chdir',
              path: call.chdir,
              what: `chdir ${call.chdir} (short overlay paths)`,
            });
          }
          plan.push({
            op: 'mount',
            source: call.source,
            target: rootfs,
            fstype: call.fstype,
            flags: call.flags,
            data: call.data,
            inRoot: false,
            what: `mount ${m.type} root on ${rootfs}`,
          });
        }
      }
    } else {
      plan.push({
        op: 'mount',
        source: rootfs,
        target: rootfs,
        fstype: '',
        flags: MS.BIND | MS.REC,
        data: '',
        inRoot: false,
        what: `bind the root ${rootfs} onto itself`,
      });
    }
    plan.push({ op: 'rootfs', path: rootfs });
    const cgroupNs = has('cgroup');
    let devTmpfs = false;
    let devPts = false;
    for (const m of spec.mounts ?? []) {
      if (path.normalize(m.destination) === '/dev' && (m.type === 'tmpfs' || m.type === undefined))
        devTmpfs = true;
      if (path.normalize(m.destination) === '/dev/pts') devPts = true;
      plan.push(
        ...mountSteps(
          m,
          bundleDir,
          input.cgroupMounts,
          cgroupNs,
          input.bindSourceIsFile ?? (() => false),
        ),
      );
    }
    // devices: the defaults, then the spec's (a spec entry replaces a default at the same path)
    const devices = new Map<string, LinuxDevice>();
    for (const d of DEFAULT_DEVICES) devices.set(d.path, d);
    for (const d of linux.devices ?? []) {
      // A container path (OCI: "full path to device inside container"); a relative one would
      // be taken from the helper's directory on the host for the bind of a user namespace.
      const raw: unknown = d.path;
      const p = typeof raw === 'string' && raw !== '' ? path.posix.normalize(raw) : '';
      if (!path.posix.isAbsolute(p) || p === '/')
        invalid(
          `config.json: linux.devices: path '${String(raw)}' must be an absolute path below /`,
        );
      devices.set(p, { ...d, path: p });
    }
    for (const d of devices.values()) {
      if (newUserNs) {
        // no mknod in a user namespace: bind the host's node
        plan.push({
          op: 'mount',
          source: d.path,
          target: d.path,
          fstype: '',
          flags: MS.BIND,
          data: '',
          inRoot: true,
          mkfile: true,
          what: `bind device ${d.path}`,
        });
      } else {
        plan.push({
          op: 'mknod',
          path: d.path,
          mode: devMode(d),
          major: d.major ?? 0,
          minor: d.minor ?? 0,
          uid: d.uid ?? 0,
          gid: d.gid ?? 0,
          what: `mknod ${d.path}`,
        });
      }
    }
    if (devTmpfs) {
      const links: [string, string][] = [
        ['/proc/self/fd', '/dev/fd'],
        ['/proc/self/fd/0', '/dev/stdin'],
        ['/proc/self/fd/1', '/dev/stdout'],
        ['/proc/self/fd/2', '/dev/stderr'],
        ['/proc/kcore', '/dev/core'],
      ];
      if (devPts) links.push(['pts/ptmx', '/dev/ptmx']);
      for (const [target, p] of links)
        plan.push({ op: 'symlink', target, path: p, what: `symlink ${p} -> ${target}` });
    }
    if (input.noPivot === true) {
      plan.push({
        op: 'move-root',
        what: 'move the root onto / and chroot (pivot_root cannot work on this host root)',
      });
    } else {
      plan.push({ op: 'pivot-root', what: `pivot_root into ${rootfs}` });
    }
  }

  // ---- inside the root ----
  if (!exec) plan.push(...insideRoot(input, chrootOnly, has, joins));
  // a new network namespace has only lo, down: bring it up (crun does; docker's none has it)
  if ((cloneFlags & CLONE.NEWNET) !== 0 && !exec)
    plan.push({ op: 'loopback-up', what: 'bring up the loopback interface lo' });
  const cwd = proc.cwd;
  if (!path.isAbsolute(cwd)) invalid(`config.json: process.cwd ${cwd} must be absolute`);
  if (proc.oomScoreAdj !== undefined) {
    plan.push({
      op: 'write-file',
      path: '/proc/self/oom_score_adj',
      data: String(proc.oomScoreAdj),
      what: `set oom_score_adj ${proc.oomScoreAdj}`,
    });
  }
  for (const r of proc.rlimits ?? []) {
    const resource = RLIMIT[r.type];
    if (resource === undefined) invalid(`config.json: unknown rlimit ${r.type}`);
    const big = (v: number): bigint =>
      v < 0 || v >= Number.MAX_SAFE_INTEGER ? RLIM_INFINITY : BigInt(v);
    if (big(r.soft) > big(r.hard))
      invalid(`config.json: rlimit ${r.type}: soft limit ${r.soft} above hard limit ${r.hard}`);
    plan.push({
      op: 'rlimit',
      resource,
      soft: big(r.soft),
      hard: big(r.hard),
      what: `setrlimit ${r.type} ${r.soft}:${r.hard}`,
    });
  }
  plan.push({ op: 'chdir', path: cwd, what: `chdir ${cwd}` });
  plan.push({ op: 'setsid', what: 'new session' });
  if (proc.terminal === true) {
    if (
      !chrootOnly &&
      !(spec.mounts ?? []).some((m) => path.normalize(m.destination) === '/dev/pts')
    ) {
      invalid('config.json: process.terminal needs a devpts mount on /dev/pts');
    }
    const size = input.consoleSize ?? {
      rows: proc.consoleSize?.height ?? 0,
      cols: proc.consoleSize?.width ?? 0,
    };
    plan.push({
      op: 'pty',
      rows: size.rows,
      cols: size.cols,
      // /dev/console is the pty (not in a chroot-only container, whose /dev is the host's)
      console: chrootOnly || input.exec === true ? '' : '/dev/console',
      what: 'create the pty',
    });
  }

  // ---- privileges ----
  const caps = proc.capabilities;
  const mask = (names: string[] | undefined, set: string): bigint => {
    const r = capMask(names);
    if (r.unknown.length > 0)
      invalid(`config.json: unknown capability ${r.unknown.join(', ')} in ${set}`);
    return r.mask;
  };
  const bounding = mask(caps?.bounding, 'bounding');
  const effective = mask(caps?.effective, 'effective');
  const permitted = mask(caps?.permitted, 'permitted');
  const inheritable = mask(caps?.inheritable, 'inheritable');
  const ambient = mask(caps?.ambient, 'ambient');
  const nnp = proc.noNewPrivileges === true;
  const seccompStep = ((): PlanStep | undefined => {
    if (linux.seccomp === undefined) return undefined;
    if (input.seccompBpf !== undefined) {
      const tooLong = bpfLengthError(input.seccompBpf.length);
      if (tooLong !== undefined) throw tooLong;
      return {
        op: 'seccomp-bpf',
        flags: input.seccompRules?.flags ?? 0,
        program: input.seccompBpf,
        ruleCount: input.seccompRules?.rules.length ?? 0,
        what: `load seccomp filter (${input.seccompRules?.rules.length ?? 0} rules, cached bpf of ${input.seccompBpf.length / 8} instructions)`,
      };
    }
    if (input.seccompRules === undefined) invalid('compile plan: seccomp rules missing');
    return {
      op: 'seccomp-rules',
      rules: input.seccompRules,
      what: `load seccomp filter (${input.seccompRules.rules.length} rules, via libseccomp)`,
    };
  })();
  // without no_new_privs, installing a filter needs CAP_SYS_ADMIN: do it while we have it
  if (seccompStep !== undefined && !nnp) plan.push(seccompStep);
  if (caps !== undefined)
    plan.push({
      op: 'caps-bounding',
      keep: bounding,
      what: 'drop capabilities from the bounding set',
    });
  const user = proc.user;
  if (user.uid !== 0 && caps !== undefined)
    plan.push({ op: 'keepcaps', on: true, what: 'keep capabilities across setuid' });
  const setgroupsAllowed = !newUserNs;
  if (setgroupsAllowed) {
    const gids = [...new Set(user.additionalGids ?? [])];
    plan.push({
      op: 'setgroups',
      gids,
      what: `setgroups ${gids.length > 0 ? gids.join(',') : '(none)'}`,
    });
  }
  plan.push({ op: 'setgid', gid: user.gid, what: `setgid ${user.gid}` });
  plan.push({ op: 'setuid', uid: user.uid, what: `setuid ${user.uid}` });
  if (caps !== undefined) {
    const kept = capNames(permitted).map((c) => c.replace(/^CAP_/, '').toLowerCase());
    plan.push({
      op: 'caps',
      effective,
      permitted,
      inheritable,
      what: `set capabilities (keep ${kept.length}: ${kept.length > 0 ? kept.join(' ') : 'none'})`,
    });
    if (ambient !== 0n)
      plan.push({ op: 'ambient', caps: ambient, what: 'raise ambient capabilities' });
  }
  if (input.attached && user.uid !== 0) {
    // setuid clears the parent-death signal
    plan.push({ op: 'pdeathsig', signal: SIGKILL, what: 'set parent-death signal' });
  }
  if (nnp) plan.push({ op: 'no-new-privs', what: 'set no_new_privs' });
  plan.push({ op: 'umask', mask: user.umask ?? 0o022, what: 'set umask' });
  plan.push({ op: 'close-fds', first: 3, what: 'close inherited descriptors' });
  plan.push({ op: 'ready', what: 'report ready' });
  if (input.execFifo !== undefined) plan.push({ op: 'fifo-wait', what: 'wait for start' });
  if (seccompStep !== undefined && nnp) plan.push(seccompStep);
  if (input.init === true) plan.push({ op: 'reaper', what: 'start the reaper as pid 1' });
  const env = proc.env ?? [];
  const file = args[0] ?? '';
  plan.push({
    op: 'exec',
    file,
    argv: args,
    env,
    searchPath: file.includes('/') ? '' : searchPath(env),
    what: `exec ${file}`,
  });
  return plan;
}
