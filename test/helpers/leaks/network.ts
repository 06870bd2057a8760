import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { Item } from './inventory.js';

const run = promisify(execFile);

async function names(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Named network namespaces, as `ip netns list` sees them (the files in /run/netns). */
export async function netnsItems(): Promise<Item[]> {
  return (await names('/run/netns')).map((n) => ({ key: n, text: `netns ${n}` }));
}

/** The links of this network namespace (/sys/class/net, no process spawned). */
export async function linkItems(): Promise<Item[]> {
  return (await names('/sys/class/net')).map((n) => ({ key: n, text: `link ${n}` }));
}

/**
 * The kind of each named link (veth, bridge, dummy, ...) from `ip -d -j link`, to name a leak
 * precisely; only asked when a link leaked, so a clean check spawns nothing for links.
 */
export async function linkKinds(): Promise<Map<string, string>> {
  const kinds = new Map<string, string>();
  try {
    const { stdout } = await run('ip', ['-d', '-j', 'link', 'show']);
    const links = JSON.parse(stdout) as { ifname: string; linkinfo?: { info_kind?: string } }[];
    for (const l of links) {
      if (l.linkinfo?.info_kind !== undefined) kinds.set(l.ifname, l.linkinfo.info_kind);
    }
  } catch {
    // Without iproute2 the leak is still named, only without its kind.
  }
  return kinds;
}
