import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Item } from './inventory.js';
import type { MountEntry } from './mounts.js';

/** One mounted cgroup hierarchy: a v1 controller set, a named v1 hierarchy, or v2. */
export interface Hierarchy {
  mountPoint: string;
  /** The cgroup the mount shows at its mount point (`/` unless mounted from inside). */
  root: string;
  version: 1 | 2;
  /** v1: controllers and `name=...`; v2: empty. */
  controllers: string[];
}

const NOT_CONTROLLERS = new Set(['rw', 'ro', 'clone_children', 'noprefix', 'xattr', '']);

/** The cgroup hierarchies mounted in this mount namespace, each once. */
export function hierarchies(mounts: MountEntry[]): Hierarchy[] {
  const seen = new Set<string>();
  const out: Hierarchy[] = [];
  for (const m of mounts) {
    if (m.fsType !== 'cgroup' && m.fsType !== 'cgroup2') continue;
    if (seen.has(m.dev)) continue;
    seen.add(m.dev);
    const version = m.fsType === 'cgroup2' ? 2 : 1;
    out.push({
      mountPoint: m.mountPoint,
      root: m.root,
      version,
      controllers:
        version === 2
          ? []
          : m.superOptions.filter(
              (o) => !NOT_CONTROLLERS.has(o) && !o.startsWith('release_agent='),
            ),
    });
  }
  return out;
}

/** Parses /proc/PID/cgroup into (hierarchy id, controllers, path) lines. */
export function parseProcCgroup(
  text: string,
): { id: number; controllers: string[]; path: string }[] {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const m = /^(\d+):([^:]*):(.*)$/.exec(l);
      if (!m) throw new Error(`parse /proc/self/cgroup: bad line: ${l}`);
      return { id: Number(m[1]), controllers: m[2]!.split(',').filter(Boolean), path: m[3]! };
    });
}

/** Where `own` (from /proc/self/cgroup) puts this process in `h`, relative to its mount. */
export function ownCgroupIn(
  h: Hierarchy,
  own: ReturnType<typeof parseProcCgroup>,
): string | undefined {
  const line = own.find((l) =>
    h.version === 2
      ? l.id === 0 && l.controllers.length === 0
      : l.controllers.length > 0 && l.controllers.every((c) => h.controllers.includes(c)),
  );
  if (!line) return undefined;
  if (h.root === '/') return line.path;
  if (line.path === h.root) return '/';
  return line.path.startsWith(`${h.root}/`) ? line.path.slice(h.root.length) : undefined;
}

/**
 * The cgroups that belong to whoever placed this process, not to the test: when this
 * process sits at least two levels deep (a session manager's `/sessions/<ours>`, systemd's
 * `/user.slice/.../session-1.scope`), its siblings and their subtrees are other sessions'
 * and come and go as they please. Our own cgroup and everything under it stays checked.
 */
export function foreignPrefix(ownPath: string | undefined): ((rel: string) => boolean) | undefined {
  if (ownPath === undefined) return undefined;
  const parts = ownPath.split('/').filter(Boolean);
  if (parts.length < 2) return undefined;
  const parent = `/${parts.slice(0, -1).join('/')}`;
  const own = `/${parts.join('/')}`;
  return (rel) => rel.startsWith(`${parent}/`) && rel !== own && !rel.startsWith(`${own}/`);
}

async function subdirs(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries.filter((e) => e.isDirectory()).map((e) => e.name);
  } catch (err) {
    // A cgroup removed while we walk is simply not there.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Every cgroup directory of every hierarchy, the root directories excluded. */
export async function cgroupItems(mounts: MountEntry[]): Promise<Item[]> {
  const own = parseProcCgroup(await readFile('/proc/self/cgroup', 'utf8'));
  const items: Item[] = [];
  for (const h of hierarchies(mounts)) {
    const foreign = foreignPrefix(ownCgroupIn(h, own));
    const walk = async (rel: string): Promise<void> => {
      const names = await subdirs(path.join(h.mountPoint, rel));
      await Promise.all(
        names.map(async (name) => {
          const childRel = rel === '/' ? `/${name}` : `${rel}/${name}`;
          if (foreign?.(childRel)) return;
          const abs = path.join(h.mountPoint, childRel);
          items.push({
            key: abs,
            text: `cgroup ${abs}`,
            parent: rel === '/' ? undefined : path.join(h.mountPoint, rel),
          });
          await walk(childRel);
        }),
      );
    };
    await walk('/');
  }
  return items;
}
