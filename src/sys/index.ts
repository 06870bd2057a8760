export { helperPath, builtHelper } from './helper-path.js';
export { fsCalls, makedev, splitdev, type NodeKind } from './fs-calls.js';
export {
  mountAll,
  planMount,
  parseMountOptions,
  executeMountCall,
  unmount,
  tryUnmount,
  MS,
  MNT_DETACH,
  type Mount,
  type MountCall,
} from './mount.js';
