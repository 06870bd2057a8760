import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { MediaType, type ImageConfig } from '../../../src/oci/index.js';
import { detectCompression, readTar, decompress, type TarHeader } from '../../../src/tar/index.js';
import {
  BUSYBOX,
  CAP_NET_RAW,
  DEFAULT_APPLETS,
  HOSTILE_KINDS,
  LONG_PATH_300,
  blobsOf,
  buildImage,
  buildIndex,
  busyboxApplets,
  busyboxLayer,
  craftedLayers,
  hostileLayers,
  writeDockerArchive,
  writeOciArchive,
  writeOciLayout,
  type ImageSpec,
} from '../../helpers/image-builder.js';
import { needsCommands } from '../../helpers/requirements.js';
import { chunked } from '../../helpers/tar-bytes.js';
import { tempDir } from '../../helpers/temp.js';

const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function entriesOf(tarOrBlob: Buffer): Promise<TarHeader[]> {
  const out: TarHeader[] = [];
  for await (const e of readTar(decompress(chunked(tarOrBlob, 65536)))) out.push(e.header);
  return out;
}

/** Every file under dir, relative path -> sha256 of its bytes. */
async function hashTree(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const name of (await readdir(dir, { recursive: true, withFileTypes: true })).sort()) {
    if (!name.isFile()) continue;
    const p = path.join(name.parentPath, name.name);
    out.set(path.relative(dir, p), sha(await readFile(p)));
  }
  return out;
}

const needs = needsCommands('zstd', BUSYBOX);
const spec = (): ImageSpec => ({
  layers: [
    busyboxLayer({ compression: 'none' }),
    ...craftedLayers('gzip'),
    { ...craftedLayers('zstd')[1]!, createdBy: 'again, zstd' },
  ],
  config: {
    Entrypoint: ['/bin/sh', '-c'],
    Cmd: ['echo hello'],
    Env: ['PATH=/usr/bin:/bin', 'HOME=/root'],
    WorkingDir: '/tmp',
    User: '1000:1000',
    ExposedPorts: { '8080/tcp': {} },
  },
});

