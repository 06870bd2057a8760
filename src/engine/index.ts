export { Engine, type EngineOptions } from './engine.js';
export type { HostInfo } from './info.js';
export { resolvePaths, DEFAULT_STATE, DEFAULT_STORAGE, type EnginePaths } from './paths.js';
export type { SystemDf, SpaceUsed } from './system-df.js';
