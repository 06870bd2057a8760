export {
  detectCgroupLayout,
  detectCgroupLayoutSync,
  parseCgroupLayout,
  unescapeMountPath,
  type CgroupLayout,
  type CgroupMode,
} from './detect.js';
export { nodeCgroupFs, type CgroupFs } from './cgroup-fs.js';
export { createCgroupManager } from './create-manager.js';
export type { CgroupManagerOptions, Hierarchy } from './manager.js';
export type {
  ApplyResult,
  CgroupManager,
  CgroupPlacement,
  CgroupStats,
  CgroupWrite,
  OomStatus,
} from './types.js';
export {
  DEFAULT_CGROUP_PARENT,
  containerCgroupPath,
  hierarchyDir,
  parseProcCgroup,
  type ProcCgroupEntry,
} from './paths.js';
export { blkioWeightToIoWeight, cpuSharesToWeight, memorySwapToV2 } from './convert.js';
export { deviceRuleV1 } from './resources-v1.js';
export { createFakeCgroupHost, FakeCgroupFs, type FakeCgroupOptions } from './fake-cgroup-fs.js';
export { CgroupDriver, type CgroupDriverOptions, type ContainerCgroups } from './driver.js';
export {
  compileDeviceFilter,
  reduceDeviceRules,
  type DeviceFilter,
  type ExceptionRule,
} from './device-filter.js';