describe('buildImage', { skip: needs }, () => {
  test('describes every blob by its real digest, size and diff ID', async () => {
    const img = await buildImage(spec());
    assert.equal(img.layers.length, 4);
    assert.deepEqual(
      img.layers.map((l) => l.compression),
      ['none', 'gzip', 'gzip', 'zstd'],
    );
    for (const [i, l] of img.layers.entries()) {
      assert.equal(l.digest, sha(l.blob));
      assert.equal(l.size, l.blob.length);
      assert.equal(l.diffId, sha(l.tar));
      assert.equal(detectCompression(l.blob), l.compression);
      assert.deepEqual(img.manifest.layers[i], {
        mediaType: l.mediaType,
        digest: l.digest,
        size: l.size,
      });
    }
    assert.deepEqual(
      img.layers.map((l) => l.mediaType),
      [MediaType.ociLayer, MediaType.ociLayerGzip, MediaType.ociLayerGzip, MediaType.ociLayerZstd],
    );
    assert.equal(img.configDigest, sha(img.configBytes));
    assert.equal(img.manifestDigest, sha(img.manifestBytes));
    assert.deepEqual(img.manifest.config, {
      mediaType: MediaType.ociConfig,
      digest: img.configDigest,
      size: img.configBytes.length,
    });
    const config = JSON.parse(img.configBytes.toString()) as ImageConfig;
    assert.deepEqual(config.rootfs, { type: 'layers', diff_ids: img.layers.map((l) => l.diffId) });
    assert.deepEqual(config.config, spec().config);
    assert.deepEqual([config.os, config.architecture], ['linux', 'amd64']);
    assert.equal(config.history?.length, 4);
    const manifest = JSON.parse(img.manifestBytes.toString()) as { mediaType: string };
    assert.equal(manifest.mediaType, MediaType.ociManifest);
  });

  test('is deterministic: the same spec gives the same digests and the same files', async () => {
    const [a, b] = [await buildImage(spec()), await buildImage(spec())];
    assert.equal(a.manifestDigest, b.manifestDigest);
    assert.deepEqual(
      a.layers.map((l) => l.digest),
      b.layers.map((l) => l.digest),
    );
    const tmp = await tempDir();
    try {
      for (const n of ['1', '2']) {
        const img = n === '1' ? a : b;
        await writeOciLayout(path.join(tmp.path, n, 'layout'), img, 'v1');
        await writeOciArchive(path.join(tmp.path, n, 'oci.tar'), img, 'v1');
        await writeDockerArchive(path.join(tmp.path, n, 'docker.tar'), img, ['busybox:v1']);
      }
      const one = await hashTree(path.join(tmp.path, '1'));
      assert.ok(one.size > 8);
      assert.deepEqual(await hashTree(path.join(tmp.path, '2')), one);
    } finally {
      await tmp.cleanup();
    }
  });

  test('writes Docker media types when asked', async () => {
    const img = await buildImage({ ...spec(), format: 'docker' });
    assert.equal(img.manifest.mediaType, MediaType.dockerManifest);
    assert.equal(img.manifest.config.mediaType, MediaType.dockerConfig);
    assert.deepEqual(
      img.layers.map((l) => l.mediaType),
      [
        MediaType.dockerLayer,
        MediaType.dockerLayerGzip,
        MediaType.dockerLayerGzip,
        MediaType.dockerLayerZstd,
      ],
    );
    const index = buildIndex([img]);
    assert.equal(index.index.mediaType, MediaType.dockerManifestList);
  });

  test('lies on request, storing the blob under the lied digest', async () => {
    const lied = `sha256:${'0'.repeat(64)}` as const;
    const img = await buildImage({
      layers: [
        {
          entries: [{ header: { path: 'a', type: 'file' }, body: Buffer.from('abc') }],
          lie: { size: 10, digest: lied, diffId: lied },
        },
      ],
    });
    assert.deepEqual(img.manifest.layers[0], {
      mediaType: MediaType.ociLayerGzip,
      digest: lied,
      size: 10,
    });
    assert.deepEqual(img.config.rootfs.diff_ids, [lied]);
    assert.notEqual(img.layers[0]!.blob.length, 10);
    assert.equal(blobsOf(img).get(lied), img.layers[0]!.blob);
  });

  test('an index lists each image with its platform, and selects nothing by itself', async () => {
    const amd = await buildImage({
      layers: [busyboxLayer()],
      platform: { os: 'linux', architecture: 'amd64' },
    });
    const arm = await buildImage({
      layers: [busyboxLayer()],
      platform: { os: 'linux', architecture: 'arm', variant: 'v7' },
    });
    assert.notEqual(amd.manifestDigest, arm.manifestDigest, 'the configs differ by platform');
    assert.deepEqual(amd.layers[0]!.digest, arm.layers[0]!.digest, 'the layer is shared');
    const idx = buildIndex([amd, arm]);
    assert.equal(idx.indexDigest, sha(idx.indexBytes));
    assert.deepEqual(
      idx.index.manifests.map((m) => [m.digest, m.platform]),
      [
        [amd.manifestDigest, { os: 'linux', architecture: 'amd64' }],
        [arm.manifestDigest, { os: 'linux', architecture: 'arm', variant: 'v7' }],
      ],
    );
    assert.equal(arm.config.variant, 'v7');
    assert.equal(blobsOf(idx).size, 1 + 2 * 2 + 1);
  });
});

