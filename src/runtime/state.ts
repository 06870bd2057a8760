import { existsSync } from 'node:fs';
import { OCI_RUNTIME_VERSION, type State } from '../oci/index.js';
import type { RuntimeContext } from './context.js';
import { isAlive } from './proc-info.js';
import type { ContainerRecord } from './state-store.js';
import type { Status } from './status.js';

/** The live status: the record, checked against the process and the exec fifo. */
export function liveStatus(ctx: RuntimeContext, rec: ContainerRecord): Status {
  if (rec.status === 'stopped') return 'stopped';
  if (!isAlive(rec.pid, rec.pidStart)) return 'stopped';
  if (rec.status === 'creating') return 'creating';
  return existsSync(ctx.store.fifoPath(rec.id)) ? 'created' : 'running';
}

/** `state`: the OCI state of a container. */
export async function state(ctx: RuntimeContext, id: string): Promise<State> {
  const rec = await ctx.store.read(id);
  const status = liveStatus(ctx, rec);
  const out: State = { ociVersion: OCI_RUNTIME_VERSION, id, status, bundle: rec.bundle };
  if (status !== 'stopped' && rec.pid !== undefined) out.pid = rec.pid;
  if (rec.annotations !== undefined) out.annotations = rec.annotations;
  return out;
}
