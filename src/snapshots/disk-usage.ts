import { lstatSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { errnoCode } from '../util/index.js';

export interface Usage {
  /** Bytes of disk space used (allocated blocks, each inode counted once). */
  bytes: number;
  /** Inodes. */
  inodes: number;
}

/** Disk space used by the tree at `root` (like `du -s`), hardlinked inodes counted once. */
export function diskUsage(root: string, seen = new Set<string>()): Usage {
  const usage: Usage = { bytes: 0, inodes: 0 };
  const visit = (p: string): void => {
    let st;
    try {
      st = lstatSync(p);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return;
      throw err;
    }
    const key = `${st.dev}:${st.ino}`;
    if (!seen.has(key)) {
      seen.add(key);
      usage.bytes += st.blocks * 512;
      usage.inodes++;
    }
    if (st.isDirectory()) {
      for (const name of readdirSync(p)) visit(path.join(p, name));
    }
  };
  visit(root);
  return usage;
}
