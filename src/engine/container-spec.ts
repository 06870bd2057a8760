import path from 'node:path';
import {
  applyContainerSecurity,
  containerSecurity,
  parseSecurityOpts,
  parseUlimit,
  resolveRlimits,
  resourcesFromFlags,
  type ContainerConfig,
  type DockerSeccompProfile,
  type HostLimit,
  type LinuxDevice,
  type LinuxNamespace,
  type Mount,
  type Spec,
} from '../oci/index.js';
import { ChrunError } from '../util/index.js';
import { mergeEnv, parseEnvFlag, type EnvLookup } from './env.js';
import { parseTmpfs, parseVolume } from './mount-flags.js';
import type { ContainerRunOptions } from './run-options.js';
import type { ResolvedUser } from './user.js';

/** What a container spec depends on from the host (read once per process). */
export interface HostFacts {
  /** chrun's own bounding set: what a container can be given. */
  capabilities: readonly string[];
  /** os.release() and docker's name of the architecture, for the seccomp profile. */
  kernel: string;
  arch: string;
  cpus: number;
  /** The host's hostname (for --network host). */
  hostname: string;
  /** chrun's own rlimits, and whether it may raise hard limits. */
  limits: ReadonlyMap<string, HostLimit>;
  canRaise: boolean;
  /** The host's devices, for --privileged. */
  devices?: readonly LinuxDevice[];
}

export interface SpecInput {
  /** The container's ID (the default hostname is its first 12 characters). */
  id: string;
  /** The root's absolute path (where the runtime mounts the root). */
  rootfs: string;
  /** The image's config (Entrypoint, Cmd, Env, WorkingDir, User). */
  image: ContainerConfig | undefined;
  options: ContainerRunOptions;
  /** The user, resolved against the image's /etc/passwd and /etc/group. */
  user: ResolvedUser;
  host: HostFacts;
  /** The variables of --env-file, read (parseEnvFile), in order. */
  envFiles?: readonly string[];
  /** The profile of --security-opt seccomp=FILE, parsed (undefined: the file turns it off). */
  seccompProfile?: DockerSeccompProfile | undefined;
  /** Files of the container's own for /etc/hostname, /etc/hosts and /etc/resolv.conf. */
  etc?: { hostname: string; hosts: string; resolvConf: string };
  /** Looks up `-e NAME` values (default: process.env). */
  lookupEnv?: EnvLookup;
}

export interface ContainerSpec {
  spec: Spec;
  /** What docker would print as warnings (limits adjusted). */
  warnings: string[];
  /** Host directories of -v that must exist (created if missing, as docker does). */
  hostDirs: string[];
}

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function invalid(message: string): ChrunError {
  return new ChrunError('CHRUN_INVALID_ARGUMENT', message);
}

/** docker's rule: the entrypoint, then the command; --entrypoint clears the image's Cmd. */
export function containerCommand(
  image: ContainerConfig | undefined,
  options: Pick<ContainerRunOptions, 'entrypoint' | 'command'>,
): string[] {
  let entrypoint: readonly string[];
  let cmd: readonly string[];
  if (options.entrypoint !== undefined) {
    entrypoint =
      typeof options.entrypoint === 'string'
        ? options.entrypoint === ''
          ? []
          : [options.entrypoint]
        : options.entrypoint;
    cmd = [];
  } else {
    entrypoint = image?.Entrypoint ?? [];
    cmd = image?.Cmd ?? [];
  }
  if (options.command !== undefined && options.command.length > 0) cmd = options.command;
  return [...entrypoint, ...cmd];
}

/** The mounts of a docker container's /proc, /dev, /sys: docker's defaults. */
function defaultMounts(sysReadOnly: boolean): Mount[] {
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    {
      destination: '/dev',
      type: 'tmpfs',
      source: 'tmpfs',
      options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'],
    },
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
    },
    {
      destination: '/sys',
      type: 'sysfs',
      source: 'sysfs',
      options: ['nosuid', 'noexec', 'nodev', sysReadOnly ? 'ro' : 'rw'],
    },
    {
      destination: '/sys/fs/cgroup',
      type: 'cgroup',
      source: 'cgroup',
      options: ['ro', 'nosuid', 'noexec', 'nodev'],
    },
    {
      destination: '/dev/mqueue',
      type: 'mqueue',
      source: 'mqueue',
      options: ['nosuid', 'noexec', 'nodev'],
    },
    {
      destination: '/dev/shm',
      type: 'tmpfs',
      source: 'shm',
      options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'],
    },
  ];
}

