import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { testNoLeaks, type LeakCheckOptions } from '../../helpers/leak-check.js';
import { startRegistry } from '../../helpers/registry.js';
import { needsRootAnd } from '../../helpers/requirements.js';
import { tempDir } from '../../helpers/temp.js';

const run = promisify(execFile);
const sha256 = (b: Buffer | string): string =>
  `sha256:${createHash('sha256').update(b).digest('hex')}`;

const skip = needsRootAnd('docker-registry', 'skopeo', 'htpasswd', 'tar');
/** The registry's temp directories must be gone after each test, with the rest. */
const leaks: LeakCheckOptions = { files: [{ path: os.tmpdir(), match: /^chrun-registry-/ }] };

interface Layout {
  dir: string;
  manifest: Buffer;
  layer: Buffer;
}

/**
 * A one-layer OCI image layout (a single file, /hello), written by hand with GNU tar and
 * node's gzip, so what the registry serves can be compared byte for byte.
 */
async function tinyLayout(dir: string, tag: string): Promise<Layout> {
  const rootfs = path.join(dir, 'rootfs');
  await mkdir(rootfs);
  await writeFile(path.join(rootfs, 'hello'), 'hello from a chrun test\n');
  const { stdout: tar } = await run(
    'tar',
    [
      '--sort=name',
      '--mtime=@0',
      '--owner=0',
      '--group=0',
      '--numeric-owner',
      '-C',
      rootfs,
      '-cf',
      '-',
      'hello',
    ],
    { encoding: 'buffer' },
  );
  const layer = gzipSync(tar);
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Cmd: ['/hello'] },
      rootfs: { type: 'layers', diff_ids: [sha256(tar)] },
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: sha256(config),
        size: config.length,
      },
      layers: [
        {
          mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
          digest: sha256(layer),
          size: layer.length,
        },
      ],
    }),
  );
  const layout = path.join(dir, 'layout');
  await mkdir(path.join(layout, 'blobs/sha256'), { recursive: true });
  for (const blob of [layer, config, manifest]) {
    await writeFile(path.join(layout, 'blobs/sha256', sha256(blob).slice(7)), blob);
  }
  await writeFile(path.join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(
    path.join(layout, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: sha256(manifest),
          size: manifest.length,
          annotations: { 'org.opencontainers.image.ref.name': tag },
        },
      ],
    }),
  );
  return { dir: layout, manifest, layer };
}

/** A plain HTTP GET, independent of skopeo: status, headers and body. */
function get(
  url: string,
  auth?: string,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    // distribution 2.8 answers 404 for an OCI manifest asked for without accepting OCI.
    const headers: Record<string, string> = {
      accept: 'application/vnd.oci.image.manifest.v1+json',
    };
    if (auth) headers.authorization = `Basic ${Buffer.from(auth).toString('base64')}`;
    http
      .get(url, { headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
          }),
        );
      })
      .on('error', reject);
  });
}

