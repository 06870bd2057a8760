import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

/** How the host mounts cgroups: pure v2, pure v1, or hybrid (v1 controllers plus a v2 mount). */
export type CgroupMode = 'v2' | 'v1' | 'hybrid' | 'none';

export interface CgroupLayout {
  mode: CgroupMode;
  /** Mount point of the unified (v2) hierarchy, if any. */
  unified: string | undefined;
  /** v1 controller name -> mount point. */
  v1: Record<string, string>;
}

/** Parses /proc/self/mountinfo text into the host's cgroup layout. Pure, for tests. */
export function parseCgroupLayout(mountinfo: string): CgroupLayout {
  let unified: string | undefined;
  const v1: Record<string, string> = {};
  for (const line of mountinfo.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const right = line.slice(sep + 3).split(' ');
    const mountPoint = unescapeMountPath(left[4] ?? '');
    const fsType = right[0];
    if (fsType === 'cgroup2') {
      unified ??= mountPoint;
    } else if (fsType === 'cgroup') {
      for (const opt of (right[2] ?? '').split(',')) {
        if (CONTROLLER_OPTS.has(opt) || opt.startsWith('name=')) v1[opt] ??= mountPoint;
      }
    }
  }
  const hasV1 = Object.keys(v1).some((k) => !k.startsWith('name='));
  const mode: CgroupMode =
    unified !== undefined && hasV1
      ? 'hybrid'
      : unified !== undefined
        ? 'v2'
        : hasV1
          ? 'v1'
          : 'none';
  return { mode, unified, v1 };
}

const CONTROLLER_OPTS = new Set([
  'cpu',
  'cpuacct',
  'cpuset',
  'memory',
  'devices',
  'freezer',
  'net_cls',
  'net_prio',
  'blkio',
  'perf_event',
  'hugetlb',
  'pids',
  'rdma',
  'misc',
]);

/** mountinfo escapes space, tab, newline and backslash as octal. */
export function unescapeMountPath(p: string): string {
  return p.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

export async function detectCgroupLayout(): Promise<CgroupLayout> {
  return parseCgroupLayout(await readFile('/proc/self/mountinfo', 'utf8'));
}

/** detectCgroupLayout without a promise, for callers on a synchronous path. */
export function detectCgroupLayoutSync(): CgroupLayout {
  return parseCgroupLayout(readFileSync('/proc/self/mountinfo', 'utf8'));
}
