import { ChrunError } from '../../util/index.js';
import type { POSIXRlimit } from '../runtime-spec.js';

/**
 * RLIM_INFINITY (2^64 - 1) as a number. A double cannot hold 2^64 - 1 and rounds it to 2^64,
 * so a plan encoder turns every value >= 2^63 into the kernel's RLIM_INFINITY.
 */
export const RLIM_INFINITY = 2 ** 64;

/** Docker's --ulimit names (docker/go-units ulimit.go; "as" is left out there too). */
export const ULIMIT_TYPES: Readonly<Record<string, string>> = {
  core: 'RLIMIT_CORE',
  cpu: 'RLIMIT_CPU',
  data: 'RLIMIT_DATA',
  fsize: 'RLIMIT_FSIZE',
  locks: 'RLIMIT_LOCKS',
  memlock: 'RLIMIT_MEMLOCK',
  msgqueue: 'RLIMIT_MSGQUEUE',
  nice: 'RLIMIT_NICE',
  nofile: 'RLIMIT_NOFILE',
  nproc: 'RLIMIT_NPROC',
  rss: 'RLIMIT_RSS',
  rtprio: 'RLIMIT_RTPRIO',
  rttime: 'RLIMIT_RTTIME',
  sigpending: 'RLIMIT_SIGPENDING',
  stack: 'RLIMIT_STACK',
};

/** The resource numbers of linux/resource.h, for setrlimit(2). */
export const RLIMIT_NUMBERS: Readonly<Record<string, number>> = {
  RLIMIT_CPU: 0,
  RLIMIT_FSIZE: 1,
  RLIMIT_DATA: 2,
  RLIMIT_STACK: 3,
  RLIMIT_CORE: 4,
  RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6,
  RLIMIT_NOFILE: 7,
  RLIMIT_MEMLOCK: 8,
  RLIMIT_AS: 9,
  RLIMIT_LOCKS: 10,
  RLIMIT_SIGPENDING: 11,
  RLIMIT_MSGQUEUE: 12,
  RLIMIT_NICE: 13,
  RLIMIT_RTPRIO: 14,
  RLIMIT_RTTIME: 15,
};

const invalid = (message: string): ChrunError => new ChrunError('CHRUN_INVALID_ARGUMENT', message);

/** docker's name of an OCI type ("RLIMIT_NOFILE" -> "nofile"). */
function ulimitName(type: string): string {
  return (
    Object.entries(ULIMIT_TYPES).find(([, t]) => t === type)?.[0] ??
    type.replace(/^RLIMIT_/, '').toLowerCase()
  );
}

function int64(text: string): number {
  if (!/^-?\d+$/.test(text)) {
    throw invalid(`invalid ulimit value "${text}": want an integer`);
  }
  return Number(text);
}

/**
 * `--ulimit name=soft[:hard]` (docker's ParseUlimit): hard defaults to soft, -1 is unlimited,
 * soft may not exceed hard. Unlimited becomes RLIM_INFINITY.
 */
export function parseUlimit(value: string): POSIXRlimit {
  const eq = value.indexOf('=');
  if (eq < 0) throw invalid(`invalid ulimit argument: ${value}`);
  const name = value.slice(0, eq);
  const type = ULIMIT_TYPES[name];
  if (type === undefined) throw invalid(`invalid ulimit type: ${name}`);
  const parts = value.slice(eq + 1).split(':');
  if (parts.length > 2) {
    throw invalid(
      `too many limit value arguments - ${value.slice(eq + 1)}, can only have up to two, \`soft[:hard]\``,
    );
  }
  const soft = int64(parts[0]!);
  const hard = parts.length === 2 ? int64(parts[1]!) : soft;
  if (hard !== -1) {
    if (soft === -1) {
      throw invalid(
        `ulimit soft limit must be less than or equal to hard limit: soft: -1 (unlimited), hard: ${hard}`,
      );
    }
    if (soft > hard)
      throw invalid(
        `ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`,
      );
  }
  if (soft < -1 || hard < -1) throw invalid(`invalid ulimit ${value}: negative limit`);
  const inf = (n: number): number => (n === -1 ? RLIM_INFINITY : n);
  return { type, soft: inf(soft), hard: inf(hard) };
}

