export { Engine, type EngineOptions } from './engine.js';
export type { HostInfo } from './info.js';
export { resolvePaths, DEFAULT_STATE, DEFAULT_STORAGE, type EnginePaths } from './paths.js';
export type { SystemDf, SpaceUsed } from './system-df.js';
export { EngineImages } from './images.js';
export { containersUsingImage } from './image-users.js';
export { Container, type ContainerExit } from './container.js';
export { ContainerStore, type ContainerInfo, type ContainerStatus } from './container-store.js';
export type { ContainerRunOptions, NetworkMode, Isolation } from './run-options.js';
export {
  containerSpec,
  containerCommand,
  DEFAULT_PATH,
  type ContainerSpec,
  type SpecInput,
  type HostFacts,
} from './container-spec.js';
export { resolveUser, parsePasswd, parseGroup, type ResolvedUser } from './user.js';
export { parseEnvFile, parseEnvFlag, mergeEnv } from './env.js';
export { parseVolume, parseTmpfs, type VolumeMount } from './mount-flags.js';
export { mkdirInRoot } from './root-dirs.js';
export { hostFacts } from './host-facts.js';
export { writeEtcFiles, containerResolvConf } from './etc-files.js';
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
