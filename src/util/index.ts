export {
  ChrunError,
  isChrunError,
  errnoCode,
  reasonOf,
  describeError,
  describeErrno,
  type ErrorCode,
  type ErrorFields,
  type ChrunErrorOptions,
} from './errors.js';
export { VERSION } from './version.js';
export { packageRoot } from './package-root.js';
export { writeFileAtomic, syncDir, tempName } from './atomic-file.js';
export { limiter, type Limiter } from './limiter.js';
export { eachLimited, type EachLimitedOptions } from './each-limited.js';
export { processExists } from './process-exists.js';
export { removeTree } from './remove-tree.js';
export { deferred, type Deferred } from './deferred.js';
export { tooManyBytes } from './too-many-bytes.js';
