export { Engine, type EngineOptions } from './engine.js';
export type { HostInfo } from './info.js';
export { resolvePaths, DEFAULT_STATE, DEFAULT_STORAGE, type EnginePaths } from './paths.js';
export type { SystemDf, SpaceUsed } from './system-df.js';
export { EngineImages } from './images.js';
export { containersUsingImage } from './image-users.js';
export type {
  ImageRecord,
  ImageSummary,
  ImageInspect,
  PullOptions,
  PullResult,
  PushOptions,
  PushResult,
  RemoveResult,
  PruneResult,
  TransferEvent,
  LayerStatus,
  UnpackRequest,
  Unpacker,
  ImageLayer,
  LoadOptions,
  LoadedImage,
  SaveOptions,
  ArchiveFormat,
  ImportOptions,
} from '../image/index.js';
