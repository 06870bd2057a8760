import { ChrunError, type ErrorCode } from '../util/index.js';
import { describeStep } from './describe.js';
import { errnoName, errnoText } from './errno.js';
import type { Plan } from './plan.js';

/**
 * Turns the helper's {step, errno, detail} into the error a user reads: the plan step's words
 * and the kernel's reason ("mount proc on /proc: operation not permitted"), with a code the CLI
 * maps to an exit status (127 for a command not found, 126 for one that cannot be executed).
 */
export function stepError(plan: Plan, step: number, errno: number, detail: string): ChrunError {
  const s = plan[step];
  const what = s === undefined ? `step ${step}` : describeStep(s);
  const reason = errnoText(errno);
  let code: ErrorCode = 'CHRUN_HELPER_FAILED';
  let message = `${what}: ${reason}`;
  if (s?.op === 'exec') {
    code = errno === 2 || errno === 20 ? 'CHRUN_EXEC_NOT_FOUND' : 'CHRUN_EXEC_PERMISSION';
    // the helper reports the path it tried; a search that found nothing reports the name
    message = `exec ${detail !== '' ? detail : s.file}: ${reason}`;
  } else if (
    s?.op === 'mount' ||
    s?.op === 'mask' ||
    s?.op === 'readonly' ||
    s?.op === 'pivot-root'
  ) {
    code = 'CHRUN_MOUNT_FAILED';
  } else if (s?.op === 'rlimit' && errno === 1) {
    code = 'CHRUN_RLIMIT_EXCEEDS_HARD';
    message = `${what}: ${reason} (above the hard limit chrun runs with, which it cannot raise)`;
  } else if (
    (s?.op === 'seccomp-bpf' || s?.op === 'seccomp-rules') &&
    errno === 7 &&
    detail !== ''
  ) {
    // E2BIG: the helper says how long the program is
    code = 'CHRUN_INVALID_ARGUMENT';
    message = `${what}: ${detail}`;
  } else if (s?.op === 'cgroup-join' || (s?.op === 'clone' && detail.includes('cgroup'))) {
    code = 'CHRUN_CGROUP_FAILED';
  }
  return new ChrunError(code, message, {
    fields: { step, op: s?.op, errno, syscall: errnoName(errno), detail },
  });
}
