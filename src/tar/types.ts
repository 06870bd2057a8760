/** The kinds of tar entries chrun understands. Others (sparse, volume labels) are refused. */
export type TarEntryType =
  'file' | 'hardlink' | 'symlink' | 'chardev' | 'blockdev' | 'directory' | 'fifo';

/**
 * One tar header, after PAX extended headers and GNU long names/links have been applied.
 * `path` and `linkname` are exactly as the archive says (not sanitized: consumers that write
 * to disk must check them).
 */
export interface TarHeader {
  path: string;
  type: TarEntryType;
  /** Permission bits including setuid, setgid and sticky (mask 0o7777). */
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  /** Body size in bytes (0 for everything but regular files). */
  size: number;
  /** Modification time in seconds since the epoch; PAX gives sub-second precision. */
  mtime: number;
  /** Target of a symlink or hardlink, '' otherwise. */
  linkname: string;
  devmajor: number;
  devminor: number;
  /** Extended attributes (PAX SCHILY.xattr.* / LIBARCHIVE.xattr.*), values as raw bytes. */
  xattrs: Map<string, Buffer>;
}

/** What a writer needs; everything but path and type has a sensible default. */
export type TarHeaderInput = Pick<TarHeader, 'path' | 'type'> & Partial<TarHeader>;
