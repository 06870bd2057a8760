import { closeSync, constants, openSync, unlinkSync, writeSync } from 'node:fs';
import type { RuntimeContext } from './context.js';
import { ChrunError, errnoCode } from '../util/index.js';
import { liveStatus } from './state.js';
import { assertCan } from './status.js';

/** `start`: releases a created container's process from its exec fifo; it then execs. */
export async function start(ctx: RuntimeContext, id: string): Promise<void> {
  const release = await ctx.store.lock(id);
  try {
    const rec = await ctx.store.read(id);
    assertCan('start', id, liveStatus(ctx, rec));
    const fifo = ctx.store.fifoPath(id);
    let fd: number;
    try {
      // non-blocking: ENXIO means nobody waits on it any more
      fd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch (err) {
      throw new ChrunError(
        'CHRUN_STATE_TRANSITION',
        `start container ${id}: its process no longer waits (${errnoCode(err) ?? String(err)})`,
        { cause: err },
      );
    }
    try {
      writeSync(fd, '0');
    } finally {
      closeSync(fd);
    }
    unlinkSync(fifo);
    ctx.store.write({ ...rec, status: 'running' });
  } finally {
    release();
  }
}
