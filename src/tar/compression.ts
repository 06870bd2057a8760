import { ChrunError } from '../util/index.js';

/** The layer compressions of the OCI image spec. */
export type Compression = 'gzip' | 'zstd' | 'none';

const GZIP = [0x1f, 0x8b];
const ZSTD = [0x28, 0xb5, 0x2f, 0xfd];
const XZ = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
const BZIP2 = [0x42, 0x5a, 0x68];

const startsWith = (head: Uint8Array, magic: number[]): boolean =>
  head.length >= magic.length && magic.every((b, i) => head[i] === b);

/** How many leading bytes detectCompression wants to see (fewer only at the end of data). */
export const DETECT_BYTES = 263;

/**
 * The compression of a stream from its first bytes (magic numbers, as docker and containerd
 * detect it). A ustar magic at byte 257 wins, so a tar whose first file is named "BZh..." is
 * not taken for bzip2. xz and bzip2 (which `docker load` accepts but OCI does not) are refused
 * with a clear error; anything else is taken as an uncompressed tar, left to the tar reader
 * to accept or refuse.
 */
export function detectCompression(head: Uint8Array): Compression {
  if (head.length >= 262 && Buffer.from(head.subarray(257, 262)).toString('latin1') === 'ustar') {
    return 'none';
  }
  if (startsWith(head, GZIP)) return 'gzip';
  if (startsWith(head, ZSTD)) return 'zstd';
  const other = startsWith(head, XZ) ? 'xz' : startsWith(head, BZIP2) ? 'bzip2' : undefined;
  if (other !== undefined) {
    throw new ChrunError(
      'CHRUN_UNSUPPORTED',
      `decompress layer: ${other} compression is not supported (only gzip and zstd)`,
    );
  }
  return 'none';
}
