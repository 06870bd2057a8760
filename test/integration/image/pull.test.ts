import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { Engine } from '../../../src/engine/index.js';
import { isChrunError } from '../../../src/util/index.js';
import { testNoLeaks } from '../../helpers/leak-check.js';
import { needsCommands } from '../../helpers/requirements.js';
import { FaultProxy } from '../../helpers/fault-proxy.js';
import {
  dirFor,
  fixtureImage,
  fixtureIndex,
  leaks,
  registryFor,
  seededImage,
  skopeo,
} from '../../helpers/image-fixtures.js';

const run = promisify(execFile);
const skip = needsCommands('docker-registry', 'skopeo');
const opts = { skip, leaks };
const fast = { client: { retryDelayMs: 10 } };

async function sha256File(file: string): Promise<string> {
  return `sha256:${createHash('sha256')
    .update(await readFile(file))
    .digest('hex')}`;
}

/** Nothing of a failed pull is visible: no image, no blob, no partial download. */
async function assertEmptyStore(engine: Engine): Promise<void> {
  assert.deepEqual(await engine.images.list(), []);
  assert.deepEqual(await engine.images.store.content.list(), []);
  assert.deepEqual(await readdir(path.join(engine.paths.tmp, 'ingest')), []);
}

testNoLeaks(
  'pull an OCI image pushed by skopeo: gzip, zstd and uncompressed layers',
  opts,
  async (t) => {
    const reg = await registryFor(t);
    const dir = await dirFor(t);
    const img = await fixtureImage(path.join(dir, 'layout'), 'v1', {
      layers: [
        { compression: 'gzip', bytes: 300_000 },
        { compression: 'zstd', bytes: 200_000 },
        { compression: 'none', bytes: 100_000 },
      ],
    });
    // --preserve-digests: skopeo would otherwise gzip the uncompressed layer on the way.
    await skopeo(reg, [
      'copy',
      '--quiet',
      '--preserve-digests',
      '--dest-tls-verify=false',
      img.source,
      `docker://${reg.host}/test/app:v1`,
    ]);
    const pushed = img.manifestDigest;
    const engine = new Engine({ root: path.join(dir, 'root') });
    const events: string[] = [];
    const r = await engine.images.pull(`${reg.host}/test/app:v1`, {
      onProgress: (e) => events.push(e.type === 'layer' ? e.status : e.type),
    });
    assert.equal(r.digest, pushed);
    assert.equal(r.reference, `${reg.host}/test/app:v1`);
    assert.equal(r.downloaded, true);
    assert.equal(r.record.target.digest, img.manifestDigest);
    assert.deepEqual(r.record.tags, [`${reg.host}/test/app:v1`]);
    assert.deepEqual(r.record.digests, [`${reg.host}/test/app@${pushed}`]);
    // The layers as stored are the registry's bytes, with the diffIDs of the config.
    const layers = await engine.images.store.layers(r.record);
    assert.deepEqual(
      layers.map((l) => [l.descriptor.digest, l.diffId, l.compression]),
      img.layers.map((l, i) => [l.digest, l.diffId, ['gzip', 'zstd', 'none'][i]]),
    );
    for (const l of img.layers)
      assert.equal(
        await sha256File(engine.images.store.content.blobPath(l.digest as never)),
        l.digest,
      );
    assert.ok(
      events.includes('resolved') && events.includes('downloaded') && events.includes('complete'),
    );
    const list = await engine.images.list();
    assert.deepEqual(
      list.map((i) => [i.Repository, i.Tag]),
      [[`${reg.host}/test/app`, 'v1']],
    );
    const inspect = await engine.images.inspect(`${reg.host}/test/app:v1`);
    assert.deepEqual(inspect.Config?.Cmd, ['/bin/sh']);
    assert.deepEqual(
      inspect.RootFS.Layers,
      img.layers.map((l) => l.diffId),
    );
    // By digest, by ID and by short ID too.
    for (const name of [`${reg.host}/test/app@${pushed}`, inspect.Id, inspect.Id.slice(7, 19)]) {
      assert.equal((await engine.images.resolve(name)).target.digest, img.manifestDigest, name);
    }
  },
);

