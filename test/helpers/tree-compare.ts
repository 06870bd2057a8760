import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { fsCalls, splitdev } from '../../src/sys/index.js';

/** What is compared of each entry of a root file system. */
export interface TreeEntry {
  type: 'dir' | 'file' | 'symlink' | 'chardev' | 'blockdev' | 'fifo' | 'socket';
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  link?: string;
  dev?: string;
  sha256?: string;
  xattrs: Record<string, string>;
}

export interface ReadTreeOptions {
  /** Hash file contents too (default true). */
  contents?: boolean;
  /** Skip these xattr names (e.g. overlayfs's own). */
  ignoreXattr?: (name: string) => boolean;
}

/** Every entry under `root`, keyed by its path relative to root ('.' for the root). */
export function readTree(root: string, opts: ReadTreeOptions = {}): Map<string, TreeEntry> {
  const out = new Map<string, TreeEntry>();
  const visit = (rel: string): void => {
    const abs = rel === '.' ? root : path.join(root, rel);
    const st = lstatSync(abs);
    const type: TreeEntry['type'] = st.isDirectory()
      ? 'dir'
      : st.isFile()
        ? 'file'
        : st.isSymbolicLink()
          ? 'symlink'
          : st.isCharacterDevice()
            ? 'chardev'
            : st.isBlockDevice()
              ? 'blockdev'
              : st.isFIFO()
                ? 'fifo'
                : 'socket';
    const xattrs: Record<string, string> = {};
    for (const [k, v] of fsCalls.readXattrs(abs)) {
      if (opts.ignoreXattr?.(k) === true) continue;
      xattrs[k] = v.toString('hex');
    }
    const e: TreeEntry = {
      type,
      mode: st.mode & 0o7777,
      uid: st.uid,
      gid: st.gid,
      size: type === 'file' ? st.size : 0,
      mtime: Math.floor(st.mtimeMs / 1000),
      xattrs,
    };
    if (type === 'symlink') e.link = readlinkSync(abs);
    if (type === 'chardev' || type === 'blockdev') {
      const { major, minor } = splitdev(st.rdev);
      e.dev = `${major}:${minor}`;
    }
    if (type === 'file' && opts.contents !== false) {
      e.sha256 = createHash('sha256').update(readFileSync(abs)).digest('hex');
    }
    out.set(rel, e);
    if (type === 'dir') {
      for (const name of readdirSync(abs).sort()) visit(rel === '.' ? name : `${rel}/${name}`);
    }
  };
  visit('.');
  return out;
}

export interface CompareOptions {
  /** Compare mtimes too (default true). */
  mtimes?: boolean;
  /** Leave the root directory's own attributes out. */
  ignoreRoot?: boolean;
}

/** The differences between two trees, one readable line each; empty when equal. */
export function compareTrees(
  a: Map<string, TreeEntry>,
  b: Map<string, TreeEntry>,
  names: [string, string] = ['a', 'b'],
  opts: CompareOptions = {},
): string[] {
  const diffs: string[] = [];
  const fields: (keyof TreeEntry)[] = [
    'type',
    'mode',
    'uid',
    'gid',
    'size',
    'link',
    'dev',
    'sha256',
  ];
  if (opts.mtimes !== false) fields.push('mtime');
  for (const [p, ea] of a) {
    if (opts.ignoreRoot === true && p === '.') continue;
    const eb = b.get(p);
    if (eb === undefined) {
      diffs.push(`${p}: only in ${names[0]} (${ea.type})`);
      continue;
    }
    for (const f of fields) {
      if (f === 'mtime' && ea.type === 'symlink') continue;
      const va = ea[f];
      const vb = eb[f];
      if (va !== vb) {
        const fmt = (v: unknown) =>
          f === 'mode' && typeof v === 'number' ? `0${v.toString(8)}` : String(v);
        diffs.push(`${p}: ${f} ${names[0]}=${fmt(va)} ${names[1]}=${fmt(vb)}`);
      }
    }
    const xa = JSON.stringify(Object.entries(ea.xattrs).sort());
    const xb = JSON.stringify(Object.entries(eb.xattrs).sort());
    if (xa !== xb) diffs.push(`${p}: xattrs ${names[0]}=${xa} ${names[1]}=${xb}`);
  }
  for (const [p, eb] of b) {
    if (opts.ignoreRoot === true && p === '.') continue;
    if (!a.has(p)) diffs.push(`${p}: only in ${names[1]} (${eb.type})`);
  }
  return diffs;
}
