/**
 * chrun as a library. Everything the CLI does goes through these exports.
 * @packageDocumentation
 */
export * from './engine/index.js';
export {
  ChrunError,
  isChrunError,
  VERSION,
  type ErrorCode,
  type ErrorFields,
} from './util/index.js';
