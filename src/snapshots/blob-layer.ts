import { closeSync, openSync, readSync } from 'node:fs';
import { isalGunzipFile, type GunzipFileResult } from '../sys/index.js';
import { decompress, detectCompression, DETECT_BYTES, readTar } from '../tar/index.js';
import { ChrunError } from '../util/index.js';
import type { OpenedLayer, UnpackLayer } from './unpack.js';

/** A layer blob as the content store holds it. */
export interface LayerBlob {
  /** Digest of the (compressed) blob. */
  digest: string;
  /** Its size as the manifest declares it. */
  size: number;
  /** The image config's rootfs.diff_ids entry for it. */
  diffId: string;
  /** The blob's bytes (gzip, zstd or uncompressed: told apart by their magic numbers). */
  open(): AsyncIterable<Uint8Array> | Promise<AsyncIterable<Uint8Array>>;
  /**
   * The blob's file once it is stored, if it is a file: the layer is applied in a worker,
   * and a gzip one is inflated by ISA-L's gunzip jobs (sys/gunzip.ts) reading the file.
   */
  path?: () => Promise<string>;
}

/** True when decompress() would take the file for gzip (its first bytes, as it reads them). */
function isGzipFile(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(DETECT_BYTES);
    return detectCompression(head.subarray(0, readSync(fd, head, 0, DETECT_BYTES, 0))) === 'gzip';
  } catch {
    return false; // xz, bzip2: decompress() refuses them with its own message
  } finally {
    closeSync(fd);
  }
}

/**
 * The layer of a blob: decompressed, read as tar, and checked as it goes. The blob may not be
 * longer than its declared size (reading stops and the layer is refused as soon as it is) nor
 * shorter, and the uncompressed stream must hash to the diffID.
 */
export function blobLayer(blob: LayerBlob): UnpackLayer {
  const m = /^sha256:([0-9a-f]{64})$/.exec(blob.diffId);
  const check = (compressed: number, got: string | undefined): void => {
    if (compressed !== blob.size) {
      throw new ChrunError(
        'CHRUN_SIZE_MISMATCH',
        `apply layer ${blob.digest}: the blob has ${compressed} bytes where its descriptor says ${blob.size}`,
        { fields: { digest: blob.digest } },
      );
    }
    if (got !== m?.[1]) {
      throw new ChrunError(
        'CHRUN_DIGEST_MISMATCH',
        `apply layer ${blob.digest}: its uncompressed content is sha256:${got}, the image config says ${blob.diffId}`,
        { fields: { digest: blob.digest } },
      );
    }
  };
  return {
    digest: blob.digest,
    diffId: blob.diffId,
    ...(blob.path === undefined ? {} : { file: { size: blob.size, path: blob.path } }),
    async open(): Promise<OpenedLayer> {
      if (m === null) {
        throw new ChrunError(
          'CHRUN_UNSUPPORTED',
          `apply layer ${blob.digest}: diff id '${blob.diffId}' is not a sha256 digest`,
        );
      }
      // A stored gzip blob: ISA-L's gunzip job reads the file itself.
      const file = blob.path === undefined ? undefined : await blob.path();
      const job =
        file !== undefined && isGzipFile(file)
          ? isalGunzipFile(file, blob.size, { sha256: true })
          : undefined;
      if (job !== undefined) {
        let res: GunzipFileResult | undefined;
        const chunks = (async function* () {
          res = yield* job;
        })();
        return {
          entries: readTar(chunks),
          done: () => {
            if (res === undefined) {
              throw new ChrunError(
                'CHRUN_INTERNAL',
                `apply layer ${blob.digest}: the blob was not read to its end`,
              );
            }
            check(res.bytes, res.sha256);
            return Promise.resolve();
          },
        };
      }
      const source = await blob.open();
      let compressed = 0;
      const counted = (async function* () {
        for await (const chunk of source) {
          compressed += chunk.byteLength;
          yield chunk;
        }
      })();
      let got: string | undefined;
      const hashed = (async function* () {
        got = yield* decompress(counted, { maxInputBytes: blob.size, sha256: true });
      })();
      return {
        entries: readTar(hashed),
        done: () => {
          check(compressed, got);
          return Promise.resolve();
        },
      };
    },
  };
}
