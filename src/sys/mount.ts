import { readFileSync, realpathSync } from 'node:fs';
import { ChrunError, errnoCode, reasonOf } from '../util/index.js';
import { check, libc, sysError } from './libc.js';

/**
 * A mount as data, containerd style: what to mount (`source`), which file system (`type`:
 * 'overlay', 'bind', 'tmpfs', ...) and its options, flags and file system data together
 * ('ro', 'rbind', 'lowerdir=...'). The target is given when it is mounted, so the same list
 * can be mounted on the host (chroot isolation, tests) or inside a container's own mount
 * namespace by the runtime.
 */
export interface Mount {
  type: string;
  source: string;
  options: string[];
}

/** One mount(2) call, ready to execute: what `planMount` makes of a Mount. */
export interface MountCall {
  source: string;
  fstype: string;
  flags: number;
  data: string;
  /**
   * Change to this directory before calling mount(2): overlay lowerdirs are then given
   * relative to it, which keeps the option string under the kernel's page-size limit for
   * images with many layers (containerd's approach).
   */
  chdir?: string;
}

export const MS = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  SYNCHRONOUS: 0x10,
  REMOUNT: 0x20,
  MANDLOCK: 0x40,
  DIRSYNC: 0x80,
  NOSYMFOLLOW: 0x100,
  NOATIME: 0x400,
  NODIRATIME: 0x800,
  BIND: 0x1000,
  MOVE: 0x2000,
  REC: 0x4000,
  SILENT: 0x8000,
  UNBINDABLE: 0x20000,
  PRIVATE: 0x40000,
  SLAVE: 0x80000,
  SHARED: 0x100000,
  RELATIME: 0x200000,
  STRICTATIME: 0x1000000,
  LAZYTIME: 0x2000000,
} as const;

export const MNT_DETACH = 2;

const FLAGS: Record<string, { set: boolean; flag: number }> = {
  ro: { set: true, flag: MS.RDONLY },
  rw: { set: false, flag: MS.RDONLY },
  nosuid: { set: true, flag: MS.NOSUID },
  suid: { set: false, flag: MS.NOSUID },
  nodev: { set: true, flag: MS.NODEV },
  dev: { set: false, flag: MS.NODEV },
  noexec: { set: true, flag: MS.NOEXEC },
  exec: { set: false, flag: MS.NOEXEC },
  sync: { set: true, flag: MS.SYNCHRONOUS },
  async: { set: false, flag: MS.SYNCHRONOUS },
  dirsync: { set: true, flag: MS.DIRSYNC },
  noatime: { set: true, flag: MS.NOATIME },
  atime: { set: false, flag: MS.NOATIME },
  nodiratime: { set: true, flag: MS.NODIRATIME },
  diratime: { set: false, flag: MS.NODIRATIME },
  relatime: { set: true, flag: MS.RELATIME },
  strictatime: { set: true, flag: MS.STRICTATIME },
  bind: { set: true, flag: MS.BIND },
  rbind: { set: true, flag: MS.BIND | MS.REC },
  remount: { set: true, flag: MS.REMOUNT },
  defaults: { set: true, flag: 0 },
};

/** The kernel's limit on the data argument of mount(2), with containerd's safety margin. */
const MAX_DATA = 4096 - 512;

/** Splits containerd-style options into mount flags and the file system's data string. */
export function parseMountOptions(options: readonly string[]): { flags: number; data: string[] } {
  let flags = 0;
  const data: string[] = [];
  for (const opt of options) {
    const f = FLAGS[opt];
    if (f === undefined) data.push(opt);
    else if (f.set) flags |= f.flag;
    else flags &= ~f.flag;
  }
  return { flags, data };
}

/**
 * The mount(2) calls that mount `m`. A read-only bind mount needs a second, remounting call
 * (the kernel ignores MS_RDONLY on the first). An overlay whose options would not fit in a
 * page gets its lowerdirs made relative to their common parent, with `chdir` set.
 */
export function planMount(m: Mount): MountCall[] {
  const { flags, data } = parseMountOptions(m.options);
  if (m.type === 'overlay') {
    const call: MountCall = { source: m.source, fstype: 'overlay', flags, data: data.join(',') };
    if (call.data.length >= MAX_DATA) compactLowerdirs(call, data);
    checkOverlayLimits(call, data);
    return [call];
  }
  if ((flags & MS.BIND) !== 0) {
    const calls: MountCall[] = [
      { source: m.source, fstype: 'none', flags: flags & ~MS.RDONLY, data: data.join(',') },
    ];
    const keep = MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.NOATIME | MS.RELATIME;
    if ((flags & keep) !== 0) {
      calls.push({
        source: 'none',
        fstype: 'none',
        flags: MS.REMOUNT | MS.BIND | (flags & keep),
        data: '',
      });
    }
    return calls;
  }
  return [{ source: m.source, fstype: m.type, flags, data: data.join(',') }];
}

/** overlayfs's limit on the number of lower layers (OVL_MAX_STACK). */
export const OVERLAY_MAX_LOWERS = 500;
/** The kernel copies at most a page of mount data, NUL included. */
const PAGE_DATA = 4095;

