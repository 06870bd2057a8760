import { setTimeout as sleep } from 'node:timers/promises';
import type { Runtime } from '../runtime/index.js';
import type { SnapshotStore } from '../snapshots/index.js';
import { ChrunError, isChrunError } from '../util/index.js';
import type { ContainerInfo, ContainerStore } from './container-store.js';

export interface RemoveContainerParts {
  containers(): ContainerStore;
  snapshots(): SnapshotStore;
  runtime(): Runtime;
}

/**
 * `rm [-f] CONTAINER`: removes a stopped container (its writable layer, record and name).
 * A running one is refused unless forced; forced, it is killed first and removed once the
 * process holding it has seen it end.
 */
export async function removeContainer(
  parts: RemoveContainerParts,
  ref: string,
  options: { force?: boolean } = {},
): Promise<ContainerInfo> {
  const store = parts.containers();
  let info = store.find(ref);
  if (info.status === 'running') {
    if (options.force !== true) {
      throw new ChrunError(
        'CHRUN_STATE_TRANSITION',
        `cannot remove container ${info.name}: it is running (stop it first, or use rm -f)`,
      );
    }
    try {
      await parts.runtime().kill(info.id, 'SIGKILL');
    } catch (err) {
      if (!isChrunError(err)) throw err;
      // ended meanwhile, or its runtime state is gone with its holder
    }
    for (let i = 0; i < 1000; i++) {
      if (!store.has(info.id)) return info; // it was --rm: its holder removed it
      info = store.get(info.id);
      if (info.status !== 'running') break;
      await sleep(10);
    }
  }
  parts.snapshots().remove(info.snapshot);
  store.remove(info);
  return info;
}
