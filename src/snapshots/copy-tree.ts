import {
  chmodSync,
  lchownSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  utimesSync,
  type Stats,
} from 'node:fs';
import path from 'node:path';
import { copyEntry, copyXattrs } from './copy-entry.js';

/**
 * Copies the tree at `from` to the new directory `to`: every byte (no reflinks, no hardlinks
 * into the source, so nothing done to the copy can reach the original), owners, modes with
 * setuid/setgid/sticky, xattrs, device nodes, fifos, symlinks, and the hardlinks within the
 * tree as hardlinks. Directory times are set after their contents. Sockets are skipped.
 */
export function copyTree(from: string, to: string): void {
  const inodes = new Map<string, string>();
  const dirs: { path: string; atime: Date; mtime: Date }[] = [];
  const rootSt = lstatSync(from);
  mkdirSync(to, { mode: 0o700 });
  const walk = (src: string, dst: string): void => {
    for (const name of readdirSync(src)) {
      const s = path.join(src, name);
      const d = path.join(dst, name);
      const st = lstatSync(s);
      if (st.isDirectory()) {
        mkdirSync(d, { mode: 0o700 });
        walk(s, d);
        meta(s, d, st);
        continue;
      }
      if (st.nlink > 1 && !st.isDirectory()) {
        const key = `${st.dev}:${st.ino}`;
        const first = inodes.get(key);
        if (first !== undefined) {
          linkSync(first, d);
          continue;
        }
        inodes.set(key, d);
      }
      copyEntry(s, d, st);
    }
  };
  const meta = (s: string, d: string, st: Stats): void => {
    lchownSync(d, st.uid, st.gid);
    chmodSync(d, st.mode & 0o7777);
    copyXattrs(s, d, false);
    dirs.push({ path: d, atime: st.atime, mtime: st.mtime });
  };
  walk(from, to);
  meta(from, to, rootSt);
  for (const d of dirs) utimesSync(d.path, d.atime, d.mtime);
}
