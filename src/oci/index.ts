export * from './runtime-spec.js';
export {
  parseDigest,
  isDigest,
  digestAlgorithm,
  digestHex,
  sha256Digest,
  digestOf,
  shortId,
  type Digest,
} from './digest.js';
export {
  MediaType,
  MANIFEST_ACCEPT,
  layerCompression,
  isManifestType,
  isIndexType,
  isSchema1Type,
  sniffCompression,
  type LayerCompression,
} from './media-types.js';
export {
  parseReference,
  referenceName,
  formatReference,
  familiarName,
  familiarString,
  withTag,
  withDigest,
  looksLikeImageId,
  DEFAULT_DOMAIN,
  DEFAULT_TAG,
  type ImageReference,
  type ParseReferenceOptions,
} from './reference.js';
export {
  Annotation,
  type Platform,
  type Descriptor,
  type ImageManifest,
  type ImageIndex,
  type ImageConfig,
  type ContainerConfig,
  type HistoryEntry,
  type ManifestDocument,
} from './image-types.js';
export {
  hostPlatform,
  parsePlatform,
  formatPlatform,
  normalizePlatform,
  compatiblePlatforms,
  platformRank,
  platformMatches,
  offeredPlatforms,
  selectManifest,
} from './platform.js';
export { chainId, chainIds } from './chain-id.js';
export {
  parseManifestDocument,
  checkImageManifest,
  parseImageConfig,
  parseDockerArchiveManifest,
} from './validate.js';
