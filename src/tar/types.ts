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

/** One entry as the reader yields it. */
export interface TarEntry {
  header: TarHeader;
  /**
   * Exactly `header.size` bytes. Iterate it at most once, before asking the reader for the
   * next entry; a body left unread (or half read) is skipped when the reader moves on. The
   * pieces are views of the source's chunks (no copy): a source must not reuse its buffers.
   */
  body: AsyncIterable<Buffer>;
}

export interface ReadTarOptions {
  /**
   * Refuse archives longer than this many bytes (the tar stream, after decompression). The
   * reader stops pulling from the source as soon as the limit is passed.
   */
  maxBytes?: number;
  /** Largest PAX extended header or GNU long name/link body accepted (default 1 MiB). */
  maxMetaBytes?: number;
  /**
   * Accept an archive that ends right after an entry, without any end-of-archive zero block
   * (default false: such an archive is taken as truncated).
   */
  allowMissingEnd?: boolean;
}

/** A body the writer accepts: bytes at once, or a stream of exactly `size` bytes. */
export type TarBody = Uint8Array | AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

/** One entry for the writer. A file's size defaults to the length of a Uint8Array body. */
export interface TarWriteEntry {
  header: TarHeaderInput;
  body?: TarBody;
}
