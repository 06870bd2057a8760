import { MS } from '../sys/index.js';

/** An OCI mount's options split into mount(2) flags, propagation, and data. */
export interface ParsedMountOptions {
  flags: number;
  /** Flags for the read-only (or nosuid...) remount a bind mount needs. */
  bind: boolean;
  recursive: boolean;
  /** MS_SHARED / MS_SLAVE / MS_PRIVATE / MS_UNBINDABLE, with MS_REC when 'r'-prefixed. */
  propagation: number;
  data: string[];
}

const SET: Record<string, number> = {
  ro: MS.RDONLY,
  nosuid: MS.NOSUID,
  nodev: MS.NODEV,
  noexec: MS.NOEXEC,
  sync: MS.SYNCHRONOUS,
  dirsync: MS.DIRSYNC,
  mand: MS.MANDLOCK,
  noatime: MS.NOATIME,
  nodiratime: MS.NODIRATIME,
  relatime: MS.RELATIME,
  strictatime: MS.STRICTATIME,
  nosymfollow: MS.NOSYMFOLLOW,
  lazytime: MS.LAZYTIME,
};

const CLEAR: Record<string, number> = {
  rw: MS.RDONLY,
  suid: MS.NOSUID,
  dev: MS.NODEV,
  exec: MS.NOEXEC,
  async: MS.SYNCHRONOUS,
  nomand: MS.MANDLOCK,
  atime: MS.NOATIME,
  diratime: MS.NODIRATIME,
  norelatime: MS.RELATIME,
  nostrictatime: MS.STRICTATIME,
  symfollow: MS.NOSYMFOLLOW,
  nolazytime: MS.LAZYTIME,
};

const PROPAGATION: Record<string, number> = {
  private: MS.PRIVATE,
  rprivate: MS.PRIVATE | MS.REC,
  shared: MS.SHARED,
  rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE,
  rslave: MS.SLAVE | MS.REC,
  unbindable: MS.UNBINDABLE,
  runbindable: MS.UNBINDABLE | MS.REC,
};

/** Options the kernel does not take and runc ignores. */
const IGNORED = new Set(['defaults', 'tmpcopyup', 'idmap', 'ridmap', 'copy-symlink']);

export function parseOciMountOptions(options: readonly string[] | undefined): ParsedMountOptions {
  const out: ParsedMountOptions = {
    flags: 0,
    bind: false,
    recursive: false,
    propagation: 0,
    data: [],
  };
  for (const opt of options ?? []) {
    if (opt === 'bind' || opt === 'rbind') {
      out.bind = true;
      out.recursive ||= opt === 'rbind';
    } else if (opt in SET) {
      out.flags |= SET[opt] ?? 0;
    } else if (opt in CLEAR) {
      out.flags &= ~(CLEAR[opt] ?? 0);
    } else if (opt in PROPAGATION) {
      out.propagation = PROPAGATION[opt] ?? 0;
    } else if (!IGNORED.has(opt)) {
      out.data.push(opt);
    }
  }
  return out;
}

/** rootfsPropagation ('rslave', 'private', ...) as mount flags. */
export function propagationFlags(name: string): number | undefined {
  return PROPAGATION[name];
}
