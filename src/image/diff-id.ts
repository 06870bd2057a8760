import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { MediaType, sniffCompression, type Digest, type LayerCompression } from '../oci/index.js';
import { decompress } from '../tar/index.js';
import type { ImageStore } from './image-store.js';

/** The compression of a stored blob, from its first bytes. */
export async function blobCompression(
  store: ImageStore,
  digest: Digest,
): Promise<LayerCompression> {
  const fh = await open(store.content.blobPath(digest), 'r');
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await fh.read(head, 0, 4, 0);
    return sniffCompression(head.subarray(0, bytesRead));
  } finally {
    await fh.close();
  }
}

/** The diffID of a stored layer: its own digest when uncompressed, else that of its content. */
export async function diffIdOf(
  store: ImageStore,
  digest: Digest,
  compression?: LayerCompression,
): Promise<Digest> {
  const c = compression ?? (await blobCompression(store, digest));
  if (c === 'none' && digest.startsWith('sha256:')) return digest;
  const hash = createHash('sha256');
  for await (const chunk of decompress(store.content.openBlob(digest))) hash.update(chunk);
  return `sha256:${hash.digest('hex')}`;
}

/** The Docker layer media type for a compression. */
export function dockerLayerType(c: LayerCompression): string {
  return c === 'gzip'
    ? MediaType.dockerLayerGzip
    : c === 'zstd'
      ? MediaType.dockerLayerZstd
      : MediaType.dockerLayer;
}

/** The OCI layer media type for a compression. */
export function ociLayerType(c: LayerCompression): string {
  return c === 'gzip'
    ? MediaType.ociLayerGzip
    : c === 'zstd'
      ? MediaType.ociLayerZstd
      : MediaType.ociLayer;
}