/** Refuses, with the reason, an overlay the kernel would refuse for its size. */
function checkOverlayLimits(call: MountCall, data: string[]): void {
  const lowers = data.find((o) => o.startsWith('lowerdir='))?.split(':').length ?? 0;
  if (lowers > OVERLAY_MAX_LOWERS) {
    throw new ChrunError(
      'CHRUN_UNSUPPORTED',
      `mount overlay: ${lowers} layers, above overlayfs's limit of ${OVERLAY_MAX_LOWERS} lower directories`,
    );
  }
  if (Buffer.byteLength(call.data) > PAGE_DATA) {
    throw new ChrunError(
      'CHRUN_UNSUPPORTED',
      `mount overlay: ${lowers} layers need ${Buffer.byteLength(call.data)} bytes of mount options even with short relative paths, above the kernel's limit of ${PAGE_DATA}`,
    );
  }
}

function compactLowerdirs(call: MountCall, data: string[]): void {
  const i = data.findIndex((o) => o.startsWith('lowerdir='));
  if (i < 0) return;
  const lowers = data[i]!.slice('lowerdir='.length).split(':');
  let common = lowers[0]!.slice(0, lowers[0]!.lastIndexOf('/') + 1);
  for (const l of lowers) {
    while (!l.startsWith(common))
      common = common.slice(0, common.lastIndexOf('/', common.length - 2) + 1);
  }
  if (common === '' || common === '/') return;
  const next = [...data];
  next[i] = `lowerdir=${lowers.map((l) => l.slice(common.length)).join(':')}`;
  call.data = next.join(',');
  call.chdir = common.slice(0, -1);
}

/** Executes one planned call against `target`. */
export function executeMountCall(call: MountCall, target: string): void {
  const c = libc();
  if (call.data.length >= 4096) {
    throw sysError('mount', 7 /* E2BIG */, target);
  }
  if (call.chdir === undefined) {
    check(
      'mount',
      target,
      c.mount(call.source, target, call.fstype, call.flags, call.data || null),
    );
    return;
  }
  // chdir is process-wide; nothing else runs on this thread between the two chdirs because
  // mount(2) is called synchronously.
  const cwd = process.cwd();
  process.chdir(call.chdir);
  try {
    check('mount', target, c.mount(call.source, target, call.fstype, call.flags, call.data));
  } finally {
    process.chdir(cwd);
  }
}

/**
 * Mounts the list on `target`, one over the other, on the host (for the chroot isolation
 * level and for tests; the runtime mounts the same data inside the container). If one fails,
 * the error names it and the kernel's reason, and every mount this call made is unmounted.
 */
export function mountAll(mounts: readonly Mount[], target: string): void {
  let stacked = 0;
  for (const [i, m] of mounts.entries()) {
    try {
      for (const call of planMount(m)) {
        executeMountCall(call, target);
        if ((call.flags & MS.REMOUNT) === 0) stacked++;
      }
    } catch (err) {
      let unwound = true;
      for (; stacked > 0; stacked--) {
        try {
          tryUnmount(target);
        } catch {
          unwound = false;
        }
      }
      const which = mounts.length > 1 ? ` (mount ${i + 1} of ${mounts.length})` : '';
      const left = unwound ? '' : `; the mounts before it could not all be undone`;
      throw new ChrunError(
        'CHRUN_MOUNT_FAILED',
        `mount ${describeMount(m)} on ${target}${which}: ${reasonOf(err)}${left}`,
        { cause: err, fields: { path: target, op: 'mount' } },
      );
    }
  }
}

/** 'tmpfs', 'bind /src', 'overlay': the type, and the source when it says more. */
function describeMount(m: Mount): string {
  const { flags } = parseMountOptions(m.options);
  const type = (flags & MS.BIND) !== 0 ? 'bind' : m.type;
  return m.source === '' || m.source === m.type || m.source === 'none'
    ? type
    : `${type} ${m.source}`;
}

/** umount2(2); `detach` for MNT_DETACH. Throws on failure. */
export function unmount(target: string, detach = false): void {
  check('umount2', target, libc().umount2(target, detach ? MNT_DETACH : 0));
}

/** mountinfo's escapes (\040 for a space, ...) undone. */
function unescapeMountinfo(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/**
 * Whether something is mounted on `target` (an absolute path, as mountinfo spells it) in
 * this mount namespace. Reading mountinfo costs microseconds; asking umount2 means loading
 * the libc bindings (koffi, ~10-20 ms of a CLI start) where usually nothing is mounted.
 */
export function isMountPoint(target: string): boolean {
  let real: string;
  let text: string;
  try {
    real = realpathSync(target); // mountinfo names the path with its symlinks resolved
  } catch (err) {
    const code = errnoCode(err);
    return code !== 'ENOENT' && code !== 'ENOTDIR'; // gone: nothing to unmount; else ask
  }
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return true; // cannot tell: let umount2 decide
  }
  for (const line of text.split('\n')) {
    const field = line.split(' ', 5)[4];
    if (field !== undefined && unescapeMountinfo(field) === real) return true;
  }
  return false;
}

/** Unmounts if something is mounted there; false when nothing was (EINVAL) or it is gone. */
export function tryUnmount(target: string): boolean {
  const c = libc();
  if (c.umount2(target, 0) === 0) return true;
  const errno = c.errno();
  if (errno === 22 /* EINVAL: not a mount point */ || errno === 2 /* ENOENT */) return false;
  if (errno === 16 /* EBUSY */) {
    check('umount2', target, c.umount2(target, MNT_DETACH));
    return true;
  }
  throw sysError('umount2', errno, target);
}
