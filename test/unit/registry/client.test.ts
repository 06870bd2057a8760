import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import { RegistryClient, type BlobSink } from '../../../src/registry/index.js';
import { isChrunError } from '../../../src/util/index.js';

// A fake registry with a Bearer token server, in process: the token flow Docker Hub uses,
// which the real test registry (htpasswd, Basic) does not exercise.

interface Fake {
  host: string;
  tokenRequests: URLSearchParams[];
  tokenAuth: (string | undefined)[];
  seen: { url: string; authorization: string | undefined }[];
  /** Token lifetime the server grants (seconds). */
  expiresIn: number;
}

const MANIFEST = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: {
      mediaType: 'application/vnd.oci.image.config.v1+json',
      digest: `sha256:${'a'.repeat(64)}`,
      size: 2,
    },
    layers: [],
  }),
);
const MANIFEST_DIGEST = `sha256:${createHash('sha256').update(MANIFEST).digest('hex')}`;
const BLOB = Buffer.alloc(300_000, 7);
const BLOB_DIGEST = `sha256:${createHash('sha256').update(BLOB).digest('hex')}` as const;

async function fakeRegistry(
  t: TestContext,
  creds?: { username: string; password: string },
): Promise<Fake> {
  const fake: Fake = { host: '', tokenRequests: [], tokenAuth: [], seen: [], expiresIn: 300 };
  let issued = 0;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/token') {
      fake.tokenRequests.push(url.searchParams);
      fake.tokenAuth.push(req.headers.authorization);
      const want =
        creds === undefined
          ? undefined
          : `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
      if (want !== undefined && req.headers.authorization !== want) {
        res.writeHead(401).end();
        return;
      }
      issued++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          token: `t${issued}|${url.searchParams.getAll('scope').join(' ')}`,
          expires_in: fake.expiresIn,
        }),
      );
      return;
    }
    fake.seen.push({ url: url.pathname, authorization: req.headers.authorization });
    const challenge = (scope: string): string =>
      `Bearer realm="http://${fake.host}/token",service="fake",scope="${scope}"`;
    const m = /^\/v2\/(.+)\/(manifests|blobs)\/(.+)$/.exec(url.pathname);
    if (url.pathname === '/v2/' || m === null) {
      res.writeHead(401, { 'www-authenticate': challenge('') }).end();
      return;
    }
    const scope = `repository:${m[1]!}:pull`;
    const auth = req.headers.authorization ?? '';
    if (!auth.startsWith('Bearer ') || !auth.includes(scope)) {
      res
        .writeHead(401, { 'www-authenticate': challenge(scope) })
        .end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
      return;
    }
    if (m[2] === 'manifests') {
      res
        .writeHead(200, {
          'content-type': 'application/vnd.oci.image.manifest.v1+json',
          'docker-content-digest': MANIFEST_DIGEST,
        })
        .end(MANIFEST);
      return;
    }
    // Blobs: a relative redirect on the same origin, then the bytes (Range honoured).
    if (!url.searchParams.has('moved')) {
      res.writeHead(307, { location: `${url.pathname}?moved=1` }).end();
      return;
    }
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = range === null ? 0 : Number(range[1]);
    res.writeHead(range === null ? 200 : 206, {
      'content-length': String(BLOB.length - start),
      ...(range === null
        ? {}
        : { 'content-range': `bytes ${start}-${BLOB.length - 1}/${BLOB.length}` }),
    });
    res.end(BLOB.subarray(start));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  fake.host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  return fake;
}

class MemorySink implements BlobSink {
  chunks: Buffer[] = [];
  get offset(): number {
    return this.chunks.reduce((n, c) => n + c.length, 0);
  }
  write(chunk: Uint8Array): void {
    this.chunks.push(Buffer.from(chunk));
  }
  reset(): Promise<void> {
    this.chunks = [];
    return Promise.resolve();
  }
}

test('Bearer tokens are fetched per scope and cached until they expire', async (t) => {
  const fake = await fakeRegistry(t);
  const client = new RegistryClient(fake.host, { retryDelayMs: 1 });
  t.after(() => client.close());
  const m1 = await client.getManifest('lib/a', '1');
  assert.equal(m1.digest, MANIFEST_DIGEST);
  await client.getManifest('lib/a', '2');
  await client.getManifest('lib/a', MANIFEST_DIGEST);
  // One token for lib/a, reused.
  assert.deepEqual(
    fake.tokenRequests.map((q) => q.getAll('scope')),
    [['repository:lib/a:pull']],
  );
  assert.equal(fake.tokenRequests[0]!.get('service'), 'fake');
  await client.getManifest('lib/b', '1');
  assert.deepEqual(
    fake.tokenRequests.map((q) => q.getAll('scope').join()),
    ['repository:lib/a:pull', 'repository:lib/b:pull'],
  );
  // Anonymous: no credentials were sent to the token server.
  assert.deepEqual(fake.tokenAuth, [undefined, undefined]);
  const authorized = fake.seen.filter((s) => s.url.includes('/manifests/'));
  assert.ok(authorized.every((s) => s.authorization?.startsWith('Bearer t')));
});

test('an expired token is fetched again', async (t) => {
  const fake = await fakeRegistry(t);
  fake.expiresIn = 11; // the client keeps a 10 s margin: the token is used for about 1 s
  const client = new RegistryClient(fake.host);
  t.after(() => client.close());
  await client.getManifest('lib/a', '1');
  await client.getManifest('lib/a', '1');
  assert.equal(fake.tokenRequests.length, 1);
  await new Promise((r) => setTimeout(r, 1200));
  await client.getManifest('lib/a', '1');
  assert.equal(fake.tokenRequests.length, 2);
});

test('credentials go to the token server as Basic; wrong ones are a clear error', async (t) => {
  const creds = { username: 'u', password: 'p:w' };
  const fake = await fakeRegistry(t, creds);
  const good = new RegistryClient(fake.host, { credentials: creds });
  t.after(() => good.close());
  await good.getManifest('lib/a', '1');
  assert.equal(fake.tokenAuth[0], `Basic ${Buffer.from('u:p:w').toString('base64')}`);
  assert.equal(fake.tokenRequests[0]!.get('account'), 'u');
  const bad = new RegistryClient(fake.host, { credentials: { username: 'u', password: 'x' } });
  t.after(() => bad.close());
  await assert.rejects(
    bad.getManifest('lib/a', '1'),
    (err) =>
      isChrunError(err, 'CHRUN_REGISTRY_UNAUTHORIZED') &&
      /incorrect username or password/.test(err.message),
  );
  const anon = new RegistryClient(fake.host);
  t.after(() => anon.close());
  await assert.rejects(
    anon.getManifest('lib/a', '1'),
    (err) =>
      isChrunError(err, 'CHRUN_REGISTRY_UNAUTHORIZED') && /run chrun login/.test(err.message),
  );
});

test('blobs follow same-origin redirects with the token, and resume from the sink offset', async (t) => {
  const fake = await fakeRegistry(t);
  const client = new RegistryClient(fake.host);
  t.after(() => client.close());
  const sink = new MemorySink();
  sink.write(BLOB.subarray(0, 1000));
  await client.fetchBlob('lib/a', { digest: BLOB_DIGEST, size: BLOB.length }, sink);
  assert.deepEqual(Buffer.concat(sink.chunks), BLOB);
  const blobGets = fake.seen.filter((s) => s.url.includes('/blobs/'));
  assert.ok(blobGets.length >= 2);
  assert.ok(
    blobGets.every((s) => s.authorization?.startsWith('Bearer ')),
    'same origin keeps the token',
  );
});

test('a manifest whose bytes do not match the digest asked for is refused', async (t) => {
  const fake = await fakeRegistry(t);
  const client = new RegistryClient(fake.host);
  t.after(() => client.close());
  await assert.rejects(client.getManifest('lib/a', `sha256:${'b'.repeat(64)}`), (err) =>
    isChrunError(err, 'CHRUN_DIGEST_MISMATCH'),
  );
});
