import { isChrunError } from '../util/index.js';

/** Docker's exit codes for failures that are not the container's own. */
export const EXIT_ENGINE_ERROR = 125;
export const EXIT_CANNOT_EXECUTE = 126;
export const EXIT_NOT_FOUND = 127;

/** The exit code the CLI returns for an error thrown by the engine. */
export function exitCodeOf(err: unknown): number {
  if (isChrunError(err, 'CHRUN_EXEC_NOT_FOUND')) return EXIT_NOT_FOUND;
  if (isChrunError(err, 'CHRUN_EXEC_PERMISSION')) return EXIT_CANNOT_EXECUTE;
  return EXIT_ENGINE_ERROR;
}
