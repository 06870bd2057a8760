import { ContentStore, ImageRecords } from '../content/index.js';
import { SnapshotStore } from '../snapshots/index.js';
import type { EnginePaths } from './paths.js';

export interface SpaceUsed {
  count: number;
  /** Bytes of disk space (allocated blocks for trees, blob sizes for the content store). */
  bytes: number;
}

/** What `chrun system df` shows. */
export interface SystemDf {
  /** Named images, and every blob of the content store (manifests, configs, layers). */
  images: SpaceUsed;
  /** Container roots: their writable layers (overlay) or private copies (copy). */
  containers: SpaceUsed;
  /** Applied layer snapshots, shared by images and containers. */
  snapshots: SpaceUsed;
}

/** Space used by images, containers and snapshots. Reads only: creates and mounts nothing. */
export async function systemDf(paths: EnginePaths): Promise<SystemDf> {
  const content = new ContentStore({ root: paths.content, tmp: paths.tmp });
  const [blobs, records] = await Promise.all([
    content.list(),
    new ImageRecords(paths.images, content).list(),
  ]);
  const usage = SnapshotStore.inspect(paths.snapshots).usage();
  return {
    images: { count: records.length, bytes: blobs.reduce((n, b) => n + b.size, 0) },
    containers: { count: usage.containers.count, bytes: usage.containers.bytes },
    snapshots: { count: usage.snapshots.count, bytes: usage.snapshots.bytes },
  };
}
