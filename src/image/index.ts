export {
  ImageStore,
  findRecord,
  imageLayers,
  type ImageStorePaths,
  type ImageLayer,
  type UnpackRequest,
  type Unpacker,
} from './image-store.js';
export {
  pull,
  register,
  registryClient,
  type PullOptions,
  type PullResult,
  type RegistryAccessOptions,
} from './pull.js';
export { push, type PushOptions, type PushResult } from './push.js';
export {
  removeImage,
  pruneImages,
  type ImageUsers,
  type RemoveOptions,
  type RemoveResult,
  type PruneOptions,
  type PruneResult,
} from './remove.js';
export { tagImage } from './tag.js';
export { inspectImage, summarizeImages, type ImageInspect, type ImageSummary } from './inspect.js';
export { login, logout, loginServer, type LoginOptions } from './login.js';
export { load, type LoadOptions, type LoadedImage } from './load.js';
export { save, type SaveOptions, type ArchiveFormat } from './save.js';
export { importImage, type ImportOptions } from './import.js';
export { applyChanges } from './change.js';
export type { TransferEvent, LayerStatus, ProgressListener } from './events.js';
export type { ImageRecord } from '../content/index.js';
