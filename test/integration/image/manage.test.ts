import assert from 'node:assert/strict';
import path from 'node:path';
import { Engine } from '../../../src/engine/index.js';
import { pruneImages, removeImage } from '../../../src/image/index.js';
import { isChrunError } from '../../../src/util/index.js';
import { buildImage, writeOciLayout, type BuiltImage } from '../../helpers/image-builder.js';
import { testNoLeaks } from '../../helpers/leak-check.js';
import { dirFor, leaks, seededImage } from '../../helpers/image-fixtures.js';
import { needsCommands } from '../../helpers/requirements.js';

const opts = { leaks };

function image(content: string, shared = 'shared'): Promise<BuiltImage> {
  return buildImage({
    layers: [
      { entries: [{ header: { path: 'base', type: 'file' }, body: Buffer.from(shared) }] },
      { entries: [{ header: { path: 'own', type: 'file' }, body: Buffer.from(content) }] },
    ],
  });
}

async function loadAs(engine: Engine, dir: string, img: BuiltImage, name: string): Promise<void> {
  const layout = path.join(dir, `layout-${name.replace(/[/:]/g, '_')}`);
  await writeOciLayout(layout, img, name);
  await engine.images.load(layout);
}

async function blobs(engine: Engine): Promise<Set<string>> {
  return new Set((await engine.images.store.content.list()).map((b) => b.digest));
}

testNoLeaks(
  'tag and rmi follow docker: untag while other tags remain, delete with the last, GC the blobs',
  opts,
  async (t) => {
    const dir = await dirFor(t);
    const engine = new Engine({ root: path.join(dir, 'root') });
    const a = await image('a');
    const b = await image('b');
    await loadAs(engine, dir, a, 'docker.io/library/a:1');
    await loadAs(engine, dir, b, 'docker.io/library/b:1');
    await engine.images.tag('a:1', 'a:latest');
    await engine.images.tag(a.configDigest.slice(7, 19), 'localhost:5000/mirror/a:2');
    await assert.rejects(engine.images.tag('a:1', 'a@sha256:' + '0'.repeat(64)), (err) =>
      isChrunError(err, 'CHRUN_INVALID_REFERENCE'),
    );
    await assert.rejects(engine.images.tag('nope:1', 'x:1'), (err) =>
      isChrunError(err, 'CHRUN_IMAGE_NOT_FOUND'),
    );
    assert.deepEqual((await engine.images.resolve('a')).tags.sort(), [
      'docker.io/library/a:1',
      'docker.io/library/a:latest',
      'localhost:5000/mirror/a:2',
    ]);

    assert.deepEqual(await engine.images.remove('a:latest'), {
      untagged: ['a:latest'],
      deleted: [],
    });
    // By ID, an image of two repositories needs -f.
    await assert.rejects(
      engine.images.remove(a.configDigest),
      (err) => isChrunError(err, 'CHRUN_IMAGE_IN_USE') && /multiple repositories/.test(err.message),
    );
    const before = await blobs(engine);
    const removed = await engine.images.remove(a.configDigest, { force: true });
    assert.deepEqual(removed.deleted, [a.configDigest]);
    assert.deepEqual(removed.untagged.sort(), ['a:1', 'localhost:5000/mirror/a:2']);
    const after = await blobs(engine);
    // a's own layer, config and manifest went; the shared layer stays for b.
    assert.ok(
      !after.has(a.layers[1]!.digest) && !after.has(a.configDigest) && !after.has(a.manifestDigest),
    );
    assert.ok(after.has(a.layers[0]!.digest) && a.layers[0]!.digest === b.layers[0]!.digest);
    assert.equal(before.size - after.size, 3);
    await assert.rejects(
      engine.images.remove('a:1'),
      (err) => isChrunError(err, 'CHRUN_IMAGE_NOT_FOUND') && err.message === 'no such image: a:1',
    );
    assert.deepEqual(
      (await engine.images.list()).map((r) => r.Repository),
      ['b'],
    );
  },
);

