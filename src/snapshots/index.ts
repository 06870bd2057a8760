export {
  SnapshotStore,
  type SnapshotStoreOptions,
  type SnapshotterKind,
  type PrepareOptions,
  type PreparedRoot,
  type SnapshotUsage,
} from './snapshot-store.js';
export {
  applyLayer,
  type ApplyLayerOptions,
  type ApplyStats,
  type LayerEntry,
  type LayerForm,
} from './apply-layer.js';
export type { LowerLayers } from './lower-view.js';
export type { Snapshot, SnapshotMeta } from './layer-store.js';
export { copyTree } from './copy-tree.js';
export { diskUsage, type Usage } from './disk-usage.js';
export type { UnpackLayer, OpenedLayer, UnpackOptions, UnpackResult } from './unpack.js';
export { blobLayer, type LayerBlob } from './blob-layer.js';
