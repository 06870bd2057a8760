import { archiveError } from './tar-error.js';

/** Byte offsets and widths of the ustar header fields (POSIX.1-1988, GNU shares them). */
export const F = {
  name: [0, 100],
  mode: [100, 8],
  uid: [108, 8],
  gid: [116, 8],
  size: [124, 12],
  mtime: [136, 12],
  chksum: [148, 8],
  typeflag: [156, 1],
  linkname: [157, 100],
  magic: [257, 6],
  version: [263, 2],
  uname: [265, 32],
  gname: [297, 32],
  devmajor: [329, 8],
  devminor: [337, 8],
  prefix: [345, 155],
} as const satisfies Record<string, readonly [number, number]>;

export const BLOCK = 512;

/** The NUL-terminated string of a field, decoded as UTF-8. */
export function readString(block: Buffer, [off, len]: readonly [number, number]): string {
  let end = block.indexOf(0, off);
  if (end < 0 || end > off + len) end = off + len;
  return end === off ? '' : block.toString('utf8', off, end);
}

/** The NUL-terminated bytes of a field. */
export function readBytes(block: Buffer, [off, len]: readonly [number, number]): Buffer {
  let end = block.indexOf(0, off);
  if (end < 0 || end > off + len) end = off + len;
  return block.subarray(off, end);
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A file name: its UTF-8 text, or, when the bytes are not UTF-8, the bytes (names are
 * strings from here on, and a lossy decoding would write another name, or merge two).
 */
export type NameBytes = string | { invalid: Buffer };

export function decodeName(bytes: Buffer): NameBytes {
  try {
    return STRICT_UTF8.decode(bytes);
  } catch {
    return { invalid: Buffer.from(bytes) };
  }
}

/** The bytes of a name that is not UTF-8, printable: ASCII as is, the rest as \xNN. */
export function showBytes(bytes: Buffer): string {
  let out = '';
  for (const b of bytes) {
    out +=
      b >= 0x20 && b < 0x7f && b !== 0x5c
        ? String.fromCharCode(b)
        : `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return out;
}

/**
 * A numeric field: octal digits (leading spaces and NULs allowed, ended by a space or NUL), or
 * GNU/star base-256 (top bit of the first byte set). Values beyond 2^53 are refused, and so are
 * negative ones unless `signed` (only mtime may be before 1970): hostile headers use them to
 * break readers.
 */
export function readNumber(
  block: Buffer,
  [off, len]: readonly [number, number],
  field: string,
  at: number,
  signed = false,
): number {
  const first = block[off]!;
  if ((first & 0x80) !== 0) {
    // Base-256, two's complement (as Go's archive/tar reads it): the top bit marks the
    // encoding, the next one the sign.
    const negative = (first & 0x40) !== 0;
    if (negative && !signed) throw archiveError(`negative ${field} in header`, at);
    const inv = negative ? 0xff : 0;
    let v = (first ^ inv) & 0x7f;
    for (let i = off + 1; i < off + len; i++) {
      v = v * 256 + (block[i]! ^ inv);
      if (v > Number.MAX_SAFE_INTEGER) throw archiveError(`${field} out of range in header`, at);
    }
    return negative ? -v - 1 : v;
  }
  let i = off;
  const end = off + len;
  while (i < end && (block[i] === 0x20 || block[i] === 0)) i++;
  let v = 0;
  for (; i < end; i++) {
    const c = block[i]!;
    if (c < 0x30 || c > 0x37) break;
    v = v * 8 + (c - 0x30);
  }
  for (; i < end; i++) {
    const c = block[i];
    if (c !== 0x20 && c !== 0) throw archiveError(`invalid ${field} field in header`, at);
  }
  if (v > Number.MAX_SAFE_INTEGER) throw archiveError(`${field} too large in header`, at);
  return v;
}

/**
 * True when the stored checksum matches the block: the sum of all bytes with the checksum field
 * counted as spaces, unsigned (POSIX) or signed (some historic tars; GNU tar accepts both).
 */
export function checksumOk(block: Buffer, at: number): boolean {
  let stored: number;
  try {
    stored = readNumber(block, F.chksum, 'checksum', at);
  } catch {
    return false;
  }
  // The checksum field counts as eight spaces.
  let unsigned = 8 * 0x20;
  for (let i = 0; i < 148; i++) unsigned += block[i]!;
  for (let i = 156; i < BLOCK; i++) unsigned += block[i]!;
  if (stored === unsigned) return true;
  let signed = 8 * 0x20;
  for (let i = 0; i < BLOCK; i++) {
    if (i >= 148 && i < 156) continue;
    const b = block[i]!;
    signed += b > 127 ? b - 256 : b;
  }
  return stored === signed;
}

/** Writes the checksum of a header block whose checksum field is still blank. */
export function writeChecksum(block: Buffer): void {
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += block[i]!;
  block.write(sum.toString(8).padStart(6, '0'), 148, 'ascii');
  block[154] = 0;
  block[155] = 0x20;
}
