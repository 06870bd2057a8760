export { Runtime, type RuntimeOptions } from './runtime.js';
export { ContainerProcess } from './container-process.js';
export {
  compilePlan,
  type CompileInput,
  type CgroupPlacement,
  type CgroupMounts,
} from './compile.js';
export { validateSpec, loadBundle } from './bundle.js';
export { StateStore, validateId, type ContainerRecord, type Keep } from './state-store.js';
export {
  StateTransitionError,
  canStart,
  canKill,
  canExec,
  canDelete,
  assertCan,
  type Status,
} from './status.js';
export { exitStatus, signalNumber, type ExitStatus } from './exit-status.js';
export { explainPlan, formatExplain, type ExplainStep } from './explain.js';
export type { CgroupDriver, ContainerCgroup } from './cgroup-driver.js';
export type { RuntimeContext } from './context.js';
export type { CreateOptions } from './create.js';
export type { RunOptions } from './run.js';
export type { ExecOptions } from './exec.js';
export type { LaunchOptions } from './launch.js';
export { parseOciMountOptions } from './mount-options.js';
export { procStat, isAlive } from './proc-info.js';
