export { helperPath, builtHelper } from './helper-path.js';
export { fsCalls, makedev, splitdev, type NodeKind } from './fs-calls.js';
export { markTopDir } from './top-dir.js';
export {
  mountAll,
  planMount,
  parseMountOptions,
  executeMountCall,
  unmount,
  tryUnmount,
  isMountPoint,
  MS,
  MNT_DETACH,
  type Mount,
  type MountCall,
} from './mount.js';
export type { Plan, PlanStep, SeccompRules, SeccompRule, SeccompArg } from './plan.js';
export { encodePlan, encodeSeccompRules, planFrame, frame, Writer } from './plan-encoder.js';
export {
  SyncDecoder,
  decodeMessage,
  decodeWaitStatus,
  type HelperMessage,
  type WaitStatus,
} from './sync-decoder.js';
export { M, OP, HOST_OPS, PLAN_MAGIC, FRAME_HEADER, type OpName } from './protocol.js';
export {
  spawnInit,
  closeZygotes,
  type InitSession,
  type SpawnInitOptions,
  type StdioSpec,
} from './helper-session.js';
export { describeStep } from './describe.js';
export { stepError } from './step-error.js';
export { errnoName, errnoText } from './errno.js';
export { CLONE, RLIMIT, RLIM_INFINITY, CAPABILITIES, capMask, capNames, SIGKILL } from './linux.js';
export { seccompRules } from './seccomp.js';
export { BPF_MAX_INSNS, SeccompCache, bpfLengthError, exportBpf } from './seccomp-cache.js';
export { realSys, type Sys, type RealSysOptions } from './sys.js';
export { RecordingSys, type FakeOutcome } from './recording-sys.js';
export {
  abandonGunzipJobs,
  gunzipInfo,
  isalGunzipFile,
  type GunzipFileOptions,
  type GunzipFileResult,
  type GunzipInfo,
} from './gunzip.js';