testNoLeaks(
  'pull a docker schema 2 image, by tag and by digest; a second pull downloads nothing',
  opts,
  async (t) => {
    const { reg, dir, digest } = await seededImage(t, 'lib/v2s2:1', {
      seed: { format: 'v2s2' },
    });
    const proxy = await FaultProxy.start(reg.host);
    t.after(() => proxy.stop());
    const engine = new Engine({ root: path.join(dir, 'root') });
    const first = await engine.images.pull(`${proxy.host}/lib/v2s2:1`);
    assert.equal(
      first.record.target.mediaType,
      'application/vnd.docker.distribution.manifest.v2+json',
    );
    assert.equal(first.record.target.digest, digest);
    const gets = proxy.blobGets().length;
    assert.equal(gets, 2); // config and layer
    const again = await engine.images.pull(`${proxy.host}/lib/v2s2:1`);
    assert.equal(again.downloaded, false);
    const byDigest = await engine.images.pull(`${proxy.host}/lib/v2s2@${digest}`);
    assert.equal(byDigest.downloaded, false);
    assert.equal(proxy.blobGets().length, gets);
    assert.equal((await engine.images.list()).length, 1);
  },
);

testNoLeaks(
  'a multi-platform index: the host platform by default, --platform on request, a clear error otherwise',
  opts,
  async (t) => {
    const reg = await registryFor(t);
    const dir = await dirFor(t);
    const { hostPlatform } = await import('../../../src/oci/index.js');
    const host = hostPlatform();
    const other =
      host.architecture === 'arm64'
        ? { os: 'linux', architecture: 'amd64' }
        : { os: 'linux', architecture: 'arm64', variant: 'v8' };
    const idx = await fixtureIndex(path.join(dir, 'layout'), 'multi', [
      { os: 'linux', architecture: 'ppc64le' },
      other,
      {
        os: host.os,
        architecture: host.architecture,
        ...(host.variant === undefined ? {} : { variant: host.variant }),
      },
    ]);
    await skopeo(reg, [
      'copy',
      '--quiet',
      '--all',
      '--preserve-digests',
      '--dest-tls-verify=false',
      idx.source,
      `docker://${reg.host}/multi/app:1`,
    ]);
    const ref = `${reg.host}/multi/app:1`;
    const hostKey = [
      host.os,
      host.architecture,
      ...(host.variant === undefined ? [] : [host.variant]),
    ].join('/');
    const e1 = new Engine({ root: path.join(dir, 'r1') });
    const mine = await e1.images.pull(ref);
    assert.equal(mine.record.target.digest, idx.digests.get(hostKey));
    assert.ok(mine.record.index !== undefined);
    const { parsePlatform } = await import('../../../src/oci/index.js');
    const e2 = new Engine({ root: path.join(dir, 'r2') });
    const arm = await e2.images.pull(ref, {
      platform: parsePlatform(`${other.os}/${other.architecture}`),
    });
    assert.equal(
      arm.record.target.digest,
      idx.digests.get(
        [
          other.os,
          other.architecture,
          ...(other.variant === undefined ? [] : [other.variant]),
        ].join('/'),
      ),
    );
    assert.equal(arm.record.platform.architecture, other.architecture);
    const e3 = new Engine({ root: path.join(dir, 'r3') });
    await assert.rejects(
      e3.images.pull(ref, { platform: parsePlatform('linux/s390x') }),
      (err) =>
        isChrunError(err, 'CHRUN_PLATFORM_NOT_FOUND') &&
        /no manifest for linux\/s390x/.test(err.message) &&
        /offered: linux\/ppc64le, /.test(err.message),
    );
    await assertEmptyStore(e3);
  },
);

testNoLeaks(
  'basic auth: credentials from config.json; none, or wrong ones, are refused',
  opts,
  async (t) => {
    const auth = { username: 'alice', password: 's3cr3t' };
    const { reg, dir, img } = await seededImage(t, 'private/app:1', { registry: { auth } });
    const ref = `${reg.host}/private/app:1`;
    const engine = new Engine({ root: path.join(dir, 'root') });
    const authFile = path.join(dir, 'config.json');
    await assert.rejects(engine.images.pull(ref, { authFile }), (err) =>
      isChrunError(err, 'CHRUN_REGISTRY_UNAUTHORIZED'),
    );
    await writeFile(
      authFile,
      JSON.stringify({
        auths: { [reg.host]: { auth: Buffer.from('alice:wrong').toString('base64') } },
      }),
    );
    await assert.rejects(engine.images.pull(ref, { authFile }), (err) =>
      isChrunError(err, 'CHRUN_REGISTRY_UNAUTHORIZED'),
    );
    await assertEmptyStore(engine);
    await writeFile(
      authFile,
      JSON.stringify({
        auths: {
          [`http://${reg.host}/v2/`]: { auth: Buffer.from('alice:s3cr3t').toString('base64') },
        },
      }),
    );
    const r = await engine.images.pull(ref, { authFile });
    assert.equal(r.record.target.digest, img.manifestDigest);
    // login checks before it writes; logout removes.
    const loginFile = path.join(dir, 'login.json');
    await assert.rejects(
      engine.images.login(reg.host, 'alice', 'nope', { authFile: loginFile }),
      /incorrect username or password/,
    );
    await assert.rejects(readFile(loginFile));
    assert.equal(
      await engine.images.login(reg.host, 'alice', 's3cr3t', { authFile: loginFile }),
      reg.host,
    );
    const stored = JSON.parse(await readFile(loginFile, 'utf8')) as {
      auths: Record<string, { auth: string }>;
    };
    assert.equal(Buffer.from(stored.auths[reg.host]!.auth, 'base64').toString(), 'alice:s3cr3t');
    assert.deepEqual(await engine.images.logout(reg.host, { authFile: loginFile }), {
      host: reg.host,
      removed: true,
    });
  },
);

