import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, test, type TestContext } from 'node:test';
import { blobLayer, SnapshotStore, type LayerBlob } from '../../../src/snapshots/index.js';
import { compress, packTar, type TarWriteEntry } from '../../../src/tar/index.js';
import { isChrunError } from '../../../src/util/index.js';
import { gunzipThreads } from '../../helpers/gunzip-threads.js';
import { leakCheckEachTest } from '../../helpers/leak-check.js';
import { needsRoot } from '../../helpers/requirements.js';
import { tempDir } from '../../helpers/temp.js';

leakCheckEachTest({ files: [{ path: os.tmpdir(), match: /^chrun-(apply|snap)/ }] });

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

async function bytes(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of it) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** A gzip layer blob written to `dir`, offered as a stored file (worker) and as a stream. */
async function fileBlob(
  dir: string,
  entries: TarWriteEntry[],
  tweak: (gz: Buffer) => Buffer = (b) => b,
): Promise<LayerBlob & { file: string }> {
  const tar = await bytes(packTar(entries));
  const data = tweak(
    await bytes(
      compress(
        (async function* () {
          yield await Promise.resolve(tar);
        })(),
        'gzip',
      ),
    ),
  );
  const file = path.join(dir, `blob-${readdirSync(dir).length}`);
  writeFileSync(file, data);
  return {
    digest: sha(data),
    size: data.length,
    diffId: sha(tar),
    file,
    open: () =>
      (async function* () {
        yield await Promise.resolve(data);
      })(),
    path: () => Promise.resolve(file),
  };
}

function manyFiles(n: number, size: number): TarWriteEntry[] {
  const out: TarWriteEntry[] = [{ header: { path: 'd/', type: 'directory', mode: 0o755 } }];
  for (let i = 0; i < n; i++) {
    out.push({ header: { path: `d/f${i}`, type: 'file', mode: 0o644 }, body: randomBytes(size) });
  }
  return out;
}

function nothingKept(store: SnapshotStore): void {
  assert.deepEqual(store.stores.overlay.list(), [], 'no snapshot committed');
  assert.deepEqual(readdirSync(store.stores.overlay.tmp), [], 'nothing half applied');
  assert.deepEqual(readdirSync(store.stores.overlay.layers), [], 'no layer directory');
}

async function setUp(t: TestContext) {
  const tmp = await tempDir('chrun-snap-worker-');
  t.after(tmp.cleanup);
  const blobs = path.join(tmp.path, 'blobs');
  mkdirSync(blobs);
  const store = SnapshotStore.open({ root: path.join(tmp.path, 's'), snapshotter: 'overlay' });
  return { tmp: tmp.path, blobs, store };
}

describe('layers applied in worker threads', { skip: needsRoot() }, () => {
  test('a worker failing mid-layer leaves nothing behind, with the message of an in-thread apply', async (t) => {
    const { blobs, store } = await setUp(t);
    // 300 random files: the corrupt byte at 3/4 of the stream comes after many are written
    const bad = await fileBlob(blobs, manyFiles(300, 4096), (gz) => {
      const b = Buffer.from(gz);
      const at = Math.floor(b.length * 0.75);
      b[at] = b[at]! ^ 0xff;
      b[at + 1] = b[at + 1]! ^ 0xff;
      return b;
    });
    const viaWorker = await store.unpack([blobLayer(bad)]).then(
      () => assert.fail('a corrupt layer was applied'),
      (e: unknown) => e,
    );
    nothingKept(store);
    assert.ok(isChrunError(viaWorker), String(viaWorker));
    assert.match(viaWorker.message, new RegExp(`^apply layer ${bad.digest}: `));
    // The same stored blob applied on this thread: the same gunzip, the same message.
    const here = await store.unpack([blobLayer(bad)], { workers: false }).then(
      () => assert.fail('a corrupt layer was applied'),
      (e: unknown) => e,
    );
    assert.ok(isChrunError(here));
    assert.equal(viaWorker.code, here.code);
    assert.equal(viaWorker.message, here.message);
    nothingKept(store);
    // As a stream (no file: node:zlib), it fails too. The message may differ: where ISA-L and
    // zlib notice random corruption differs, and ISA-L may hand out bytes that tar refuses.
    const { path: _p, ...streamOnly } = bad;
    const streamed = await store.unpack([blobLayer(streamOnly)]).then(
      () => assert.fail('a corrupt layer was applied'),
      (e: unknown) => e,
    );
    assert.ok(isChrunError(streamed), String(streamed));
    assert.match(streamed.message, new RegExp(`^apply layer ${bad.digest}: `));
    nothingKept(store);
  });

  test('a layer that fails stops the others and its own error is the one thrown', async (t) => {
    const { blobs, store } = await setUp(t);
    const big = await fileBlob(blobs, manyFiles(64, 256 << 10));
    const wrong = await fileBlob(blobs, manyFiles(1, 16));
    const err = await store
      .unpack([blobLayer(big), blobLayer({ ...wrong, diffId: `sha256:${'3'.repeat(64)}` })])
      .then(
        () => assert.fail('a layer with the wrong diffID was applied'),
        (e: unknown) => e,
      );
    assert.ok(isChrunError(err, 'CHRUN_DIGEST_MISMATCH'), String(err));
    assert.match(err.message, new RegExp(`^apply layer ${wrong.digest}: its uncompressed content`));
    nothingKept(store);
    // The big layer's gunzip job, left by the terminated worker, was freed once it exited.
    assert.equal(gunzipThreads(), 0, 'gunzip job threads');
  });

  test('a hardlink to a file of a lower layer is copied up (the worker asks for the lower layers)', async (t) => {
    const { blobs, store } = await setUp(t);
    const base = await fileBlob(blobs, [
      { header: { path: 'a', type: 'file', mode: 0o640 }, body: Buffer.from('lower\n') },
    ]);
    const top = await fileBlob(blobs, [{ header: { path: 'b', type: 'hardlink', linkname: 'a' } }]);
    const { chainIds } = await store.unpack([blobLayer(base), blobLayer(top)]);
    const [, snap] = store.snapshots(chainIds);
    assert.equal(readFileSync(path.join(snap!.fs, 'b'), 'utf8'), 'lower\n');
    assert.equal(statSync(path.join(snap!.fs, 'b')).mode & 0o777, 0o640);
  });

  test('the CLI bundle carries the worker, and it applies a layer', async (t) => {
    const { tmp, blobs } = await setUp(t);
    const file = path.join(repoRoot, 'dist', 'bundle', 'layer-worker.cjs');
    assert.ok(existsSync(file), `${file} (npm run build)`);
    const layer = await fileBlob(blobs, [
      { header: { path: 'hello', type: 'file', mode: 0o644 }, body: Buffer.from('hi\n') },
    ]);
    const dir = path.join(tmp, 'out');
    mkdirSync(dir);
    const worker = new Worker(file);
    t.after(() => worker.terminate());
    const job = { digest: layer.digest, size: layer.size, diffId: layer.diffId, dir };
    worker.postMessage({ type: 'job', id: 7, job: { ...job, form: 'overlay', lower: false } });
    worker.postMessage({ type: 'file', id: 7, file: layer.file });
    const message = await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    assert.deepEqual(message, { type: 'done', id: 7, entries: 1, bytes: 3 });
    assert.equal(readFileSync(path.join(dir, 'hello'), 'utf8'), 'hi\n');
  });
});
