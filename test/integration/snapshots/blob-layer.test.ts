import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { blobLayer, SnapshotStore, type LayerBlob } from '../../../src/snapshots/index.js';
import { compress, packTar, type Compression, type TarWriteEntry } from '../../../src/tar/index.js';
import { isChrunError } from '../../../src/util/index.js';
import { leakCheckEachTest } from '../../helpers/leak-check.js';
import { needsRootAnd } from '../../helpers/requirements.js';
import { tempDir } from '../../helpers/temp.js';

leakCheckEachTest({ files: [{ path: os.tmpdir(), match: /^chrun-(apply|snap|umoci|registry)/ }] });

// Each test runs twice: with the blob as a stream (applied on this thread) and as a stored
// file (applied in a worker thread, src/snapshots/worker-apply.ts): same results, same errors.
let inWorker = false;
const blobFiles: string[] = [];
afterEach(() => {
  for (const f of blobFiles.splice(0)) rmSync(f, { force: true });
});

/** In worker mode, the blob also as a file (what the content store gives a pull). */
function withFile(layer: LayerBlob, data: Buffer): LayerBlob {
  if (!inWorker) return layer;
  const file = path.join(os.tmpdir(), `chrun-blobfile-${process.pid}-${blobFiles.length}`);
  writeFileSync(file, data);
  blobFiles.push(file);
  return { ...layer, path: () => Promise.resolve(file) };
}

async function bytes(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of it) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

async function blob(
  entries: TarWriteEntry[],
  compression: Compression,
  tweak: Partial<LayerBlob> = {},
) {
  const tar = await bytes(packTar(entries));
  const data = await bytes(
    compress(
      (async function* () {
        yield await Promise.resolve(tar);
      })(),
      compression,
    ),
  );
  const layer: LayerBlob = {
    digest: `sha256:${createHash('sha256').update(data).digest('hex')}`,
    size: data.length,
    diffId: `sha256:${createHash('sha256').update(tar).digest('hex')}`,
    open: () =>
      (async function* () {
        yield await Promise.resolve(data);
      })(),
    ...tweak,
  };
  return withFile(layer, data);
}

const ENTRIES: TarWriteEntry[] = [
  { header: { path: 'etc/', type: 'directory', mode: 0o755 } },
  { header: { path: 'etc/motd', type: 'file', mode: 0o644 }, body: Buffer.from('hello\n') },
];