/** Options that need namespaces, refused under --isolation chroot (with the flag's name). */
function chrootConflicts(o: ContainerRunOptions): string[] {
  const out: string[] = [];
  if ((o.volumes ?? []).length > 0) out.push('-v');
  if ((o.tmpfs ?? []).length > 0) out.push('--tmpfs');
  if (o.hostname !== undefined) out.push('--hostname');
  if (o.network === 'none') out.push('--network none');
  if (o.readOnly === true) out.push('--read-only');
  if (o.init === true) out.push('--init');
  if (o.privileged === true) out.push('--privileged');
  if ((o.capAdd ?? []).length > 0) out.push('--cap-add');
  if ((o.capDrop ?? []).length > 0) out.push('--cap-drop');
  if ((o.securityOpt ?? []).length > 0) out.push('--security-opt');
  return out;
}

/**
 * The OCI spec of a container from its image's config and the run options, as docker makes
 * it: the command (Entrypoint + Cmd, or their overrides), the environment (PATH, HOSTNAME,
 * TERM with a tty, the image's, --env-file's, -e's; HOME from /etc/passwd), the working
 * directory, the user; namespaces (a network namespace with --network none), docker's /proc,
 * /dev, /sys mounts, /etc/hostname, /etc/hosts and /etc/resolv.conf, -v and --tmpfs;
 * docker's security defaults with --cap-add/--cap-drop, --security-opt, --privileged; the
 * limits. --isolation chroot gives a chrooted process and nothing else. Pure.
 */
