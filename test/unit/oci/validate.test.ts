import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  MediaType,
  checkImageManifest,
  digestHex,
  isDigest,
  parseDigest,
  parseImageConfig,
  parseManifestDocument,
  sha256Digest,
  sniffCompression,
  type ImageManifest,
} from '../../../src/oci/index.js';
import { isChrunError } from '../../../src/util/index.js';

const d = (c: string): string => `sha256:${c.repeat(64)}`;
const manifest = {
  schemaVersion: 2,
  mediaType: MediaType.dockerManifest,
  config: { mediaType: MediaType.dockerConfig, digest: d('a'), size: 10 },
  layers: [{ mediaType: MediaType.dockerLayerGzip, digest: d('b'), size: 20 }],
};

test('digests: sha256 and sha512 only, lowercase hex of the right length', () => {
  assert.equal(parseDigest(d('a')), d('a'));
  assert.equal(digestHex(parseDigest(d('a'))), 'a'.repeat(64));
  assert.ok(isDigest(`sha512:${'0'.repeat(128)}`));
  for (const bad of [
    'sha256:abc',
    `sha256:${'A'.repeat(64)}`,
    `md5:${'0'.repeat(32)}`,
    'nocolon',
    `sha256:${'g'.repeat(64)}`,
  ]) {
    assert.equal(isDigest(bad), false, bad);
    assert.throws(() => parseDigest(bad), bad);
  }
  assert.equal(
    sha256Digest('foo'),
    'sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae',
  );
});

test('manifest kinds are told apart by mediaType, Content-Type or shape', () => {
  const m = parseManifestDocument(JSON.stringify(manifest));
  assert.equal(m.kind, 'manifest');
  assert.equal(m.mediaType, MediaType.dockerManifest);
  const { mediaType: _, ...bare } = manifest;
  const byHeader = parseManifestDocument(
    JSON.stringify(bare),
    `${MediaType.ociManifest}; charset=utf-8`,
  );
  assert.equal(byHeader.mediaType, MediaType.ociManifest);
  const byShape = parseManifestDocument(JSON.stringify(bare), 'application/json');
  assert.equal(byShape.kind, 'manifest');
  const index = parseManifestDocument(
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: MediaType.ociManifest,
          digest: d('c'),
          size: 3,
          platform: { os: 'linux', architecture: 'amd64' },
        },
      ],
    }),
  );
  assert.equal(index.kind, 'index');
  assert.equal(index.mediaType, MediaType.ociIndex);
});

test('schema 1, unknown media types and malformed documents are refused clearly', () => {
  assert.throws(
    () => parseManifestDocument(JSON.stringify({ schemaVersion: 1, name: 'x', fsLayers: [] })),
    (e) => isChrunError(e, 'CHRUN_MANIFEST_UNSUPPORTED') && /schema 1/.test(e.message),
  );
  assert.throws(
    () => parseManifestDocument('{}', MediaType.dockerSchema1Signed),
    (e) => isChrunError(e, 'CHRUN_MANIFEST_UNSUPPORTED'),
  );
  assert.throws(
    () =>
      parseManifestDocument(
        JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.cncf.helm.chart' }),
      ),
    (e) =>
      isChrunError(e, 'CHRUN_MANIFEST_UNSUPPORTED') &&
      /"application\/vnd.cncf.helm.chart"/.test(e.message),
  );
  assert.throws(
    () => parseManifestDocument('{not json'),
    (e) => isChrunError(e, 'CHRUN_MANIFEST_INVALID'),
  );
  assert.throws(
    () =>
      parseManifestDocument(
        JSON.stringify({ ...manifest, layers: [{ ...manifest.layers[0], size: -1 }] }),
      ),
    (e) => isChrunError(e, 'CHRUN_MANIFEST_INVALID') && /layers\.0\.size/.test(e.message),
  );
  assert.throws(
    () =>
      parseManifestDocument(
        JSON.stringify({ ...manifest, config: { ...manifest.config, digest: 'sha256:1' } }),
      ),
    (e) => isChrunError(e, 'CHRUN_MANIFEST_INVALID') && /config\.digest/.test(e.message),
  );
});

test('image manifests must have a container config and unpackable layers', () => {
  checkImageManifest(manifest as ImageManifest);
  assert.throws(
    () =>
      checkImageManifest({
        ...manifest,
        config: { ...manifest.config, mediaType: 'application/vnd.cncf.helm.config.v1+json' },
      } as ImageManifest),
    (e) => isChrunError(e, 'CHRUN_MANIFEST_UNSUPPORTED') && /not a container image/.test(e.message),
  );
  assert.throws(
    () =>
      checkImageManifest({
        ...manifest,
        layers: [{ mediaType: 'application/x-foo', digest: d('b'), size: 1 }],
      } as ImageManifest),
    (e) => isChrunError(e, 'CHRUN_MANIFEST_UNSUPPORTED') && /"application\/x-foo"/.test(e.message),
  );
});

test('image configs: diff_ids must match the layers', () => {
  const cfg = {
    architecture: 'amd64',
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: [d('e')] },
    config: { Cmd: ['sh'], Entrypoint: null },
  };
  const parsed = parseImageConfig(JSON.stringify(cfg), 1);
  assert.deepEqual(parsed.config?.Cmd, ['sh']);
  assert.throws(() => parseImageConfig(JSON.stringify(cfg), 2), /1 diff_ids for 2 layers/);
  assert.throws(
    () => parseImageConfig(JSON.stringify({ ...cfg, rootfs: { type: 'x', diff_ids: [] } })),
    /rootfs\.type/,
  );
});

test('compression is sniffed from magic numbers', () => {
  assert.equal(sniffCompression(Buffer.from([0x1f, 0x8b, 8])), 'gzip');
  assert.equal(sniffCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd])), 'zstd');
  assert.equal(sniffCompression(Buffer.from('hello')), 'none');
});
