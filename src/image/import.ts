import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { ImageRecord } from '../content/index.js';
import {
  MediaType,
  hostPlatform,
  parseReference,
  referenceName,
  type Descriptor,
  type Digest,
  type ImageConfig,
  type ImageManifest,
  type Platform,
} from '../oci/index.js';
import { decompress, readTar } from '../tar/index.js';
import { ChrunError, isChrunError, reasonOf } from '../util/index.js';
import { applyChanges } from './change.js';
import { blobCompression, ociLayerType } from './diff-id.js';
import type { ImageStore, Unpacker } from './image-store.js';
import { register } from './pull.js';

export interface ImportOptions {
  /** Dockerfile instructions for the config: CMD, ENTRYPOINT, ENV, WORKDIR, USER, EXPOSE, ... */
  changes?: string[];
  /** The history comment (default "Imported from FILE"). */
  message?: string;
  /** The platform the image is for (default: this host). */
  platform?: Platform;
  unpack?: Unpacker;
  signal?: AbortSignal;
}

/**
 * The uncompressed content of a layer, hashed to the end (the diffID covers the tar's
 * trailing padding too) while it is checked to be a tar archive.
 */
async function checkLayer(store: ImageStore, digest: Digest): Promise<Digest> {
  const hash = createHash('sha256');
  const source = decompress(store.content.openBlob(digest))[Symbol.asyncIterator]();
  const state = { done: false };
  const hashing: AsyncIterable<Buffer> = {
    [Symbol.asyncIterator]: () => ({
      next: async () => {
        const r = await source.next();
        if (r.done === true) state.done = true;
        else hash.update(r.value);
        return r;
      },
      // The tar reader stops at the end-of-archive blocks: keep the rest for the hash.
      return: () => Promise.resolve({ done: true as const, value: undefined }),
    }),
  };
  try {
    for await (const entry of readTar(hashing)) {
      for await (const _ of entry.body) {
        // drain: only the headers are checked
      }
    }
    while (!state.done) await hashing[Symbol.asyncIterator]().next();
  } catch (err) {
    await source.return(undefined);
    if (isChrunError(err, 'CHRUN_ARCHIVE_INVALID')) {
      throw new ChrunError('CHRUN_ARCHIVE_INVALID', `import: not a tar archive (${err.message})`, {
        cause: err,
      });
    }
    throw err;
  }
  return `sha256:${hash.digest('hex')}`;
}

/**
 * `import`: makes a one-layer image from a root file system tarball (what `docker export`
 * writes; uncompressed, gzip or zstd, stored as given), with a config for this host (or
 * `platform`) adjusted by `changes`. Names it `reference` when given.
 */
export async function importImage(
  store: ImageStore,
  input: string | AsyncIterable<Uint8Array>,
  reference: string | undefined,
  options: ImportOptions = {},
): Promise<ImageRecord> {
  const ref = reference === undefined ? undefined : parseReference(reference);
  if (ref?.digest !== undefined) {
    throw new ChrunError(
      'CHRUN_INVALID_REFERENCE',
      `invalid reference "${reference!}": an imported image cannot be named by digest`,
    );
  }
  const config = applyChanges({}, options.changes ?? []);
  await store.init();
  let source: AsyncIterable<Uint8Array>;
  if (typeof input === 'string') {
    try {
      if (!(await stat(input)).isFile()) throw new Error('not a regular file');
    } catch (err) {
      throw new ChrunError('CHRUN_INVALID_ARGUMENT', `import ${input}: ${reasonOf(err)}`, {
        cause: err,
      });
    }
    source = createReadStream(input, { highWaterMark: 1 << 20 });
  } else {
    source = input;
  }
  const lease = await store.lease();
  let ok = false;
  try {
    const layer = await store.content.writeStream(source, undefined, {
      beforeCommit: (d) => lease.protect([d]),
    });
    const compression = await blobCompression(store, layer.digest);
    const diffId = await checkLayer(store, layer.digest);
    const platform = options.platform ?? hostPlatform();
    const created = new Date().toISOString();
    const imageConfig: ImageConfig = {
      created,
      architecture: platform.architecture,
      os: platform.os,
      ...(platform.variant === undefined ? {} : { variant: platform.variant }),
      config,
      rootfs: { type: 'layers', diff_ids: [diffId] },
      history: [
        {
          created,
          created_by: 'chrun import',
          comment: options.message ?? `Imported from ${typeof input === 'string' ? input : '-'}`,
        },
      ],
    };
    const configInfo = await lease.writeBlob(Buffer.from(JSON.stringify(imageConfig)));
    const layerDesc: Descriptor = {
      mediaType: ociLayerType(compression),
      digest: layer.digest,
      size: layer.size,
    };
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, ...configInfo },
      layers: [layerDesc],
    };
    const manifestInfo = await lease.writeBlob(Buffer.from(JSON.stringify(manifest)));
    const target: Descriptor = { mediaType: MediaType.ociManifest, ...manifestInfo };
    if (options.unpack !== undefined)
      await options.unpack(store.requestFor(target, manifest, imageConfig, options.signal));
    const names = ref === undefined ? [] : [`${referenceName(ref)}:${ref.tag!}`];
    const record = await register(store, target, manifest, imageConfig, undefined, names);
    ok = true;
    return record;
  } finally {
    await lease.release().catch(() => undefined);
    // What a failed import stored (the layer of a file that is not a tar) goes now.
    if (!ok) await store.gc().catch(() => undefined);
  }
}