describe('layers', { skip: needs }, () => {
  test('busyboxLayer: the host binary and a symlink per applet', async () => {
    const img = await buildImage({ layers: [busyboxLayer({ compression: 'none' })] });
    const tar = img.layers[0]!.tar;
    const headers = await entriesOf(tar);
    const bin = headers.find((h) => h.path === 'bin/busybox')!;
    assert.equal(bin.mode, 0o755);
    assert.equal(bin.size, (await readFile(BUSYBOX)).length);
    assert.ok(tar.includes(await readFile(BUSYBOX)), 'the bytes of /bin/busybox');
    const links = headers.filter((h) => h.type === 'symlink');
    assert.ok(links.every((h) => h.linkname === 'busybox' && h.path.startsWith('bin/')));
    assert.deepEqual(
      links.map((h) => h.path.slice(4)).sort(),
      DEFAULT_APPLETS.filter((a) => busyboxApplets().includes(a)).sort(),
    );
    assert.ok(links.some((h) => h.path === 'bin/sh'));
    assert.equal(headers.find((h) => h.path === 'tmp/')!.mode, 0o1777);
    const all = await buildImage({ layers: [busyboxLayer({ applets: 'all' })] });
    const allLinks = (await entriesOf(all.layers[0]!.blob)).filter((h) => h.type === 'symlink');
    assert.equal(allLinks.length, busyboxApplets().filter((a) => a !== 'busybox').length);
  });

  test('craftedLayers: whiteouts, opaque marker, long names and binary xattrs are in the tars', async () => {
    const [lower, upper] = (await buildImage({ layers: craftedLayers('zstd') })).layers;
    const up = await entriesOf(upper!.blob);
    const paths = up.map((h) => h.path);
    for (const p of ['crafted/.wh.to-delete', 'crafted/opaque/.wh..wh..opq', LONG_PATH_300]) {
      assert.ok(paths.includes(p), p);
    }
    assert.ok(upper!.tar.includes('PaxHeaders.0/'), 'PAX headers written');
    const cap = up.find((h) => h.path === 'crafted/xattrs/cap')!;
    assert.deepEqual(cap.xattrs.get('security.capability'), CAP_NET_RAW);
    assert.equal(
      up.find((h) => h.path === 'crafted/links/hard-to-lower')!.linkname,
      'crafted/lower-file',
    );
    assert.ok((await entriesOf(lower!.blob)).some((h) => h.path === 'crafted/lower-file'));
  });

  test('hostileLayers: every kind carries its escape, unsanitized', async () => {
    const victim = '/tmp/chrun-victim';
    const climb = /(\.\.\/){40}tmp\/chrun-victim/;
    const expect: Record<string, (h: TarHeader[]) => boolean> = {
      dotdot: (h) => h.some((e) => climb.test(e.path) && e.path.endsWith('/pwned')),
      'dotdot-nested': (h) => h.some((e) => e.path.startsWith('a/b/../') && climb.test(e.path)),
      absolute: (h) => h.some((e) => e.path === `${victim}/pwned`),
      'symlink-write': (h) =>
        h.some((e) => e.linkname === victim) && h.some((e) => e.path === 'escape/pwned'),
      'symlink-relative-write': (h) =>
        h.some((e) => climb.test(e.linkname)) && h.some((e) => e.path === 'escape/pwned'),
      'symlink-chain-write': (h) =>
        h.some((e) => e.path === 'a' && e.linkname === 'b') && h.some((e) => e.path === 'a/pwned'),
      'symlink-then-dir': (h) => h.some((e) => e.path === 'etc/' && e.type === 'directory'),
      'symlink-lower-layer': (h) => h.some((e) => e.path === 'escape/pwned'),
      'symlink-overwrite-target': (h) => h.filter((e) => e.path === 'victim-link').length === 2,
      'hardlink-outside': (h) => h.some((e) => e.type === 'hardlink' && climb.test(e.linkname)),
      'hardlink-absolute': (h) =>
        h.some((e) => e.type === 'hardlink' && e.linkname === `${victim}/secret`),
      'hardlink-through-symlink': (h) =>
        h.some((e) => e.type === 'hardlink' && e.linkname === 's/secret'),
      'whiteout-escape': (h) => h.some((e) => climb.test(e.path) && e.path.endsWith('/.wh.secret')),
      'whiteout-through-symlink': (h) => h.some((e) => e.path === 's/.wh.secret'),
      'opaque-through-symlink': (h) => h.some((e) => e.path === 's/.wh..wh..opq'),
      'whiteout-dotdot': (h) => h.some((e) => e.path === '.wh...'),
    };
    assert.deepEqual(Object.keys(expect).sort(), [...HOSTILE_KINDS].sort());
    for (const kind of HOSTILE_KINDS) {
      const layers = hostileLayers(kind, { victim });
      assert.equal(layers.length, kind === 'symlink-lower-layer' ? 2 : 1, kind);
      const img = await buildImage({ layers });
      const headers = await entriesOf(img.layers[img.layers.length - 1]!.tar);
      assert.ok(expect[kind]!(headers), kind);
    }
  });
});