testNoLeaks(
  'rmi by image ID follows docker: several tags need -f, -f removes them all',
  opts,
  async (t) => {
    const dir = await dirFor(t);
    const engine = new Engine({ root: path.join(dir, 'root') });
    const a = await image('two-tags');
    await loadAs(engine, dir, a, 'docker.io/library/a:1');
    await engine.images.tag('a:1', 'a:2');
    const id = a.configDigest.slice(7, 19);
    // Two tags of one repository are enough to refuse (docker's isSingleReference).
    await assert.rejects(
      engine.images.remove(id),
      (err) =>
        isChrunError(err, 'CHRUN_IMAGE_IN_USE') &&
        err.message ===
          `unable to delete ${id} (must be forced) - image is referenced in multiple repositories`,
    );
    assert.deepEqual((await engine.images.resolve('a:1')).tags.length, 2);
    const forced = await engine.images.remove(`sha256:${id.slice(0, 6)}`, { force: true });
    assert.deepEqual(forced.untagged.sort(), ['a:1', 'a:2']);
    assert.deepEqual(forced.deleted, [a.configDigest]);
    assert.deepEqual(await engine.images.list(), []);
    assert.deepEqual(await blobs(engine), new Set());

    // One tag: the ID removes it without -f, but not while a container uses the image.
    const b = await image('one-tag');
    await loadAs(engine, dir, b, 'docker.io/library/b:1');
    const users = (r: { id: string }): Promise<string[]> =>
      Promise.resolve(r.id === b.configDigest ? ['web-2'] : []);
    await assert.rejects(
      removeImage(engine.images.store, b.configDigest, { users }),
      (err) =>
        isChrunError(err, 'CHRUN_IMAGE_IN_USE') &&
        err.message ===
          `unable to delete ${b.configDigest.slice(7, 19)} (must force) - container web-2 is using it`,
    );
    assert.deepEqual(await engine.images.remove(b.configDigest), {
      untagged: ['b:1'],
      deleted: [b.configDigest],
    });
  },
);

testNoLeaks('rmi refuses an ambiguous short image ID and changes nothing', opts, async (t) => {
  const dir = await dirFor(t);
  const engine = new Engine({ root: path.join(dir, 'root') });
  // Two images whose IDs start with the same hex digit (1 in 16 per try).
  const first = await image('ambiguous-0');
  let second: BuiltImage | undefined;
  for (let i = 1; second === undefined; i++) {
    const candidate = await image(`ambiguous-${i}`);
    if (candidate.configDigest[7] === first.configDigest[7]) second = candidate;
  }
  await loadAs(engine, dir, first, 'docker.io/library/x:1');
  await loadAs(engine, dir, second, 'docker.io/library/y:1');
  const prefix = first.configDigest[7]!;
  for (const force of [false, true]) {
    await assert.rejects(
      engine.images.remove(prefix, { force }),
      (err) => isChrunError(err, 'CHRUN_INVALID_REFERENCE') && /is ambiguous/.test(err.message),
    );
  }
  assert.equal((await engine.images.list()).length, 2);
  // A longer prefix that tells them apart works.
  let n = 1;
  while (first.configDigest.slice(7, 7 + n) === second.configDigest.slice(7, 7 + n)) n++;
  const unique = first.configDigest.slice(7, 7 + n);
  assert.deepEqual((await engine.images.remove(unique)).deleted, [first.configDigest]);
});

