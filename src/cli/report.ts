import { describeError } from '../util/index.js';

/** Turns any thrown value into the one line the user reads: "chrun: <reason>". */
export function formatError(err: unknown): string {
  const reason = describeError(err);
  const line = reason.replace(/\s*\n\s*/g, '; ').trim();
  return `chrun: ${line}`;
}

/** With CHRUN_DEBUG set, the full chain of causes and stacks, for bug reports. */
export function debugDetails(err: unknown): string | undefined {
  if (process.env.CHRUN_DEBUG === undefined || process.env.CHRUN_DEBUG === '') return undefined;
  const parts: string[] = [];
  let cur: unknown = err;
  for (let depth = 0; cur !== undefined && depth < 8; depth++) {
    if (cur instanceof Error) {
      parts.push(cur.stack ?? cur.message);
      cur = cur.cause;
    } else {
      parts.push(typeof cur === 'string' ? cur : JSON.stringify(cur));
      break;
    }
  }
  return parts.join('\ncaused by: ');
}
