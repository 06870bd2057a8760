import { setTimeout as sleep } from 'node:timers/promises';
import type { RuntimeContext } from './context.js';
import { isAlive } from './proc-info.js';
import { liveStatus } from './state.js';
import { assertCan } from './status.js';
import { ChrunError } from '../util/index.js';

/** `delete`: removes a stopped container (with force, kills it first). */
export async function deleteContainer(
  ctx: RuntimeContext,
  id: string,
  opts: { force?: boolean } = {},
): Promise<void> {
  const release = await ctx.store.lock(id);
  try {
    const rec = await ctx.store.read(id);
    const status = liveStatus(ctx, rec);
    assertCan(
      'delete',
      id,
      status === 'stopped' ? status : opts.force === true ? 'stopped' : status,
    );
    if (status !== 'stopped' && rec.pid !== undefined) {
      try {
        process.kill(rec.pid, 'SIGKILL');
      } catch {
        // gone already
      }
      for (let i = 0; isAlive(rec.pid, rec.pidStart); i++) {
        if (i > 500)
          throw new ChrunError(
            'CHRUN_INTERNAL',
            `delete container ${id}: process ${rec.pid} survives SIGKILL`,
          );
        await sleep(10);
      }
    }
    if (ctx.cgroups !== undefined && rec.cgroupPaths !== undefined)
      await ctx.cgroups.open(rec.cgroupPaths).destroy();
  } finally {
    release();
  }
  ctx.store.remove(id);
}