testNoLeaks(
  'unknown tags and repositories name the reference; an unreachable registry says so',
  opts,
  async (t) => {
    const { reg, dir } = await seededImage(t, 'test/app:v1');
    const engine = new Engine({ root: path.join(dir, 'root') });
    await assert.rejects(
      engine.images.pull(`${reg.host}/test/app:nope`),
      (err) =>
        isChrunError(err, 'CHRUN_IMAGE_NOT_FOUND') &&
        err.message.includes(`${reg.host}/test/app:nope`),
    );
    await assert.rejects(
      engine.images.pull(`${reg.host}/no/such:1`),
      (err) =>
        isChrunError(err, 'CHRUN_IMAGE_NOT_FOUND') && err.message.includes(`${reg.host}/no/such:1`),
    );
    await assert.rejects(
      engine.images.pull('127.0.0.1:1/x:1'),
      (err) =>
        isChrunError(err, 'CHRUN_NETWORK_ERROR') &&
        /127\.0\.0\.1:1 is not reachable: connection refused/.test(err.message),
    );
    await assertEmptyStore(engine);
  },
);

testNoLeaks(
  'a dropped connection in the middle of a layer resumes with a Range request',
  opts,
  async (t) => {
    const { reg, dir, img } = await seededImage(t, 'test/big:1', {
      spec: {
        layers: [{ compression: 'gzip', bytes: 3_000_000 }],
      },
    });
    const proxy = await FaultProxy.start(reg.host, {
      dropBlobAfter: { bytes: 1_000_000, times: 2 },
    });
    t.after(() => proxy.stop());
    const engine = new Engine({ root: path.join(dir, 'root') });
    const r = await engine.images.pull(`${proxy.host}/test/big:1`, fast);
    const layer = img.layers[0]!;
    assert.equal(
      await sha256File(engine.images.store.content.blobPath(layer.digest as never)),
      layer.digest,
    );
    const gets = proxy.blobGets().filter((g) => g.url.endsWith(layer.digest));
    assert.ok(gets.length >= 3, JSON.stringify(gets));
    // The first drop happens in the config or the layer; the layer's retries resume mid-way.
    assert.ok(
      gets.some((g) => g.range !== undefined && /^bytes=[1-9]\d*-$/.test(g.range)),
      JSON.stringify(gets),
    );
    assert.equal(r.record.target.digest, img.manifestDigest);
  },
);

testNoLeaks(
  'a blob redirected to another host gets no Authorization; the pull succeeds',
  opts,
  async (t) => {
    const auth = { username: 'bob', password: 'pw' };
    const { reg, dir, img } = await seededImage(t, 'test/redir:1', { registry: { auth } });
    const proxy = await FaultProxy.start(reg.host, { redirectBlobs: true }, auth);
    t.after(() => proxy.stop());
    const engine = new Engine({ root: path.join(dir, 'root') });
    const r = await engine.images.pull(`${proxy.host}/test/redir:1`, { credentials: auth });
    assert.equal(r.record.target.digest, img.manifestDigest);
    // The registry itself was sent credentials; the other origin was not.
    assert.ok(proxy.blobGets().every((g) => g.authorization?.startsWith('Basic ')));
    assert.equal(proxy.storageAuthorizations.length, 2);
    assert.deepEqual(proxy.storageAuthorizations, [undefined, undefined]);
  },
);

