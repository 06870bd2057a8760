import { ContainerProcess } from './container-process.js';
import type { RuntimeContext } from './context.js';
import { exitStatus, type ExitStatus } from './exit-status.js';
import { launch, type LaunchOptions } from './launch.js';

export interface RunOptions extends LaunchOptions {
  /** Remove the container once it ends (default true); else it stays, stopped, until delete. */
  remove?: boolean;
}

/**
 * `run`: create + start + wait, attached. Resolves once the container's process has called
 * execve; wait() resolves when it has ended and the container is cleaned up. If this
 * process dies first, the helper kills the container and removes its cgroups and record.
 */
export async function run(
  ctx: RuntimeContext,
  id: string,
  bundle: string,
  opts: RunOptions = {},
): Promise<ContainerProcess> {
  const { session, record, cgroup, phases } = await launch(ctx, id, bundle, opts, {
    fifo: false,
    keep: 'attached',
  });
  const done: Promise<ExitStatus> = (async () => {
    let status: ExitStatus;
    try {
      const w = await session.exited();
      const oom = (await cgroup?.oomKilled().catch(() => false)) ?? false;
      status = exitStatus(w, oom);
    } finally {
      await cgroup?.destroy().catch(() => undefined);
      if (opts.remove === false) ctx.store.write({ ...record, status: 'stopped' });
      else ctx.store.remove(id);
    }
    return status;
  })();
  done.catch(() => undefined);
  const proc = new ContainerProcess(id, record.pid ?? 0, session, done);
  proc.phases.push(...phases);
  return proc;
}