export function containerSpec(input: SpecInput): ContainerSpec {
  const { options: o, image, user, host } = input;
  // plain strings: library callers in JavaScript may pass anything
  const isolation: string = o.isolation ?? 'full';
  const network: string = o.network ?? 'none';
  if (isolation !== 'full' && isolation !== 'chroot')
    throw invalid(`--isolation ${isolation}: want full or chroot`);
  if (network !== 'none' && network !== 'host') {
    throw invalid(
      `--network ${network}: chrun supports none and host (bridge networks come in a later version)`,
    );
  }
  const chroot = isolation === 'chroot';
  if (chroot) {
    const conflicts = chrootConflicts(o);
    if (conflicts.length > 0) {
      throw invalid(
        `${conflicts.join(', ')}: not available with --isolation chroot, which is a chrooted process and nothing else (use --isolation full)`,
      );
    }
  }
  const args = containerCommand(image, o);
  if (args.length === 0 || args[0] === '') throw invalid('no command specified');

  const cwd =
    o.workdir ??
    (image?.WorkingDir !== undefined && image.WorkingDir !== '' ? image.WorkingDir : '/');
  if (!path.posix.isAbsolute(cwd))
    throw invalid(`the working directory '${cwd}' is invalid, it needs to be an absolute path`);

  const hostname = o.hostname ?? (network === 'host' ? host.hostname : input.id.slice(0, 12));
  if (!/^[a-zA-Z0-9]([a-zA-Z0-9.-]{0,62})$/.test(hostname))
    throw invalid(`invalid hostname "${hostname}"`);

  const lookup = input.lookupEnv;
  const userEnv = [...(input.envFiles ?? []), ...(o.env ?? []).map((e) => parseEnvFlag(e, lookup))];
  let env = mergeEnv(
    [`PATH=${DEFAULT_PATH}`, `HOSTNAME=${hostname}`, ...(o.tty === true ? ['TERM=xterm'] : [])],
    mergeEnv(image?.Env ?? [], userEnv),
  );
  if (!env.some((e) => e.startsWith('HOME='))) env = [...env, `HOME=${user.home}`];

  const { resources, warnings } = resourcesFromFlags(
    {
      memory: o.memory,
      memorySwap: o.memorySwap,
      cpus: o.cpus,
      cpuShares: o.cpuShares,
      pidsLimit: o.pidsLimit,
    },
    { cpus: host.cpus },
  );
  const ulimits = (o.ulimits ?? []).map(parseUlimit);
  const dups = ulimits.map((u) => u.type).filter((t, i, all) => all.indexOf(t) !== i);
  if (dups.length > 0)
    throw invalid(`--ulimit ${dups[0]!.replace('RLIMIT_', '').toLowerCase()} given twice`);

  const base: Spec = {
    ociVersion: '1.2.0',
    process: {
      terminal: o.tty === true,
      user: { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids },
      args,
      env,
      cwd: path.posix.normalize(cwd),
    },
    root: { path: input.rootfs, readonly: o.readOnly === true },
    linux: { resources },
  };

  if (chroot) {
    // the seed's way: chroot, the user, the limits asked for; no namespaces, no mounts, all
    // of root's capabilities, no seccomp
    base.process!.rlimits = resolveRlimits({
      ulimits,
      host: host.limits,
      canRaise: host.canRaise,
      defaults: [],
    });
    base.linux = { resources, namespaces: [] };
    return { spec: base, warnings, hostDirs: [] };
  }

  const sec = parseSecurityOpts(o.securityOpt ?? []);
  if (sec.seccomp.kind === 'file' && !('seccompProfile' in input)) {
    throw invalid(`--security-opt seccomp=${sec.seccomp.path}: the profile was not read`);
  }
  const security = containerSecurity({
    privileged: o.privileged === true,
    capAdd: o.capAdd,
    capDrop: o.capDrop,
    availableCapabilities: host.capabilities,
    uid: user.uid,
    seccomp:
      sec.seccomp.kind === 'file'
        ? { kind: 'profile', profile: input.seccompProfile }
        : sec.seccomp,
    ...(sec.noNewPrivileges !== undefined ? { noNewPrivileges: sec.noNewPrivileges } : {}),
    arch: host.arch,
    kernel: host.kernel,
    ...(host.devices !== undefined ? { hostDevices: host.devices } : {}),
  });

  const namespaces: LinuxNamespace[] = [
    { type: 'pid' },
    { type: 'ipc' },
    { type: 'uts' },
    { type: 'mount' },
    { type: 'cgroup' },
  ];
  if (network === 'none') namespaces.push({ type: 'network' });

  const hostDirs: string[] = [];
  const userMounts: Mount[] = [];
  for (const v of o.volumes ?? []) {
    const parsed = parseVolume(v);
    userMounts.push(parsed.mount);
    hostDirs.push(parsed.hostPath);
  }
  for (const t of o.tmpfs ?? []) userMounts.push(parseTmpfs(t));
  const seen = new Set<string>();
  for (const m of userMounts) {
    if (seen.has(m.destination)) throw invalid(`duplicate mount point: ${m.destination}`);
    seen.add(m.destination);
  }
  const etcMounts: Mount[] =
    input.etc === undefined
      ? []
      : [
          { destination: '/etc/hostname', source: input.etc.hostname },
          { destination: '/etc/hosts', source: input.etc.hosts },
          { destination: '/etc/resolv.conf', source: input.etc.resolvConf },
        ].map((m) => ({ ...m, type: 'bind', options: ['rbind', 'rprivate'] }));
  // a user's mount replaces a default at the same place; parents are mounted before children
  const depth = (m: Mount): number => m.destination.split('/').length;
  const mounts = [
    ...defaultMounts(security.sysfsReadonly).filter((m) => !seen.has(m.destination)),
    ...etcMounts.filter((m) => !seen.has(m.destination)),
    ...[...userMounts].sort((a, b) => depth(a) - depth(b)),
  ];

  const spec = applyContainerSecurity(
    {
      ...base,
      hostname,
      mounts,
      linux: { resources, namespaces },
    },
    security,
  );
  spec.process!.rlimits = resolveRlimits({ ulimits, host: host.limits, canRaise: host.canRaise });
  return { spec, warnings, hostDirs };
}
