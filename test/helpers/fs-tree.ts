import { execFileSync } from 'node:child_process';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';
import { createHash } from 'node:crypto';

/** What a file system object looks like, in the terms of a tar header. */
export interface TreeNode {
  type: 'file' | 'directory' | 'symlink' | 'chardev' | 'blockdev' | 'fifo' | 'socket';
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtimeMs: number;
  linkname: string;
  devmajor: number;
  devminor: number;
  ino: number;
  nlink: number;
  /** sha256 of a file's content. */
  sha256: string;
  /** xattrs as getfattr(1) reports them (an independent reader), values as bytes. */
  xattrs: Map<string, Buffer>;
}

const major = (rdev: number): number =>
  ((rdev >> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff);
const minor = (rdev: number): number => (rdev & 0xff) | ((rdev >> 12) & ~0xff & 0xfffff);

/**
 * Every object under `root` (not root itself), keyed by its path relative to root, with
 * symlinks not followed. xattrs come from `getfattr -d -m - -e hex` (package attr).
 */
export async function readTree(root: string): Promise<Map<string, TreeNode>> {
  const out = new Map<string, TreeNode>();
  const xattrs = getfattr(root);
  const walk = async (dir: string): Promise<void> => {
    for (const name of (await readdir(dir)).sort()) {
      const p = path.join(dir, name);
      const rel = path.relative(root, p);
      const st = await lstat(p);
      const type = st.isFile()
        ? 'file'
        : st.isDirectory()
          ? 'directory'
          : st.isSymbolicLink()
            ? 'symlink'
            : st.isCharacterDevice()
              ? 'chardev'
              : st.isBlockDevice()
                ? 'blockdev'
                : st.isFIFO()
                  ? 'fifo'
                  : 'socket';
      out.set(rel, {
        type,
        mode: st.mode & 0o7777,
        uid: st.uid,
        gid: st.gid,
        size: type === 'file' ? st.size : 0,
        mtimeMs: st.mtimeMs,
        linkname: type === 'symlink' ? await readlink(p) : '',
        devmajor: type === 'chardev' || type === 'blockdev' ? major(st.rdev) : 0,
        devminor: type === 'chardev' || type === 'blockdev' ? minor(st.rdev) : 0,
        ino: st.ino,
        nlink: st.nlink,
        sha256:
          type === 'file'
            ? createHash('sha256')
                .update(await readFile(p))
                .digest('hex')
            : '',
        xattrs: xattrs.get(rel) ?? new Map<string, Buffer>(),
      });
      if (type === 'directory') await walk(p);
    }
  };
  await walk(root);
  return out;
}

/** `getfattr -R -h -d -m - -e hex` of a tree, parsed: relative path -> name -> value. */
export function getfattr(root: string): Map<string, Map<string, Buffer>> {
  const text = execFileSync(
    'getfattr',
    ['-R', '-h', '-P', '-d', '-m', '-', '-e', 'hex', '--absolute-names', root],
    {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    },
  );
  const out = new Map<string, Map<string, Buffer>>();
  let current: Map<string, Buffer> | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('# file: ')) {
      current = new Map();
      out.set(path.relative(root, line.slice(8)), current);
    } else if (current !== undefined && line.includes('=')) {
      const eq = line.indexOf('=');
      const value = line.slice(eq + 1);
      const bytes = value.startsWith('0x')
        ? Buffer.from(value.slice(2), 'hex')
        : Buffer.from(JSON.parse(value) as string);
      current.set(line.slice(0, eq), bytes);
    }
  }
  return out;
}
