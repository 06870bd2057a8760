import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Item } from './inventory.js';

/** A directory to watch: its entries down to `depth` levels (1: the names in it). */
export interface WatchedDir {
  path: string;
  depth?: number;
  /** Only entries whose path relative to the directory matches. */
  match?: RegExp;
}

async function entries(dir: string): Promise<{ name: string; isDir: boolean }[]> {
  try {
    const list = await readdir(dir, { withFileTypes: true });
    return list.map((e) => ({ name: e.name, isDir: e.isDirectory() }));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw err;
  }
}

/** The watched directories themselves (when they exist) and the entries under them. */
export async function fileItems(dirs: readonly (string | WatchedDir)[]): Promise<Item[]> {
  const items: Item[] = [];
  for (const spec of dirs) {
    const w = typeof spec === 'string' ? { path: spec } : spec;
    const top = path.resolve(w.path);
    const depth = w.depth ?? 1;
    try {
      await lstat(top);
    } catch {
      continue;
    }
    items.push({ key: top, text: `file ${top}` });
    const walk = async (dir: string, level: number): Promise<void> => {
      for (const e of await entries(dir)) {
        const abs = path.join(dir, e.name);
        const rel = path.relative(top, abs);
        if (w.match === undefined || w.match.test(rel)) {
          items.push({ key: abs, text: `file ${abs}${e.isDir ? '/' : ''}`, parent: dir });
        }
        if (e.isDir && level < depth) await walk(abs, level + 1);
      }
    };
    await walk(top, 1);
  }
  return items;
}
