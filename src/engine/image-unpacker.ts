import type { ImageStore, UnpackRequest, Unpacker } from '../image/index.js';
import { chainIds } from '../oci/index.js';
import { blobLayer, type SnapshotStore } from '../snapshots/index.js';

/**
 * The snapshotter's step of pull, load and import: applies the image's layers (each once per
 * chain) before its name is registered. A layer that is unsafe, corrupt or not what the image
 * config says fails the whole operation, and nothing is registered.
 */
export function snapshotUnpacker(snapshots: () => SnapshotStore): Unpacker {
  return async (request: UnpackRequest) => {
    await snapshots().unpack(
      request.layers.map((l) =>
        blobLayer({
          digest: l.descriptor.digest,
          size: l.descriptor.size,
          diffId: l.diffId,
          open: () => request.openBlob(l.descriptor.digest),
          path: () => request.storedBlob(l.descriptor.digest),
        }),
      ),
    );
  };
}

/** The chain IDs (bottom to top) of an image's layers, from its config's diffIDs. */
export function imageChainIds(diffIds: readonly string[]): string[] {
  return chainIds(diffIds as Parameters<typeof chainIds>[0]);
}

/**
 * Removes the layer snapshots no image and no container needs any more (after rmi and
 * image prune). Returns the chain IDs removed.
 */
export async function collectSnapshots(
  images: ImageStore,
  snapshots: SnapshotStore,
): Promise<string[]> {
  const live: string[] = [];
  for (const record of await images.list()) {
    try {
      const config = await images.config(record);
      const top = imageChainIds(config.rootfs.diff_ids).at(-1);
      if (top !== undefined) live.push(top);
    } catch {
      // an image whose config blob is gone cannot be run: nothing of it to keep
    }
  }
  return snapshots.gc(live);
}
