import assert from 'node:assert/strict';
import path from 'node:path';
import { Readable } from 'node:stream';
import { Engine } from '../../../src/engine/index.js';
import { importImage, load, type ImageRecord, type ImageStore } from '../../../src/image/index.js';
import { buildImage, writeDockerArchive } from '../../helpers/image-builder.js';
import { dirFor, leaks } from '../../helpers/image-fixtures.js';
import { testNoLeaks } from '../../helpers/leak-check.js';

/**
 * A collection (a concurrent `image prune`) at the worst moment: every blob of the image is
 * written, its name not yet registered. The unpack step runs exactly there.
 */
const collectMeanwhile = async (store: ImageStore): Promise<void> => {
  await store.gc({ ingests: true });
};

async function assertComplete(store: ImageStore, record: ImageRecord): Promise<void> {
  assert.ok(
    await store.content.has(record.target.digest),
    `manifest ${record.target.digest} was collected`,
  );
  const manifest = await store.manifest(record);
  for (const d of [manifest.config, ...manifest.layers])
    assert.ok(await store.content.has(d.digest, d.size), `blob ${d.digest} was collected`);
}

testNoLeaks(
  'a collection between writing and registering a loaded docker archive keeps its manifest',
  { leaks },
  async (t) => {
    const dir = await dirFor(t);
    const store = new Engine({ root: path.join(dir, 'root') }).images.store;
    const image = await buildImage({
      layers: [{ entries: [{ header: { path: 'a', type: 'file' }, body: Buffer.from('a') }] }],
    });
    await writeDockerArchive(path.join(dir, 'in.tar'), image, ['race:1']);
    const [loaded] = await load(store, path.join(dir, 'in.tar'), {
      unpack: () => collectMeanwhile(store),
    });
    assert.deepEqual(loaded!.names, ['docker.io/library/race:1']);
    await assertComplete(store, await store.resolve('race:1'));
  },
);

testNoLeaks(
  'a collection between writing and registering an import keeps its config and manifest',
  { leaks },
  async (t) => {
    const dir = await dirFor(t);
    const store = new Engine({ root: path.join(dir, 'root') }).images.store;
    const image = await buildImage({
      layers: [{ entries: [{ header: { path: 'b', type: 'file' }, body: Buffer.from('b') }] }],
    });
    await importImage(store, Readable.from([image.layers[0]!.tar]), 'imported:1', {
      unpack: () => collectMeanwhile(store),
    });
    await assertComplete(store, await store.resolve('imported:1'));
  },
);
