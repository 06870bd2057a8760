import os from 'node:os';
import { loadKoffi } from './koffi.js';

/**
 * The few libc calls Node does not offer (mount, umount2, mknod, the l*xattr family), bound
 * with koffi. Measured against spawning the C helper for each call (bench/mount-call.ts):
 * an in-process call costs microseconds where a helper round trip costs milliseconds, and
 * layer application makes thousands of these calls. koffi is loaded on first use only
 * (about 10 ms), so commands that never touch the file system this way never pay for it.
 */
export interface Libc {
  mount(
    source: string | null,
    target: string,
    fstype: string | null,
    flags: number,
    data: string | null,
  ): number;
  umount2(target: string, flags: number): number;
  mknod(path: string, mode: number, dev: bigint): number;
  lsetxattr(path: string, name: string, value: Buffer, size: number, flags: number): number;
  lgetxattr(path: string, name: string, value: Buffer | null, size: number): number;
  llistxattr(path: string, list: Buffer | null, size: number): number;
  lremovexattr(path: string, name: string): number;
  /** ioctl with an int in/out argument (FS_IOC_GETFLAGS, FS_IOC_SETFLAGS). */
  ioctlInt(fd: number, request: number, arg: Int32Array): number;
  errno(): number;
}

let bound: Libc | undefined;

/** The libc bindings, loaded on first use. */
export function libc(): Libc {
  if (bound !== undefined) return bound;
  const koffi = loadKoffi();
  const lib = koffi.load('libc.so.6');
  const f = (decl: string) => lib.func(decl) as (...args: unknown[]) => number;
  const mount = f(
    'int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)',
  );
  const umount2 = f('int umount2(const char *target, int flags)');
  const mknod = f('int mknod(const char *path, uint32_t mode, uint64_t dev)');
  const lsetxattr = f(
    'int lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags)',
  );
  const lgetxattr = f(
    'intptr_t lgetxattr(const char *path, const char *name, void *value, size_t size)',
  );
  const llistxattr = f('intptr_t llistxattr(const char *path, void *list, size_t size)');
  const lremovexattr = f('int lremovexattr(const char *path, const char *name)');
  const ioctl = f('int ioctl(int fd, unsigned long request, _Inout_ int32_t *arg)');
  bound = {
    mount: (s, t, fs, fl, d) => mount(s, t, fs, fl, d),
    umount2: (t, fl) => umount2(t, fl),
    mknod: (p, m, d) => mknod(p, m, d),
    lsetxattr: (p, n, v, s, fl) => lsetxattr(p, n, v, s, fl),
    lgetxattr: (p, n, v, s) => lgetxattr(p, n, v, s),
    llistxattr: (p, l, s) => llistxattr(p, l, s),
    lremovexattr: (p, n) => lremovexattr(p, n),
    ioctlInt: (fd, r, a) => ioctl(fd, r, a),
    errno: () => koffi.errno(),
  };
  return bound;
}

const ERRNO_NAMES = new Map<number, string>(
  Object.entries(os.constants.errno).map(([name, num]) => [num, name]),
);

/** A Node-style system error (code, errno, syscall, path) for the last failed libc call. */
export function sysError(syscall: string, errno: number, path?: string): NodeJS.ErrnoException {
  const code = ERRNO_NAMES.get(errno) ?? `E${errno}`;
  const err: NodeJS.ErrnoException = new Error(
    `${code}: ${syscall}${path === undefined ? '' : ` '${path}'`}`,
  );
  err.code = code;
  err.errno = -errno;
  err.syscall = syscall;
  if (path !== undefined) err.path = path;
  return err;
}

/** Calls `fn`; a negative result throws the errno as a Node-style system error. */
export function check(syscall: string, path: string | undefined, result: number): number {
  if (result < 0) throw sysError(syscall, libc().errno(), path);
  return result;
}
