import { ChrunError } from './errors.js';

/**
 * The error of a source longer than its declared `max` bytes (a layer blob larger than its
 * descriptor says): the same words whether tar's limitBytes or a native gunzip job finds it.
 */
export function tooManyBytes(what: string, max: number): ChrunError {
  return new ChrunError('CHRUN_SIZE_MISMATCH', `${what}: more than the expected ${max} bytes`, {
    fields: { op: what, maxBytes: max },
  });
}
