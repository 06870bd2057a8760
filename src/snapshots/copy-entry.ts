import {
  closeSync,
  copyFileSync,
  lchownSync,
  lutimesSync,
  mkdirSync,
  openSync,
  fchmodSync,
  fchownSync,
  futimesSync,
  readlinkSync,
  symlinkSync,
  chmodSync,
  constants,
  type Stats,
} from 'node:fs';
import { fsCalls, splitdev } from '../sys/index.js';

/** Extended attributes that belong to overlayfs itself and never travel between layers. */
export function isOverlayXattr(name: string): boolean {
  return name.startsWith('trusted.overlay.');
}

/** Copies every xattr of `from` to `to` except overlayfs's own. */
export function copyXattrs(from: string, to: string, isSymlink: boolean): void {
  for (const [name, value] of fsCalls.readXattrs(from)) {
    if (isOverlayXattr(name)) continue;
    if (isSymlink && name.startsWith('user.')) continue; // the kernel refuses user.* on symlinks
    fsCalls.setXattr(to, name, value);
  }
}

/**
 * Copies one non-directory entry (file, symlink, device node, fifo) from `from` to the new
 * path `to` with its owner, mode (set after the owner, which clears setuid bits), xattrs
 * (after the owner, which clears file capabilities) and times. `to` must not exist.
 */
export function copyEntry(from: string, to: string, st: Stats): void {
  if (st.isSymbolicLink()) {
    symlinkSync(readlinkSync(from), to);
    lchownSync(to, st.uid, st.gid);
    copyXattrs(from, to, true);
    lutimesSync(to, st.atime, st.mtime);
    return;
  }
  if (st.isFile()) {
    copyFileSync(from, to, constants.COPYFILE_EXCL);
    const fd = openSync(to, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      fchownSync(fd, st.uid, st.gid);
      fchmodSync(fd, st.mode & 0o7777);
      copyXattrs(from, to, false);
      futimesSync(fd, st.atime, st.mtime);
    } finally {
      closeSync(fd);
    }
    return;
  }
  const kind = st.isCharacterDevice() ? 'chardev' : st.isBlockDevice() ? 'blockdev' : 'fifo';
  if (!st.isCharacterDevice() && !st.isBlockDevice() && !st.isFIFO()) return; // sockets: skipped
  const { major, minor } = splitdev(st.rdev);
  fsCalls.mknod(to, kind, 0o600, major, minor);
  lchownSync(to, st.uid, st.gid);
  chmodSync(to, st.mode & 0o7777);
  copyXattrs(from, to, false);
  lutimesSync(to, st.atime, st.mtime);
}

/** Creates directory `to` with the owner, mode and xattrs of `from` (times are the caller's). */
export function copyDirMeta(from: string, to: string, st: Stats): void {
  mkdirSync(to, { mode: 0o700 });
  applyDirMeta(from, to, st);
}

/** Gives the existing directory `to` the owner, mode and xattrs of `from`. */
export function applyDirMeta(from: string, to: string, st: Stats): void {
  lchownSync(to, st.uid, st.gid);
  chmodSync(to, st.mode & 0o7777);
  copyXattrs(from, to, false);
}
