import path from 'node:path';
import { ChrunError } from '../util/index.js';

/** The parent chrun puts containers under by default, like runc's /docker or podman's machine.slice. */
export const DEFAULT_CGROUP_PARENT = '/chrun';

/** One line of /proc/PID/cgroup: hierarchy id, its controllers ([] for v2), the cgroup path. */
export interface ProcCgroupEntry {
  id: number;
  controllers: string[];
  path: string;
}

/** Parses /proc/PID/cgroup. Pure, for tests. */
export function parseProcCgroup(text: string): ProcCgroupEntry[] {
  const out: ProcCgroupEntry[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    const list = line.slice(first + 1, second);
    out.push({
      id: Number(line.slice(0, first)),
      controllers: list === '' ? [] : list.split(','),
      path: line.slice(second + 1),
    });
  }
  return out;
}

/**
 * The cgroup path of a container, as runc reads linux.cgroupsPath: absolute paths are taken
 * from each hierarchy's root, relative ones from the runtime's own cgroup; without one, the
 * default is PARENT/ID. systemd's "slice:prefix:name" form is refused (no systemd driver).
 */
export function containerCgroupPath(
  id: string,
  cgroupsPath?: string,
  parent = DEFAULT_CGROUP_PARENT,
): string {
  const raw = cgroupsPath ?? path.posix.join(parent, id);
  if (raw === '' || raw.includes('\0')) {
    throw new ChrunError('CHRUN_INVALID_ARGUMENT', `invalid cgroup path "${raw}"`);
  }
  if (/^[^/]*:[^/]*:[^/]*$/.test(raw)) {
    throw new ChrunError(
      'CHRUN_UNSUPPORTED',
      `cgroup path "${raw}": the systemd "slice:prefix:name" form needs the systemd cgroup driver, which chrun does not have`,
    );
  }
  const abs = raw.startsWith('/');
  // Clean like runc's CleanPath: no way out of the hierarchy with "..".
  const cleaned = path.posix.normalize(abs ? raw : `/${raw}`);
  if (cleaned === '/') {
    throw new ChrunError('CHRUN_INVALID_ARGUMENT', `invalid cgroup path "${raw}": the root`);
  }
  return abs ? cleaned : cleaned.slice(1);
}

/**
 * The directory of cgroup `cgPath` in a hierarchy mounted at `mount` whose controllers are
 * `controllers` ([] for the unified one). A relative `cgPath` is joined to the caller's own
 * cgroup in that hierarchy, found in `own` (parsed /proc/self/cgroup).
 */
export function hierarchyDir(
  mount: string,
  controllers: readonly string[],
  cgPath: string,
  own: readonly ProcCgroupEntry[] = [],
): string {
  if (cgPath.startsWith('/')) return path.posix.join(mount, cgPath);
  const entry =
    controllers.length === 0
      ? own.find((e) => e.id === 0 && e.controllers.length === 0)
      : own.find((e) => controllers.some((c) => e.controllers.includes(c)));
  return path.posix.join(mount, entry?.path ?? '/', cgPath);
}
