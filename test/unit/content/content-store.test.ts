import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  ContentStore,
  ImageRecords,
  Lease,
  collectGarbage,
  tryLock,
} from '../../../src/content/index.js';
import { sha256Digest } from '../../../src/oci/index.js';
import { isChrunError } from '../../../src/util/index.js';
import { tempDir } from '../../helpers/temp.js';

async function newStore(t: { after: (fn: () => Promise<void>) => void }): Promise<ContentStore> {
  const dir = await tempDir();
  t.after(dir.cleanup);
  const store = new ContentStore({
    root: path.join(dir.path, 'content'),
    tmp: path.join(dir.path, 'tmp'),
  });
  await store.init();
  return store;
}

async function ingestFiles(store: ContentStore): Promise<string[]> {
  return readdir(path.join(store.tmp, 'ingest'));
}

test('writeBlob stores verified content, and refuses a wrong digest leaving nothing', async (t) => {
  const store = await newStore(t);
  const data = Buffer.from('{"hello":"world"}');
  const info = await store.writeBlob(data);
  assert.equal(info.digest, sha256Digest(data));
  assert.deepEqual(await store.readBlob(info.digest), data);
  // Idempotent.
  assert.deepEqual(await store.writeBlob(data, info.digest), info);
  const wrong = sha256Digest('something else');
  await assert.rejects(store.writeBlob(data, wrong), (e) =>
    isChrunError(e, 'CHRUN_DIGEST_MISMATCH'),
  );
  assert.equal(await store.has(wrong), false);
  assert.deepEqual(await ingestFiles(store), []);
});

test('an interrupted writer leaves only an ingest file, which the next writer resumes', async (t) => {
  const store = await newStore(t);
  const data = randomBytes(300_000);
  const digest = sha256Digest(data);
  const w1 = (await store.writer(digest, data.length))!;
  assert.equal(w1.offset, 0);
  await w1.write(data.subarray(0, 123_456));
  await w1.abort();
  assert.equal(await store.has(digest), false);
  assert.equal((await stat(store.ingestPath(digest))).size, 123_456);
  const w2 = (await store.writer(digest, data.length))!;
  assert.equal(w2.offset, 123_456);
  await w2.write(data.subarray(123_456));
  await w2.commit();
  assert.deepEqual(await readFile(store.blobPath(digest)), data);
  assert.deepEqual(await ingestFiles(store), []);
  // Once present, no writer is handed out.
  assert.equal(await store.writer(digest, data.length), undefined);
});

test('size and digest are checked at commit; bad content is dropped, not kept for resume', async (t) => {
  const store = await newStore(t);
  const data = randomBytes(1000);
  const digest = sha256Digest(data);
  const short = (await store.writer(digest, data.length))!;
  await short.write(data.subarray(0, 999));
  await assert.rejects(short.commit(), (e) => isChrunError(e, 'CHRUN_SIZE_MISMATCH'));
  const tooLong = (await store.writer(digest, data.length))!;
  assert.equal(tooLong.offset, 0);
  assert.throws(
    () => tooLong.write(Buffer.concat([data, Buffer.from('x')])),
    (e) => isChrunError(e, 'CHRUN_SIZE_MISMATCH'),
  );
  await tooLong.abort(false);
  const corrupt = (await store.writer(digest, data.length))!;
  const bad = Buffer.from(data);
  bad[500] = bad[500]! ^ 0xff;
  await corrupt.write(bad);
  await assert.rejects(corrupt.commit(), (e) => isChrunError(e, 'CHRUN_DIGEST_MISMATCH'));
  assert.equal(await store.has(digest), false);
  assert.deepEqual(await ingestFiles(store), []);
});

test('two writers of one blob: the second waits, then finds it present', async (t) => {
  const store = await newStore(t);
  const data = randomBytes(5000);
  const digest = sha256Digest(data);
  const first = (await store.writer(digest, data.length))!;
  let waited = false;
  const second = store.writer(digest, data.length, { onWait: () => (waited = true) });
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(waited);
  await first.write(data);
  await first.commit();
  assert.equal(await second, undefined);
});

