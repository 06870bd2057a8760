export {
  RegistryClient,
  MAX_MANIFEST_BYTES,
  type RegistryClientOptions,
  type BlobSink,
  type FetchedManifest,
  type PushBlobOptions,
} from './client.js';
export { parseChallenges, type Challenge } from './challenge.js';
export { Authorizer, pullScope, pushScope } from './auth.js';
export {
  DockerConfig,
  defaultDockerConfigPath,
  authKey,
  DOCKER_HUB_AUTH_KEY,
  type Credentials,
} from './docker-config.js';
export {
  registryEndpoints,
  isLoopbackRegistry,
  hostName,
  DOCKER_HUB_REGISTRY,
  type Endpoint,
} from './endpoint.js';
export { describeRegistryError, networkErrorCode } from './errors.js';
