import { ChrunError, type ErrorCode } from '../util/index.js';

/** A malformed or refused archive: `read archive: WHAT at byte OFFSET`. */
export function archiveError(
  what: string,
  offset: number,
  code: ErrorCode = 'CHRUN_ARCHIVE_INVALID',
): ChrunError {
  return new ChrunError(code, `read archive: ${what} at byte ${offset}`, {
    fields: { op: 'read tar', offset },
  });
}