test('writeStream hashes unknown content and checks what is expected', async (t) => {
  const store = await newStore(t);
  const data = randomBytes(70_000);
  const info = await store.writeStream(
    Readable.from([data.subarray(0, 1000), data.subarray(1000)]),
  );
  assert.deepEqual(info, { digest: sha256Digest(data), size: data.length });
  await assert.rejects(
    store.writeStream(Readable.from([data]), { digest: sha256Digest('x') }),
    (e) => isChrunError(e, 'CHRUN_DIGEST_MISMATCH'),
  );
  await assert.rejects(store.writeStream(Readable.from([data]), { size: 10 }), (e) =>
    isChrunError(e, 'CHRUN_SIZE_MISMATCH'),
  );
  assert.deepEqual(await ingestFiles(store), []);
});

// The writer gathers up to 1 MiB before writing: the child writes more than that, so it is on disk.
test('kill -9 during ingest: no blob appears, the lock is freed, the next writer resumes', async (t) => {
  const store = await newStore(t);
  const data = randomBytes(3_000_000);
  const digest = sha256Digest(data);
  const child = path.join(path.dirname(fileURLToPath(import.meta.url)), 'ingest-child.js');
  const part = path.join(store.tmp, 'part');
  await writeFile(part, data.subarray(0, 1_500_000));
  const proc = spawn(
    process.execPath,
    [child, store.root, store.tmp, digest, String(data.length), part],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  await new Promise<void>((resolve, reject) => {
    proc.stdout.on('data', (d: Buffer) =>
      d.toString().includes('wrote 1500000') ? resolve() : undefined,
    );
    proc.on('exit', (code) => reject(new Error(`child exited ${code}`)));
  });
  // While the child lives, the blob's lock is held.
  assert.equal(await tryLock(store.lockName(`blob-${digest.slice(7)}`)), undefined);
  proc.kill('SIGKILL');
  await new Promise((r) => proc.once('exit', r));
  assert.equal(await store.has(digest), false);
  const w = (await store.writer(digest, data.length))!;
  assert.equal(w.offset, 1_500_000);
  await w.write(data.subarray(1_500_000));
  await w.commit();
  assert.deepEqual(await readFile(store.blobPath(digest)), data);
});

test('image records: names move between images, and an image left nameless is dangling', async (t) => {
  const store = await newStore(t);
  const records = new ImageRecords(path.join(store.root, '..', 'images'), store);
  await records.init();
  const rec = (n: string) => ({
    target: {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: sha256Digest(n),
      size: 1,
    },
    id: sha256Digest(`config-${n}`),
    platform: { os: 'linux', architecture: 'amd64' },
    size: 10,
  });
  await records.register(rec('a'), ['docker.io/library/x:1', 'docker.io/library/x:latest']);
  const b = await records.register(rec('b'), [
    'docker.io/library/x:latest',
    'docker.io/library/x@sha256:' + 'f'.repeat(64),
  ]);
  assert.deepEqual(b.tags, ['docker.io/library/x:latest']);
  const all = await records.list();
  assert.equal(all.length, 2);
  assert.deepEqual(all.find((r) => r.target.digest === sha256Digest('a'))!.tags, [
    'docker.io/library/x:1',
  ]);
  await records.register(rec('b'), ['docker.io/library/x:1']);
  const a = (await records.list()).find((r) => r.target.digest === sha256Digest('a'))!;
  assert.deepEqual(a.tags, []);
  assert.equal((await records.list()).length, 2);
});

test('gc removes unreferenced blobs, keeps leased ones, drops leases of dead holders', async (t) => {
  const store = await newStore(t);
  const records = new ImageRecords(path.join(store.root, '..', 'images'), store);
  await records.init();
  const layer = await store.writeBlob(Buffer.from('layer'));
  const config = await store.writeBlob(Buffer.from('{"config":true}'));
  const manifest = await store.writeBlob(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        config: { mediaType: 'x', ...config },
        layers: [{ mediaType: 'y', ...layer }],
      }),
    ),
  );
  const orphan = await store.writeBlob(Buffer.from('orphan'));
  const leased = await store.writeBlob(Buffer.from('leased'));
  await records.register(
    {
      target: { mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest },
      id: config.digest,
      platform: { os: 'linux', architecture: 'amd64' },
      size: 1,
    },
    ['docker.io/library/x:1'],
  );
  const lease = await Lease.create(store);
  await lease.protect([leased.digest]);
  const result = await collectGarbage(store, records, { ingests: true });
  assert.deepEqual(
    result.removed.map((b) => b.digest),
    [orphan.digest],
  );
  assert.equal(result.reclaimed, 'orphan'.length);
  const kept = new Set((await store.list()).map((b) => b.digest));
  for (const d of [layer, config, manifest, leased]) assert.ok(kept.has(d.digest));
  await lease.release();
  const again = await collectGarbage(store, records);
  assert.deepEqual(
    again.removed.map((b) => b.digest),
    [leased.digest],
  );
  assert.deepEqual(await readdir(path.join(store.root, 'leases')), []);
});

