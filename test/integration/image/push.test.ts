import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Engine } from '../../../src/engine/index.js';
import { isChrunError } from '../../../src/util/index.js';
import { testNoLeaks } from '../../helpers/leak-check.js';
import { needsCommands } from '../../helpers/requirements.js';
import { FaultProxy } from '../../helpers/fault-proxy.js';
import { dirFor, leaks, seededImage, skopeo } from '../../helpers/image-fixtures.js';

const opts = { skip: needsCommands('docker-registry', 'skopeo'), leaks };

interface Manifest {
  config: { digest: string };
  layers: { digest: string; mediaType: string }[];
}

/** What skopeo, as an independent client, reads back from the registry. */
async function readBack(
  reg: Parameters<typeof skopeo>[0],
  ref: string,
  dir: string,
): Promise<{ manifest: Buffer; layout: Manifest }> {
  const manifest = await reg.manifest(ref);
  const out = path.join(dir, `readback-${ref.replace(/[/:@]/g, '_')}`);
  await reg.fetch(ref, `oci:${out}:x`);
  const index = JSON.parse(await readFile(path.join(out, 'index.json'), 'utf8')) as {
    manifests: { digest: string }[];
  };
  const layout = JSON.parse(
    await readFile(path.join(out, 'blobs', 'sha256', index.manifests[0]!.digest.slice(7)), 'utf8'),
  ) as Manifest;
  return { manifest, layout };
}

testNoLeaks(
  'push monolithic and chunked; skopeo reads back the same manifest and layer digests',
  opts,
  async (t) => {
    const { reg, dir, img } = await seededImage(t, 'src/app:1', {
      spec: {
        layers: [
          { compression: 'gzip', bytes: 400_000 },
          { compression: 'zstd', bytes: 300_000 },
        ],
      },
    });
    const proxy = await FaultProxy.start(reg.host);
    t.after(() => proxy.stop());
    const engine = new Engine({ root: path.join(dir, 'root') });
    const pulled = await engine.images.pull(`${reg.host}/src/app:1`);
    const local = await engine.images.store.content.readBlob(pulled.record.target.digest);

    await engine.images.tag(`${reg.host}/src/app:1`, `${proxy.host}/mono/app:1`);
    const mono = await engine.images.push(`${proxy.host}/mono/app:1`, undefined, { mount: false });
    assert.equal(mono.digest, pulled.record.target.digest);
    assert.ok(mono.blobs.every((b) => b.result === 'uploaded'));
    const puts = proxy.seen.filter(
      (s) => s.method === 'PUT' && s.url.includes('/mono/app/blobs/uploads/'),
    );
    assert.equal(puts.length, 3);
    assert.equal(proxy.seen.filter((s) => s.method === 'PATCH').length, 0);

    const chunked = await engine.images.push(
      `${proxy.host}/mono/app:1`,
      `${proxy.host}/chunked/app:2`,
      { chunkSize: 64 * 1024, mount: false },
    );
    assert.equal(chunked.digest, mono.digest);
    assert.ok(
      proxy.seen.filter((s) => s.method === 'PATCH' && s.url.includes('/chunked/app/')).length >=
        10,
    );

    for (const ref of ['mono/app:1', 'chunked/app:2']) {
      const back = await readBack(reg, ref, dir);
      assert.deepEqual(back.manifest, local, ref);
      assert.deepEqual(
        back.layout.layers.map((l) => l.digest),
        img.layers.map((l) => l.digest),
        ref,
      );
    }
    // Pushing again uploads nothing.
    const again = await engine.images.push(`${proxy.host}/mono/app:1`);
    assert.ok(again.blobs.every((b) => b.result === 'exists'));
  },
);

testNoLeaks(
  'push mounts blobs from another repository of the registry when it can',
  opts,
  async (t) => {
    const { reg, dir, img } = await seededImage(t, 'base/app:1');
    const proxy = await FaultProxy.start(reg.host);
    t.after(() => proxy.stop());
    const engine = new Engine({ root: path.join(dir, 'root') });
    await engine.images.pull(`${proxy.host}/base/app:1`);
    const r = await engine.images.push(`${proxy.host}/base/app:1`, `${proxy.host}/other/app:1`);
    assert.deepEqual(
      r.blobs.map((b) => b.result),
      ['mounted', 'mounted'],
    );
    const mounts = proxy.seen.filter((s) => s.method === 'POST' && s.url.includes('mount='));
    assert.equal(mounts.length, 2);
    assert.ok(mounts.every((m) => m.status === 201 && m.url.includes('from=base%2Fapp')));
    assert.equal(
      proxy.seen.filter((s) => s.method === 'PUT' && s.url.includes('/blobs/')).length,
      0,
    );
    const back = await readBack(reg, 'other/app:1', dir);
    assert.deepEqual(
      back.layout.layers.map((l) => l.digest),
      img.layers.map((l) => l.digest),
    );
  },
);

testNoLeaks(
  'push to a registry with basic auth: refused without credentials, done with them',
  opts,
  async (t) => {
    const auth = { username: 'carol', password: 'pw1' };
    const { reg, dir } = await seededImage(t, 'src/app:1', { registry: { auth } });
    const engine = new Engine({ root: path.join(dir, 'root') });
    await engine.images.pull(`${reg.host}/src/app:1`, { credentials: auth });
    await engine.images.tag(`${reg.host}/src/app:1`, `${reg.host}/dst/app:1`);
    const authFile = path.join(dir, 'none.json');
    await assert.rejects(
      engine.images.push(`${reg.host}/dst/app:1`, undefined, { authFile }),
      (err) => isChrunError(err, 'CHRUN_REGISTRY_UNAUTHORIZED'),
    );
    await engine.images.push(`${reg.host}/dst/app:1`, undefined, { credentials: auth });
    assert.deepEqual(await reg.tags('dst/app'), ['1']);
  },
);

testNoLeaks(
  'push names what is wrong: unknown image, an ID without destination',
  opts,
  async (t) => {
    const dir = await dirFor(t);
    const engine = new Engine({ root: path.join(dir, 'root') });
    await assert.rejects(
      engine.images.push('localhost:5000/nothing:1'),
      (err) =>
        isChrunError(err, 'CHRUN_IMAGE_NOT_FOUND') &&
        /no such image: localhost:5000\/nothing:1/.test(err.message),
    );
  },
);
