/**
 * chrun as a library. Everything the CLI does goes through these exports.
 * @packageDocumentation
 */
export * from './engine/index.js';
export {
  Runtime,
  ContainerProcess,
  StateTransitionError,
  formatExplain,
  type RuntimeOptions,
  type RunOptions,
  type CreateOptions,
  type ExecOptions,
  type ExitStatus,
  type ExplainStep,
} from './runtime/index.js';
export {
  ChrunError,
  isChrunError,
  VERSION,
  type ErrorCode,
  type ErrorFields,
} from './util/index.js';
