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
export {
  parseBytes,
  parseNanoCpus,
  resourcesFromFlags,
  MIN_MEMORY,
  type ResourceFlags,
  type HostResources,
  type ResourcesFromFlags,
} from './resource-flags.js';
export {
  CAPABILITIES,
  DEFAULT_CAPABILITIES,
  capabilityNumber,
  capabilityMask,
  capabilitiesFromMask,
  boundingSetFromStatus,
  normalizeCapabilities,
  resolveCapabilities,
  processCapabilities,
  type CapabilityOptions,
} from './security/capabilities.js';
export { DOCKER_DEFAULT_SECCOMP } from './security/seccomp-default.js';
export {
  parseSeccompProfile,
  resolveSeccompProfile,
  seccompNativeArch,
  kernelAtLeast,
  SECCOMP_ARCHES,
  type DockerSeccompProfile,
  type DockerSyscallRule,
  type SeccompFilter,
  type SeccompArchMapEntry,
  type SeccompContext,
} from './security/seccomp-profile.js';
export { MASKED_PATHS, READONLY_PATHS } from './security/linux-paths.js';
export {
  DEFAULT_DEVICES,
  DEFAULT_DEV_SYMLINKS,
  DEFAULT_DEVICE_RULES,
  PRIVILEGED_DEVICE_RULES,
} from './security/devices.js';
export {
  parseUlimit,
  parseProcLimits,
  resolveRlimits,
  DEFAULT_RLIMITS,
  RLIM_INFINITY,
  RLIMIT_NUMBERS,
  ULIMIT_TYPES,
  type HostLimit,
  type RlimitOptions,
} from './security/rlimits.js';
export { parseSecurityOpts, type SecurityOpts } from './security/security-opts.js';
export {
  containerSecurity,
  applyContainerSecurity,
  type ContainerSecurity,
  type ContainerSecurityOptions,
} from './security/container-security.js';