testNoLeaks('corrupt blobs and manifests are refused and nothing is kept', opts, async (t) => {
  const { reg, dir, digest } = await seededImage(t, 'test/bad:1');
  const proxy = await FaultProxy.start(reg.host, { corruptBlobs: true });
  t.after(() => proxy.stop());
  const engine = new Engine({ root: path.join(dir, 'root') });
  await assert.rejects(engine.images.pull(`${proxy.host}/test/bad:1`, fast), (err) =>
    isChrunError(err, 'CHRUN_DIGEST_MISMATCH'),
  );
  await assertEmptyStore(engine);
  proxy.options = {
    replaceManifest: (body) =>
      Buffer.from(body.toString().replace('"schemaVersion":2', '"schemaVersion": 2')),
  };
  await assert.rejects(
    engine.images.pull(`${proxy.host}/test/bad:1`),
    (err) => isChrunError(err, 'CHRUN_DIGEST_MISMATCH') && /the registry says/.test(err.message),
  );
  await assert.rejects(engine.images.pull(`${proxy.host}/test/bad@${digest}`), (err) =>
    isChrunError(err, 'CHRUN_DIGEST_MISMATCH'),
  );
  proxy.options = {
    dropDigestHeader: true,
    replaceManifest: () =>
      Buffer.from(JSON.stringify({ schemaVersion: 1, name: 'test/bad', tag: '1', fsLayers: [] })),
  };
  await assert.rejects(
    engine.images.pull(`${proxy.host}/test/bad:1`),
    (err) => isChrunError(err, 'CHRUN_MANIFEST_UNSUPPORTED') && /schema 1/.test(err.message),
  );
  await assertEmptyStore(engine);
});

testNoLeaks(
  'a layer that fails aborts the downloads in flight: the pull fails at once, nothing partial stays',
  opts,
  async (t) => {
    const { reg, dir, img } = await seededImage(t, 'test/cancel:1', {
      spec: {
        layers: [
          { compression: 'gzip', bytes: 2_000_000 },
          { compression: 'gzip', bytes: 2_000_000 },
          { compression: 'gzip', bytes: 50_000 },
        ],
      },
    });
    const bad = img.layers[2]!.digest;
    // The big layers crawl (about 8 s each); the small one is refused (503, retried, given up).
    const proxy = await FaultProxy.start(reg.host, {
      throttleBlobs: 12_000,
      fail503: { match: new RegExp(bad), times: 1000 },
    });
    t.after(() => proxy.stop());
    const engine = new Engine({ root: path.join(dir, 'root') });
    const ingest = path.join(engine.paths.tmp, 'ingest');
    const started = Date.now();
    await assert.rejects(
      engine.images.pull(`${proxy.host}/test/cancel:1`, fast),
      (err) => isChrunError(err) && err.message.includes(bad),
    );
    const took = Date.now() - started;
    assert.ok(took < 4000, `the pull took ${took} ms: it waited for the other downloads`);
    // The big downloads had started, and were stopped: no file left, none still written.
    const bigGets = proxy.blobGets().filter((g) => !g.url.endsWith(bad) && g.status === 200);
    assert.ok(bigGets.length >= 2, JSON.stringify(proxy.blobGets()));
    assert.deepEqual(await readdir(ingest), []);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(await readdir(ingest), []);
    const blobsLeft = (await engine.images.store.content.list()).map((b) => b.digest);
    for (const l of img.layers) assert.ok(!blobsLeft.includes(l.digest as never), l.digest);
    assert.deepEqual(await engine.images.list(), []);
  },
);

