import type { RuntimeContext } from './context.js';
import { signalNumber } from './exit-status.js';
import { liveStatus } from './state.js';
import { assertCan } from './status.js';
import { ChrunError, errnoCode } from '../util/index.js';

/** `kill`: sends a signal to a container's init process. */
export async function kill(
  ctx: RuntimeContext,
  id: string,
  signal: string | number = 'SIGTERM',
): Promise<void> {
  const sig = signalNumber(signal);
  const rec = await ctx.store.read(id);
  assertCan('kill', id, liveStatus(ctx, rec));
  try {
    process.kill(rec.pid ?? 0, sig);
  } catch (err) {
    if (errnoCode(err) === 'ESRCH') return; // it ended meanwhile
    throw new ChrunError('CHRUN_INTERNAL', `kill container ${id}: ${String(err)}`, { cause: err });
  }
}
