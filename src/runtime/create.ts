import { ContainerProcess } from './container-process.js';
import type { RuntimeContext } from './context.js';
import { exitStatus, type ExitStatus } from './exit-status.js';
import { launch, type LaunchOptions } from './launch.js';
import type { Keep } from './state-store.js';

export interface CreateOptions extends LaunchOptions {
  /**
   * Who holds the created container:
   * - 'attached' (default): this process; if it dies, the container is killed and removed.
   * - 'helper': the helper stays its parent after this process exits (`chrun create`).
   * - 'reparent': the helper leaves once it is created; the caller's subreaper reaps it
   *   (an OCI runtime driven by podman or containerd).
   */
  keep?: Keep;
}

/**
 * `create`: sets the container up and leaves its process waiting on the exec fifo until
 * `start`. Resolves to its init process (wait() resolves when it ends; the record stays
 * until `delete`).
 */
export async function create(
  ctx: RuntimeContext,
  id: string,
  bundle: string,
  opts: CreateOptions = {},
): Promise<ContainerProcess> {
  const keep = opts.keep ?? 'attached';
  const { session, record, cgroup, phases } = await launch(ctx, id, bundle, opts, {
    fifo: true,
    keep,
  });
  const done: Promise<ExitStatus> = session.exited().then(async (w) => {
    const oom = (await cgroup?.oomKilled().catch(() => false)) ?? false;
    return exitStatus(w, oom);
  });
  done.catch(() => undefined);
  if (keep !== 'attached') session.detach();
  const proc = new ContainerProcess(id, record.pid ?? 0, session, done);
  proc.phases.push(...phases);
  return proc;
}
