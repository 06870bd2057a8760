import { isalGunzip } from '../sys/index.js';
import { decompress, readTar } from '../tar/index.js';
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
  /** The blob's file once it is stored, if it is a file: the layer is applied in a worker. */
  path?: () => Promise<string>;
}

/**
 * The layer of a blob: decompressed, read as tar, and checked as it goes. The blob may not be
 * longer than its declared size (reading stops and the layer is refused as soon as it is) nor
 * shorter, and the uncompressed stream must hash to the diffID.
 */
export function blobLayer(blob: LayerBlob): UnpackLayer {
  const m = /^sha256:([0-9a-f]{64})$/.exec(blob.diffId);
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
      const source = await blob.open();
      let compressed = 0;
      const counted = (async function* () {
        for await (const chunk of source) {
          compressed += chunk.byteLength;
          yield chunk;
        }
      })();
      const gunzip = isalGunzip();
      let got: string | undefined;
      const hashed = (async function* () {
        got = yield* decompress(counted, {
          maxInputBytes: blob.size,
          sha256: true,
          ...(gunzip === undefined ? {} : { gunzip }),
        });
      })();
      return {
        entries: readTar(hashed),
        done: () => {
          if (compressed !== blob.size) {
            throw new ChrunError(
              'CHRUN_SIZE_MISMATCH',
              `apply layer ${blob.digest}: the blob has ${compressed} bytes where its descriptor says ${blob.size}`,
              { fields: { digest: blob.digest } },
            );
          }
          if (got !== m[1]) {
            throw new ChrunError(
              'CHRUN_DIGEST_MISMATCH',
              `apply layer ${blob.digest}: its uncompressed content is sha256:${got}, the image config says ${blob.diffId}`,
              { fields: { digest: blob.digest } },
            );
          }
          return Promise.resolve();
        },
      };
    },
  };
}
