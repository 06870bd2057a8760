import { readFile } from 'node:fs/promises';
import type { Item } from './inventory.js';

export interface MountEntry {
  id: number;
  parentId: number;
  /** major:minor of the filesystem. */
  dev: string;
  /** The directory of the filesystem that is mounted (not `/` for bind mounts). */
  root: string;
  mountPoint: string;
  options: string[];
  /** Propagation tags without their peer group numbers: shared, master, unbindable. */
  propagation: string[];
  fsType: string;
  source: string;
  superOptions: string[];
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Parses /proc/PID/mountinfo (proc(5)). */
export function parseMountinfo(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const fields = line.split(' ');
    const sep = fields.indexOf('-', 6);
    if (sep < 0 || fields.length < sep + 3) throw new Error(`parse mountinfo: bad line: ${line}`);
    entries.push({
      id: Number(fields[0]),
      parentId: Number(fields[1]),
      dev: fields[2]!,
      root: unescape(fields[3]!),
      mountPoint: unescape(fields[4]!),
      options: fields[5]!.split(','),
      propagation: fields
        .slice(6, sep)
        .map((f) => f.replace(/:\d+$/, ''))
        .sort(),
      fsType: fields[sep + 1]!,
      source: unescape(fields[sep + 2]!),
      superOptions: (fields[sep + 3] ?? '').split(','),
    });
  }
  return entries;
}

/**
 * `ip netns add` bind-mounts /run/netns on itself (shared) the first time it runs and never
 * undoes it; that mount is iproute2's, harmless, and not a leak of the test that ran first.
 */
function isNetnsDirMount(m: MountEntry): boolean {
  return (
    (m.mountPoint === '/run/netns' || m.mountPoint === '/var/run/netns') && m.fsType !== 'nsfs'
  );
}

/** One item per mount: identity is where, what, from where, read-only or not, propagation. */
export function mountItems(entries: MountEntry[]): Item[] {
  const items: Item[] = [];
  for (const m of entries) {
    if (isNetnsDirMount(m)) continue;
    const ro = m.options.includes('ro') ? 'ro' : 'rw';
    const details: string[] = [];
    if (m.source !== m.fsType && m.source !== 'none') details.push(`source ${m.source}`);
    if (m.root !== '/') details.push(`root ${m.root}`);
    if (ro === 'ro') details.push('ro');
    if (m.propagation.length > 0) details.push(m.propagation.join(' '));
    items.push({
      key: [m.mountPoint, m.fsType, m.source, m.root, ro, m.propagation.join(',')].join('\0'),
      text: `mount ${m.fsType} on ${m.mountPoint}${details.length > 0 ? ` (${details.join(', ')})` : ''}`,
    });
  }
  return items;
}

export async function readMountinfo(): Promise<MountEntry[]> {
  return parseMountinfo(await readFile('/proc/self/mountinfo', 'utf8'));
}