for (const mode of ['on this thread', 'in a worker thread'] as const) {
  describe(`layers from blobs, applied ${mode}`, { skip: needsRootAnd('zstd') }, () => {
    beforeEach(() => {
      inWorker = mode === 'in a worker thread';
    });
    for (const compression of ['gzip', 'zstd', 'none'] as const) {
      test(`a ${compression} layer is applied and its diffID checked`, async (t) => {
        const tmp = await tempDir('chrun-snap-blob-');
        t.after(tmp.cleanup);
        const store = SnapshotStore.open({
          root: path.join(tmp.path, 's'),
          snapshotter: 'overlay',
        });
        const good = await blob(ENTRIES, compression);
        const { chainIds } = await store.unpack([blobLayer(good)]);
        assert.equal(chainIds[0], good.diffId);

        const wrong = await blob(ENTRIES, compression, { diffId: `sha256:${'0'.repeat(64)}` });
        await assert.rejects(store.unpack([blobLayer(wrong)]), (e: unknown) => {
          assert.ok(isChrunError(e, 'CHRUN_DIGEST_MISMATCH'));
          assert.match(
            e.message,
            /^apply layer sha256:[0-9a-f]{64}: its uncompressed content is sha256:/,
          );
          return true;
        });
        const big = await blob(ENTRIES, compression);
        await assert.rejects(
          store.unpack([
            blobLayer({ ...big, diffId: `sha256:${'1'.repeat(64)}`, size: big.size - 10 }),
          ]),
          (e: unknown) => isChrunError(e, 'CHRUN_SIZE_MISMATCH'),
        );
        await assert.rejects(
          store.unpack([
            blobLayer({ ...big, diffId: `sha256:${'2'.repeat(64)}`, size: big.size + 10 }),
          ]),
          (e: unknown) => isChrunError(e, 'CHRUN_SIZE_MISMATCH'),
        );
        assert.equal(store.stores.overlay.list().length, 1, 'only the good layer was committed');
        assert.deepEqual(readdirSync(store.stores.overlay.tmp), []);
      });
    }

    test('a hostile tar through the real reader is refused naming the layer and entry', async (t) => {
      const tmp = await tempDir('chrun-snap-blob-');
      t.after(tmp.cleanup);
      const store = SnapshotStore.open({ root: path.join(tmp.path, 's'), snapshotter: 'overlay' });
      const climb = `${'../'.repeat(20)}${tmp.path.slice(1)}/pwned`;
      const evil = await blob(
        [
          { header: { path: 'ok', type: 'file' }, body: Buffer.from('x') },
          { header: { path: climb, type: 'file' }, body: Buffer.from('x') },
        ],
        'gzip',
      );
      await assert.rejects(store.unpack([blobLayer(evil)]), (e: unknown) => {
        assert.ok(isChrunError(e, 'CHRUN_LAYER_UNSAFE'));
        assert.equal(
          e.message,
          `apply layer ${evil.digest}: entry '${climb}' has a '..' component`,
        );
        return true;
      });
      assert.deepEqual(readdirSync(tmp.path), ['s']);
      assert.deepEqual(store.stores.overlay.list(), [], 'nothing half applied is kept');
    });

    test('a name that is not UTF-8 (from GNU tar) is refused naming the layer and its bytes', async (t) => {
      const tmp = await tempDir('chrun-snap-blob-');
      t.after(tmp.cleanup);
      const src = path.join(tmp.path, 'src');
      mkdirSync(src);
      // 'café' in ISO-8859-1: a name the file system takes as bytes
      writeFileSync(Buffer.concat([Buffer.from(`${src}/caf`), Buffer.from([0xe9])]), 'x');
      const tarFile = path.join(tmp.path, 'layer.tar');
      const r = spawnSync('tar', ['--format=gnu', '-C', src, '-cf', tarFile, '.']);
      assert.equal(r.status, 0, r.stderr.toString());
      const data = readFileSync(tarFile);
      const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
      const layer: LayerBlob = withFile(
        {
          digest,
          size: data.length,
          diffId: digest,
          open: () =>
            (async function* () {
              yield await Promise.resolve(data);
            })(),
        },
        data,
      );
      const store = SnapshotStore.open({ root: path.join(tmp.path, 's'), snapshotter: 'overlay' });
      await assert.rejects(store.unpack([blobLayer(layer)]), (e: unknown) => {
        assert.ok(isChrunError(e, 'CHRUN_ARCHIVE_INVALID'), String(e));
        assert.match(
          e.message,
          new RegExp(
            `^apply layer ${digest}: read archive: entry name "\\./caf\\\\xe9" is not valid UTF-8 \\(not supported\\) at byte \\d+$`,
          ),
        );
        return true;
      });
      assert.deepEqual(store.stores.overlay.list(), []);
      assert.deepEqual(readdirSync(store.stores.overlay.tmp), []);
    });

    test('a write through an absolute symlink lands inside the snapshot', async (t) => {
      const tmp = await tempDir('chrun-snap-blob-');
      t.after(tmp.cleanup);
      const store = SnapshotStore.open({ root: path.join(tmp.path, 's'), snapshotter: 'overlay' });
      const layer = await blob(
        [
          { header: { path: 'lnk', type: 'symlink', linkname: tmp.path } },
          { header: { path: 'lnk/pwned', type: 'file' }, body: Buffer.from('x') },
        ],
        'gzip',
      );
      const { chainIds } = await store.unpack([blobLayer(layer)]);
      assert.deepEqual(readdirSync(tmp.path), ['s'], 'nothing written on the host');
      const [snap] = store.snapshots(chainIds);
      assert.equal(readFileSync(path.join(snap!.fs, tmp.path, 'pwned'), 'utf8'), 'x');
    });
  });
}