test('gc keeps the config and layers of an image whose manifest is also leased', async (t) => {
  const store = await newStore(t);
  const records = new ImageRecords(path.join(store.root, '..', 'images'), store);
  await records.init();
  const layer = await store.writeBlob(Buffer.from('layer of a re-pulled image'));
  const config = await store.writeBlob(Buffer.from('{"config":"re-pulled"}'));
  const manifest = await store.writeBlob(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        config: { mediaType: 'x', ...config },
        layers: [{ mediaType: 'y', ...layer }],
      }),
    ),
  );
  await records.register(
    {
      target: { mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest },
      id: config.digest,
      platform: { os: 'linux', architecture: 'amd64' },
      size: 1,
    },
    ['docker.io/library/again:1'],
  );
  // A pull of the same image in progress protects the manifest digest.
  const lease = await Lease.create(store);
  t.after(() => lease.release());
  await lease.protect([manifest.digest]);
  const result = await collectGarbage(store, records);
  assert.deepEqual(result.removed, []);
  for (const d of [layer, config, manifest]) assert.ok(await store.has(d.digest), d.digest);
});

test('a blob written through a lease is protected before it exists', async (t) => {
  const store = await newStore(t);
  const records = new ImageRecords(path.join(store.root, '..', 'images'), store);
  await records.init();
  const lease = await Lease.create(store);
  t.after(() => lease.release());
  const info = await lease.writeBlob(Buffer.from('{"made":"here"}'));
  assert.equal(info.digest, sha256Digest('{"made":"here"}'));
  assert.deepEqual((await collectGarbage(store, records)).removed, []);
  assert.ok(await store.has(info.digest));
});

test('every directory the store makes is 0700 (blobs, ingest, index, leases)', async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  const storage = path.join(dir.path, 'storage');
  const store = new ContentStore({
    root: path.join(storage, 'content'),
    tmp: path.join(storage, 'tmp'),
  });
  await store.init();
  const records = new ImageRecords(path.join(storage, 'images'), store);
  await records.init();
  const lease = await Lease.create(store);
  try {
    await store.writeBlob(Buffer.from('mode'));
  } finally {
    await lease.release();
  }
  const dirs: string[] = [];
  const walk = async (d: string): Promise<void> => {
    dirs.push(d);
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (e.isDirectory()) await walk(path.join(d, e.name));
    }
  };
  await walk(storage);
  assert.ok(dirs.length >= 6, dirs.join(' '));
  for (const d of dirs) {
    assert.equal(((await stat(d)).mode & 0o777).toString(8), '700', d);
  }
});
