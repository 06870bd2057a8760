import type { ContainerStatus } from '../oci/index.js';
import { ChrunError } from '../util/index.js';

export type Status = ContainerStatus;

/** Thrown when a verb does not apply to a container in its current status. */
export class StateTransitionError extends ChrunError {
  constructor(
    readonly id: string,
    readonly status: Status,
    readonly verb: string,
  ) {
    super('CHRUN_STATE_TRANSITION', `${verb} container ${id}: it is ${status}`, {
      fields: { id, status, verb },
    });
  }
}

export const canStart = (s: Status): boolean => s === 'created';
export const canKill = (s: Status): boolean => s === 'created' || s === 'running';
export const canExec = (s: Status): boolean => s === 'created' || s === 'running';
export const canDelete = (s: Status, force = false): boolean => s === 'stopped' || force;

const GUARDS = {
  start: canStart,
  kill: canKill,
  exec: canExec,
  delete: canDelete,
} as const;

/** Throws a StateTransitionError unless `verb` applies in status `s`. */
export function assertCan(verb: keyof typeof GUARDS, id: string, s: Status): void {
  if (!GUARDS[verb](s)) throw new StateTransitionError(id, s, verb);
}
