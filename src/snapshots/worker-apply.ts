import { Worker } from 'node:worker_threads';
import { abandonGunzipJobs } from '../sys/index.js';
import { ChrunError, reasonOf } from '../util/index.js';
import type { ApplyStats } from './apply-layer.js';
import {
  fromWire,
  toWire,
  type FromWorker,
  type LayerJob,
  type ToWorker,
} from './worker-protocol.js';

/**
 * The worker's file: beside this module (dist/src/snapshots/layer-worker.js), or beside the
 * CLI bundle (dist/bundle/layer-worker.cjs), whose modules all share the bundle's URL.
 */
export function layerWorkerUrl(): URL {
  const here = import.meta.url;
  return new URL(here.endsWith('.cjs') ? './layer-worker.cjs' : './layer-worker.js', here);
}

interface Pending {
  digest: string;
  lower: (() => Promise<readonly string[]>) | undefined;
  resolve: (stats: ApplyStats) => void;
  reject: (err: unknown) => void;
}

/**
 * A worker thread applying stored layer blobs (see layer-worker.ts), with the same checks
 * and messages as applying them on this thread. Started at once, so that it has loaded its
 * modules by the time the first blob is downloaded. A job settles once the worker has
 * stopped writing for it: after a failure the caller may remove its directory at once.
 * terminate() stops the worker; jobs still running reject with the given reason, once the
 * thread is gone.
 */
export class LayerWorker {
  private readonly worker: Worker;
  private readonly jobs = new Map<number, Pending>();
  private nextId = 0;

  private ended: { reason: unknown } | undefined;
  private readonly exited: Promise<void>;

  constructor() {
    this.worker = new Worker(layerWorkerUrl());
    const id = this.worker.threadId;
    this.worker.unref(); // idle, it keeps nothing alive; jobs in flight keep their promises
    this.worker.on('message', (m: FromWorker) => this.onMessage(m));
    this.worker.on('error', (err) => {
      this.ended ??= {
        reason: new ChrunError('CHRUN_INTERNAL', `apply layers: worker thread: ${reasonOf(err)}`, {
          cause: err,
        }),
      };
    });
    this.exited = new Promise((resolve) => {
      this.worker.on('exit', (code) => {
        // A worker terminated mid-layer never freed its gunzip jobs: their threads would
        // wait for it forever.
        abandonGunzipJobs(id);
        const reason =
          this.ended?.reason ??
          new ChrunError('CHRUN_INTERNAL', `apply layers: the worker thread exited (${code})`);
        this.ended ??= { reason };
        for (const [id, job] of this.jobs) {
          this.jobs.delete(id);
          job.reject(reason);
        }
        resolve();
      });
    });
  }

  /**
   * Applies a layer blob into `job.dir` once `file` gives its path. `lower` answers the
   * worker's request for the directories of the layers below (overlay form).
   */
  apply(
    job: LayerJob,
    file: () => Promise<string>,
    lower?: () => Promise<readonly string[]>,
  ): Promise<ApplyStats> {
    if (this.ended !== undefined) return Promise.reject(this.ended.reason);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.jobs.set(id, { digest: job.digest, lower, resolve, reject });
      this.worker.ref();
      this.post({ type: 'job', id, job });
      file().then(
        (f) => this.post({ type: 'file', id, file: f }),
        (err: unknown) => {
          // The blob never came (its download failed): that fails the whole unpack, and
          // the layers running beside it too, as on the main thread.
          void this.terminate(err);
        },
      );
    });
  }

  /** Stops the worker; running jobs reject with `reason` once it has exited. */
  terminate(reason: unknown): Promise<void> {
    this.ended ??= { reason };
    void this.worker.terminate();
    return this.exited;
  }

  private post(m: ToWorker): void {
    if (this.ended === undefined) this.worker.postMessage(m);
  }

  private onMessage(m: FromWorker): void {
    const job = this.jobs.get(m.id);
    if (job === undefined) return;
    if (m.type === 'lower') {
      if (job.lower === undefined) return;
      job.lower().then(
        (dirs) => this.post({ type: 'lower', id: m.id, dirs }),
        (err: unknown) => this.post({ type: 'lower-error', id: m.id, error: toWire(err) }),
      );
      return;
    }
    this.jobs.delete(m.id);
    if (this.jobs.size === 0) this.worker.unref();
    if (m.type === 'done') job.resolve({ entries: m.entries, bytes: m.bytes });
    else job.reject(fromWire(m.error));
  }
}