/** One limit of a process: soft and hard, RLIM_INFINITY for unlimited. */
export interface HostLimit {
  soft: number;
  hard: number;
}

const PROC_LIMIT_ROWS: Readonly<Record<string, string>> = {
  'Max cpu time': 'RLIMIT_CPU',
  'Max file size': 'RLIMIT_FSIZE',
  'Max data size': 'RLIMIT_DATA',
  'Max stack size': 'RLIMIT_STACK',
  'Max core file size': 'RLIMIT_CORE',
  'Max resident set': 'RLIMIT_RSS',
  'Max processes': 'RLIMIT_NPROC',
  'Max open files': 'RLIMIT_NOFILE',
  'Max locked memory': 'RLIMIT_MEMLOCK',
  'Max address space': 'RLIMIT_AS',
  'Max file locks': 'RLIMIT_LOCKS',
  'Max pending signals': 'RLIMIT_SIGPENDING',
  'Max msgqueue size': 'RLIMIT_MSGQUEUE',
  'Max nice priority': 'RLIMIT_NICE',
  'Max realtime priority': 'RLIMIT_RTPRIO',
  'Max realtime timeout': 'RLIMIT_RTTIME',
};

/** Parses /proc/PID/limits (Node has no getrlimit) into OCI type -> limits. */
export function parseProcLimits(text: string): Map<string, HostLimit> {
  const out = new Map<string, HostLimit>();
  const value = (v: string): number => (v === 'unlimited' ? RLIM_INFINITY : Number(v));
  for (const line of text.split('\n')) {
    const m = /^(Max [a-z ]+?)\s{2,}(\S+)\s+(\S+)/.exec(line);
    if (m === null) continue;
    const type = PROC_LIMIT_ROWS[m[1]!];
    if (type !== undefined) out.set(type, { soft: value(m[2]!), hard: value(m[3]!) });
  }
  return out;
}

/**
 * The default rlimits of a container, before --ulimit: RLIMIT_NOFILE soft 1024 (select(2)
 * still breaks above it) and hard 524288, as containerd and docker 25+ give. Hosts whose
 * hard limit is lower get theirs instead (see resolveRlimits).
 */
export const DEFAULT_RLIMITS: readonly POSIXRlimit[] = [
  { type: 'RLIMIT_NOFILE', soft: 1024, hard: 524288 },
];

export interface RlimitOptions {
  /** --ulimit values (parseUlimit). */
  ulimits?: readonly POSIXRlimit[];
  /** The runtime's own limits (parseProcLimits of /proc/self/limits). */
  host: ReadonlyMap<string, HostLimit>;
  /** Whether the process that sets the limits can raise a hard limit (has CAP_SYS_RESOURCE). */
  canRaise: boolean;
  defaults?: readonly POSIXRlimit[];
}

/**
 * The container's rlimits: the defaults, clamped to the host's hard limits when those cannot
 * be raised, then the user's --ulimit values, which are never clamped: asking for more than
 * the host allows is an error that says why.
 */
export function resolveRlimits(opts: RlimitOptions): POSIXRlimit[] {
  const out = new Map<string, POSIXRlimit>();
  for (const d of opts.defaults ?? DEFAULT_RLIMITS) {
    const host = opts.host.get(d.type);
    if (host === undefined || opts.canRaise) {
      out.set(d.type, { ...d });
      continue;
    }
    const hard = Math.min(d.hard, host.hard);
    out.set(d.type, { type: d.type, soft: Math.min(d.soft, hard), hard });
  }
  for (const u of opts.ulimits ?? []) {
    const host = opts.host.get(u.type);
    if (!opts.canRaise && host !== undefined && u.hard > host.hard) {
      const fmt = (n: number): string => (n >= RLIM_INFINITY ? 'unlimited' : String(n));
      throw new ChrunError(
        'CHRUN_RLIMIT_EXCEEDS_HARD',
        `ulimit ${ulimitName(u.type)}: hard limit ${fmt(u.hard)} exceeds the host's hard limit ${fmt(host.hard)} (raising it needs CAP_SYS_RESOURCE)`,
      );
    }
    out.set(u.type, { ...u });
  }
  return [...out.values()];
}
