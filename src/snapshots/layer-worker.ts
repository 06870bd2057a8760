// A worker thread that applies stored layer blobs: reads each file, decompresses it, hashes
// the uncompressed tar for the diffID, parses it and writes the entries, all off the main
// thread (which meanwhile downloads the other blobs and draws progress). One worker serves
// all the layers of an unpack, several at once (a stored gzip blob is read and inflated by a
// gunzip job's thread of its own: sys/gunzip.ts), so its code is compiled once. Started by
// LayerWorker (worker-apply.ts); the CLI bundle carries it as dist/bundle/layer-worker.cjs.
import { createReadStream } from 'node:fs';
import { parentPort, type MessagePort } from 'node:worker_threads';
import { deferred, type Deferred } from '../util/index.js';
import { applyInto } from './apply-into.js';
import { blobLayer } from './blob-layer.js';
import {
  fromWire,
  toWire,
  type FromWorker,
  type LayerJob,
  type ToWorker,
} from './worker-protocol.js';

if (parentPort === null) throw new Error('layer-worker: not started as a worker thread');
const port: MessagePort = parentPort;
const post = (m: FromWorker): void => port.postMessage(m);

interface Running {
  file: Deferred<string>;
  lower: Deferred<readonly string[]>;
  askedLower: boolean;
}

const running = new Map<number, Running>();

function start(id: number, job: LayerJob): void {
  const r: Running = {
    file: deferred<string>(),
    lower: deferred<readonly string[]>(),
    askedLower: false,
  };
  running.set(id, r);
  const askLower = (): Promise<readonly string[]> => {
    if (!r.askedLower) {
      r.askedLower = true;
      post({ type: 'lower', id });
    }
    return r.lower.promise;
  };
  const layer = blobLayer({
    digest: job.digest,
    size: job.size,
    diffId: job.diffId,
    path: () => r.file.promise,
    open: async () => createReadStream(await r.file.promise, { highWaterMark: 1 << 20 }),
  });
  // A stored blob can be read again: parents may be guessed (see applyInto).
  applyInto(layer, job.dir, job.form, job.lower ? askLower : undefined, true).then(
    (stats) => {
      running.delete(id);
      post({ type: 'done', id, ...stats });
    },
    (err: unknown) => {
      running.delete(id);
      post({ type: 'error', id, error: toWire(err) });
    },
  );
}

port.on('message', (m: ToWorker) => {
  if (m.type === 'job') {
    start(m.id, m.job);
    return;
  }
  const r = running.get(m.id);
  if (r === undefined) return;
  if (m.type === 'file') r.file.resolve(m.file);
  else if (m.type === 'lower') r.lower.resolve(m.dirs);
  else r.lower.reject(fromWire(m.error));
});
