import { check, libc } from './libc.js';

const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
const S_IFIFO = 0o010000;

export type NodeKind = 'chardev' | 'blockdev' | 'fifo';

/** glibc's makedev(3): the 64-bit device number of major:minor. */
export function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major >>> 0);
  const mi = BigInt(minor >>> 0);
  return (
    ((ma & 0xfffff000n) << 32n) | ((ma & 0xfffn) << 8n) | ((mi & 0xffffff00n) << 12n) | (mi & 0xffn)
  );
}

/** major(3) and minor(3) of a device number as Node's fs.Stats gives it (rdev). */
export function splitdev(rdev: number): { major: number; minor: number } {
  const dev = BigInt(rdev);
  const major = Number(((dev >> 32n) & 0xfffff000n) | ((dev >> 8n) & 0xfffn));
  const minor = Number(((dev >> 12n) & 0xffffff00n) | (dev & 0xffn));
  return { major, minor };
}

/**
 * File system calls Node lacks: device nodes, fifos and extended attributes. All act on the
 * path itself, never following a final symlink. Failures throw Node-style system errors.
 */
export const fsCalls = {
  /** mknod(2) for a character or block device or a fifo (permission bits are subject to the umask). */
  mknod(path: string, kind: NodeKind, mode: number, major = 0, minor = 0): void {
    const type = kind === 'chardev' ? S_IFCHR : kind === 'blockdev' ? S_IFBLK : S_IFIFO;
    const dev = kind === 'fifo' ? 0n : makedev(major, minor);
    check('mknod', path, libc().mknod(path, type | (mode & 0o7777), dev));
  },

  /** lsetxattr(2) with a binary value. */
  setXattr(path: string, name: string, value: Buffer): void {
    check('lsetxattr', path, libc().lsetxattr(path, name, value, value.length, 0));
  },

  /** lgetxattr(2); undefined when the attribute is not set. */
  getXattr(path: string, name: string): Buffer | undefined {
    const c = libc();
    for (;;) {
      const size = c.lgetxattr(path, name, null, 0);
      if (size < 0) {
        const errno = c.errno();
        if (errno === 61 /* ENODATA */) return undefined;
        check('lgetxattr', path, size);
      }
      const buf = Buffer.alloc(size);
      const got = c.lgetxattr(path, name, buf, size);
      if (got < 0 && c.errno() === 34 /* ERANGE: grew meanwhile */) continue;
      check('lgetxattr', path, got);
      return buf.subarray(0, got);
    }
  },

  /** llistxattr(2): the names of the attributes set on the path. */
  listXattrs(path: string): string[] {
    const c = libc();
    for (;;) {
      const size = check('llistxattr', path, c.llistxattr(path, null, 0));
      if (size === 0) return [];
      const buf = Buffer.alloc(size);
      const got = c.llistxattr(path, buf, size);
      if (got < 0 && c.errno() === 34) continue;
      check('llistxattr', path, got);
      return buf
        .subarray(0, got)
        .toString('utf8')
        .split('\0')
        .filter((n) => n !== '');
    }
  },

  /** All extended attributes of the path, values as raw bytes. */
  readXattrs(path: string): Map<string, Buffer> {
    const out = new Map<string, Buffer>();
    for (const name of fsCalls.listXattrs(path)) {
      const value = fsCalls.getXattr(path, name);
      if (value !== undefined) out.set(name, value);
    }
    return out;
  },

  removeXattr(path: string, name: string): void {
    check('lremovexattr', path, libc().lremovexattr(path, name));
  },
};