testNoLeaks(
  'a seeded image reads back the same, through skopeo and plain HTTP',
  { skip, leaks },
  async (t) => {
    const work = await tempDir();
    t.after(() => work.cleanup());
    const img = await tinyLayout(work.path, 'v1');
    const reg = await startRegistry();
    t.after(() => reg.stop());
    assert.match(reg.host, /^127\.0\.0\.1:\d+$/);
    assert.equal((await get(`${reg.url}/v2/`)).status, 200);

    const digest = await reg.seed(`oci:${img.dir}:v1`, 'test/tiny:v1');
    assert.equal(digest, sha256(img.manifest), 'skopeo pushed our manifest unchanged');
    assert.deepEqual(await reg.manifest('test/tiny:v1'), img.manifest);
    assert.deepEqual(await reg.manifest(`test/tiny@${digest}`), img.manifest);
    assert.deepEqual(await reg.tags('test/tiny'), ['v1']);
    const blob = await get(`${reg.url}/v2/test/tiny/blobs/${sha256(img.layer)}`);
    assert.equal(blob.status, 200);
    assert.deepEqual(blob.body, img.layer);

    // Another tag, converted to Docker's v2 schema 2 on the way.
    await reg.seed(`oci:${img.dir}:v1`, 'test/tiny:v2s2', { format: 'v2s2' });
    assert.deepEqual(await reg.tags('test/tiny'), ['v1', 'v2s2']);
    const converted = JSON.parse((await reg.manifest('test/tiny:v2s2')).toString()) as {
      mediaType: string;
    };
    assert.equal(converted.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');

    // And out again into a fresh layout, blob for blob.
    const out = path.join(work.path, 'out');
    await reg.fetch('test/tiny:v1', `oci:${out}:v1`);
    assert.deepEqual(
      await readFile(path.join(out, 'blobs/sha256', sha256(img.layer).slice(7))),
      img.layer,
    );

    // A docker-save archive seeds as well (written here by skopeo from the registry).
    const archive = path.join(work.path, 'tiny.tar');
    await reg.fetch('test/tiny:v1', `docker-archive:${archive}:test/tiny:v1`);
    await reg.seed(`docker-archive:${archive}`, 'test/from-archive:v1');
    assert.deepEqual(await reg.tags('test/from-archive'), ['v1']);

    await assert.rejects(
      reg.manifest('test/tiny:nope'),
      /skopeo inspect: .*(manifest unknown|not found)/i,
    );
  },
);

testNoLeaks(
  'with auth, anonymous access is refused with 401 and credentials work',
  { skip, leaks },
  async (t) => {
    const work = await tempDir();
    t.after(() => work.cleanup());
    const img = await tinyLayout(work.path, 'v1');
    const auth = { username: 'chrun', password: 's3cret pass' };
    const reg = await startRegistry({ auth });
    t.after(() => reg.stop());

    const anon = await get(`${reg.url}/v2/`);
    assert.equal(anon.status, 401);
    assert.match(String(anon.headers['www-authenticate']), /^Basic realm="chrun-test"/);
    assert.equal((await get(`${reg.url}/v2/`, 'chrun:wrong')).status, 401);
    assert.equal((await get(`${reg.url}/v2/`, `${auth.username}:${auth.password}`)).status, 200);

    await assert.rejects(
      reg.seed(`oci:${img.dir}:v1`, 'test/tiny:v1', { anonymous: true }),
      /skopeo copy: .*(unauthorized|authentication required|401)/i,
    );
    const digest = await reg.seed(`oci:${img.dir}:v1`, 'test/tiny:v1');
    assert.equal(digest, sha256(img.manifest));
    assert.deepEqual(await reg.tags('test/tiny'), ['v1']);
    const manifest = await get(
      `${reg.url}/v2/test/tiny/manifests/v1`,
      `${auth.username}:${auth.password}`,
    );
    assert.equal(manifest.status, 200);
    assert.deepEqual(manifest.body, img.manifest);
    assert.equal((await get(`${reg.url}/v2/test/tiny/manifests/v1`)).status, 401);
  },
);

testNoLeaks(
  'stop kills and reaps the registry and removes its directory',
  { skip, leaks },
  async () => {
    const reg = await startRegistry();
    const alive = (): boolean => {
      try {
        process.kill(reg.pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    assert.ok(alive());
    await access(reg.dir);
    await reg.stop();
    assert.equal(alive(), false, 'the registry process is gone');
    await assert.rejects(access(reg.dir), { code: 'ENOENT' });
    await assert.rejects(get(`${reg.url}/v2/`), /ECONNREFUSED/);
    await reg.stop(); // idempotent
  },
);

testNoLeaks(
  'two registries at once get two ports and separate storage',
  { skip, leaks },
  async (t) => {
    const [a, b] = await Promise.all([startRegistry(), startRegistry()]);
    t.after(() => Promise.all([a.stop(), b.stop()]));
    assert.notEqual(a.host, b.host);
    assert.notEqual(a.dir, b.dir);
  },
);
