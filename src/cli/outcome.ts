import { errnoCode } from '../util/index.js';
import { exitCodeOf } from './exit-codes.js';
import { ExitRequest } from './exit-request.js';
import { debugDetails, formatError } from './report.js';

/**
 * The exit status of a program killed by SIGPIPE, as a shell reports it. Node ignores
 * SIGPIPE, so a closed reader (`chrun save IMG | head -c10`) shows up as EPIPE on standard
 * output: chrun then stops quietly with the status that docker, tar or cat would have.
 */
export const EXIT_BROKEN_PIPE = 128 + 13;

let stdoutError: unknown;
let watching = false;

/**
 * Keeps the first error of standard output (once, for the life of the process: an error
 * event of a write still in flight may come after main() returned, and must not crash).
 */
export function watchStdout(): void {
  if (watching) return;
  watching = true;
  process.stdout.on('error', (err) => {
    stdoutError ??= err;
  });
}

/** True once standard output's reader went away. */
export function stdoutBroken(): boolean {
  return errnoCode(stdoutError) === 'EPIPE';
}

/**
 * The exit status of a command that threw `err` (an ExitRequest's own status; otherwise the
 * error's one line, and with CHRUN_DEBUG its causes, on stderr).
 */
export function failureStatus(err: unknown): number {
  // whatever failed once the reader of our output went away failed because of it
  if (stdoutBroken()) return EXIT_BROKEN_PIPE;
  if (err instanceof ExitRequest) return err.exitCode;
  process.stderr.write(`${formatError(err)}\n`);
  const details = debugDetails(err);
  if (details !== undefined) process.stderr.write(`${details}\n`);
  return exitCodeOf(err);
}