testNoLeaks(
  'rmi of a digest reference removes only it; the last tag of a repository takes its digests along',
  { leaks, skip: needsCommands('docker-registry', 'skopeo') },
  async (t) => {
    const { reg, dir, img } = await seededImage(t, 'test/app:v1');
    const engine = new Engine({ root: path.join(dir, 'root') });
    const ref = `${reg.host}/test/app`;
    const digestRef = `${ref}@${img.manifestDigest}`;
    await engine.images.pull(`${ref}:v1`);
    await engine.images.tag(`${ref}:v1`, `${ref}:v2`);
    const names = async (): Promise<string[]> => {
      const r = await engine.images.resolve(`${ref}:v1`).catch(() => undefined);
      return r === undefined ? [] : [...r.tags, ...r.digests].sort();
    };
    assert.deepEqual(await names(), [`${ref}:v1`, `${ref}:v2`, digestRef]);

    assert.deepEqual(await engine.images.remove(digestRef), { untagged: [digestRef], deleted: [] });
    assert.deepEqual(await names(), [`${ref}:v1`, `${ref}:v2`]);

    await engine.images.pull(`${ref}:v1`);
    assert.deepEqual(await engine.images.remove(`${ref}:v1`), {
      untagged: [`${ref}:v1`],
      deleted: [],
    });
    // v2 was the last tag of the repository: its digest reference goes with it.
    const id = (await engine.images.resolve(`${ref}:v2`)).id;
    assert.deepEqual(await engine.images.remove(`${ref}:v2`), {
      untagged: [`${ref}:v2`, digestRef],
      deleted: [id],
    });

    // By ID, a tag and its repository's digest are one reference: no -f needed.
    await engine.images.pull(`${ref}:v1`);
    const byId = await engine.images.remove(id.slice(7, 19));
    assert.deepEqual(byId.untagged.sort(), [`${ref}:v1`, digestRef]);
    assert.deepEqual(byId.deleted, [id]);
    assert.deepEqual(await blobs(engine), new Set());
  },
);

testNoLeaks(
  'an image a container uses is kept unless forced; forced, it loses its names but stays',
  opts,
  async (t) => {
    const dir = await dirFor(t);
    const engine = new Engine({ root: path.join(dir, 'root') });
    const a = await image('used');
    await loadAs(engine, dir, a, 'docker.io/library/used:1');
    const users = (r: { id: string }): Promise<string[]> =>
      Promise.resolve(r.id === a.configDigest ? ['web-1'] : []);
    await assert.rejects(
      removeImage(engine.images.store, 'used:1', { users }),
      (err) =>
        isChrunError(err, 'CHRUN_IMAGE_IN_USE') && /container web-1 is using it/.test(err.message),
    );
    const forced = await removeImage(engine.images.store, 'used:1', { users, force: true });
    assert.deepEqual(forced, { untagged: ['used:1'], deleted: [] });
    const left = await engine.images.store.list();
    assert.equal(left.length, 1);
    assert.deepEqual(left[0]!.tags, []);
    // Prune keeps it too while it is used; once not, it goes with its blobs.
    assert.equal((await pruneImages(engine.images.store, { users })).deleted.length, 0);
    const pruned = await pruneImages(engine.images.store);
    assert.equal(pruned.deleted.length, 1);
    assert.ok(pruned.reclaimed > 0);
    assert.deepEqual(await blobs(engine), new Set());
  },
);

testNoLeaks('image prune removes dangling images, -a every unused one', opts, async (t) => {
  const dir = await dirFor(t);
  const engine = new Engine({ root: path.join(dir, 'root') });
  const v1 = await image('v1', 'x');
  const v2 = await image('v2', 'y');
  await loadAs(engine, dir, v1, 'docker.io/library/app:latest');
  // A newer app:latest leaves the old image dangling (<none>), as docker does.
  await loadAs(engine, dir, v2, 'docker.io/library/app:latest');
  const rows = await engine.images.list();
  assert.deepEqual(rows.map((r) => `${r.Repository}:${r.Tag}`).sort(), [
    '<none>:<none>',
    'app:latest',
  ]);
  const p = await engine.images.prune();
  assert.deepEqual(
    p.deleted.map((r) => r.id),
    [v1.configDigest],
  );
  assert.equal((await engine.images.list()).length, 1);
  const all = await engine.images.prune({ all: true });
  assert.deepEqual(
    all.deleted.map((r) => r.id),
    [v2.configDigest],
  );
  assert.deepEqual(await blobs(engine), new Set());
});