testNoLeaks('503s are retried', opts, async (t) => {
  const { reg, dir, img } = await seededImage(t, 'test/flaky:1');
  const proxy = await FaultProxy.start(reg.host, {
    fail503: { match: /\/(manifests|blobs)\//, times: 3 },
  });
  t.after(() => proxy.stop());
  const engine = new Engine({ root: path.join(dir, 'root') });
  const r = await engine.images.pull(`${proxy.host}/test/flaky:1`, fast);
  assert.equal(r.record.target.digest, img.manifestDigest);
  assert.equal(proxy.seen.filter((s) => s.status === 503).length, 3);
});

testNoLeaks(
  'the unpack step runs after the blobs are verified and before the name exists',
  opts,
  async (t) => {
    const { reg, dir, img } = await seededImage(t, 'test/unpack:1', {
      spec: {
        layers: [
          { compression: 'gzip', bytes: 10_000 },
          { compression: 'zstd', bytes: 10_000 },
        ],
      },
    });
    const engine = new Engine({ root: path.join(dir, 'root') });
    const ref = `${reg.host}/test/unpack:1`;
    const seen: string[] = [];
    engine.images.unpacker = async (req) => {
      // Nothing is named yet; every blob is there and readable.
      assert.deepEqual(await engine.images.list(), []);
      assert.deepEqual(
        req.layers.map((l) => l.diffId),
        img.layers.map((l) => l.diffId),
      );
      for (const l of req.layers) {
        const hash = createHash('sha256');
        for await (const c of req.openBlob(l.descriptor.digest)) hash.update(c as Buffer);
        assert.equal(`sha256:${hash.digest('hex')}`, l.descriptor.digest);
        seen.push(l.compression);
      }
    };
    await engine.images.pull(ref);
    assert.deepEqual(seen, ['gzip', 'zstd']);
    assert.equal((await engine.images.list()).length, 1);

    const other = new Engine({ root: path.join(dir, 'other') });
    other.images.unpacker = () => Promise.reject(new Error('layer 2: disk on fire'));
    await assert.rejects(other.images.pull(ref), /disk on fire/);
    assert.deepEqual(await other.images.list(), []);
  },
);

testNoLeaks(
  'layers are unpacked while the others download; an unpack failure stops the downloads',
  opts,
  async (t) => {
    const { reg, dir, img } = await seededImage(t, 'test/stream:1', {
      spec: {
        layers: [
          { compression: 'gzip', bytes: 20_000 },
          { compression: 'gzip', bytes: 1_500_000 },
        ],
      },
    });
    // About 2.5 s for the big layer.
    const proxy = await FaultProxy.start(reg.host, { throttleBlobs: 30_000 });
    t.after(() => proxy.stop());
    const ref = `${proxy.host}/test/stream:1`;
    const big = img.layers[1]!.digest;
    const engine = new Engine({ root: path.join(dir, 'root') });
    let smallRead = 0;
    let bigStored = 0;
    engine.images.unpacker = async (req) => {
      for (const l of req.layers) {
        const hash = createHash('sha256');
        for await (const c of req.openBlob(l.descriptor.digest)) hash.update(c as Buffer);
        // What the unpacker reads is the verified blob.
        assert.equal(`sha256:${hash.digest('hex')}`, l.descriptor.digest);
        if (l.descriptor.digest !== big) smallRead = Date.now();
      }
    };
    await engine.images.pull(ref, {
      onProgress: (e) => {
        if (e.type === 'layer' && e.digest === big && e.status === 'downloaded') {
          bigStored = Date.now();
        }
      },
    });
    assert.ok(smallRead > 0 && bigStored > 0);
    assert.ok(smallRead < bigStored - 500, `unpacked at ${smallRead}, big layer at ${bigStored}`);

    const other = new Engine({ root: path.join(dir, 'other') });
    other.images.unpacker = async (req) => {
      let bytes = 0;
      for await (const c of req.openBlob(req.layers[0]!.descriptor.digest))
        bytes += (c as Buffer).length;
      assert.ok(bytes > 0);
      throw new Error('layer 1: disk on fire');
    };
    const started = Date.now();
    await assert.rejects(other.images.pull(ref), /disk on fire/);
    assert.ok(Date.now() - started < 1500, `the failed pull took ${Date.now() - started} ms`);
    // No image and no partial download; whole verified blobs stay for GC (or the next pull).
    assert.deepEqual(await other.images.list(), []);
    assert.deepEqual(await readdir(path.join(other.paths.tmp, 'ingest')), []);
    const left = (await other.images.store.content.list()).map((b) => b.digest);
    assert.ok(!left.includes(big as never), 'the big layer was not downloaded to the end');
  },
);

testNoLeaks(
  'a loopback registry behind TLS with a self-signed certificate is reached over HTTPS',
  { ...opts, skip: needsCommands('docker-registry', 'skopeo', 'openssl') },
  async (t) => {
    const { reg, dir, img } = await seededImage(t, 'test/tls:1');
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
    ]);
    const https = await import('node:https');
    const http = await import('node:http');
    let tlsRequests = 0;
    const server = https.createServer(
      { key: await readFile(key), cert: await readFile(cert) },
      (req, res) => {
        tlsRequests++;
        const up = http.request(
          {
            host: '127.0.0.1',
            port: Number(reg.host.split(':')[1]),
            method: req.method,
            path: req.url,
            headers: req.headers,
          },
          (r) => {
            res.writeHead(r.statusCode ?? 502, r.headers);
            r.pipe(res);
          },
        );
        req.pipe(up);
      },
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t.after(
      () =>
        new Promise<void>((r) => {
          server.closeAllConnections();
          server.close(() => r());
        }),
    );
    const port = (server.address() as import('node:net').AddressInfo).port;
    const engine = new Engine({ root: path.join(dir, 'root') });
    const r = await engine.images.pull(`127.0.0.1:${port}/test/tls:1`);
    assert.equal(r.record.target.digest, img.manifestDigest);
    assert.ok(tlsRequests >= 3, `${tlsRequests} requests over TLS`);
  },
);
