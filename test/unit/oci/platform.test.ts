import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  compatiblePlatforms,
  formatPlatform,
  hostPlatform,
  normalizePlatform,
  parsePlatform,
  platformMatches,
  selectManifest,
  type Descriptor,
  type ImageIndex,
  type Platform,
} from '../../../src/oci/index.js';
import { isChrunError } from '../../../src/util/index.js';

const P = (os: string, architecture: string, variant?: string): Platform => ({
  os,
  architecture,
  ...(variant === undefined ? {} : { variant }),
});

function entry(n: number, platform?: Platform): Descriptor {
  return {
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    digest: `sha256:${String(n).repeat(64).slice(0, 64)}`,
    size: 100 + n,
    ...(platform === undefined ? {} : { platform }),
  };
}

test('parse and normalize --platform values', () => {
  assert.deepEqual(parsePlatform('linux/amd64'), P('linux', 'amd64'));
  assert.deepEqual(parsePlatform('linux/x86_64'), P('linux', 'amd64'));
  assert.deepEqual(parsePlatform('linux/aarch64'), P('linux', 'arm64'));
  assert.deepEqual(parsePlatform('linux/arm64/v8'), P('linux', 'arm64'));
  assert.deepEqual(parsePlatform('linux/arm'), P('linux', 'arm', 'v7'));
  assert.deepEqual(parsePlatform('linux/armhf'), P('linux', 'arm', 'v7'));
  assert.deepEqual(parsePlatform('linux/armel'), P('linux', 'arm', 'v6'));
  assert.deepEqual(parsePlatform('Linux/AMD64/v1'), P('linux', 'amd64'));
  assert.deepEqual(parsePlatform('linux/i386'), P('linux', '386'));
  for (const bad of ['linux', 'linux/', '/amd64', 'a/b/c/d', 'linux/am d64']) {
    assert.throws(
      () => parsePlatform(bad),
      (e) => isChrunError(e, 'CHRUN_INVALID_ARGUMENT'),
      bad,
    );
  }
  assert.equal(formatPlatform(P('linux', 'arm', 'v7')), 'linux/arm/v7');
});

test('the host platform is a normalized linux platform', () => {
  const host = hostPlatform();
  assert.equal(host.os, 'linux');
  assert.deepEqual(host, normalizePlatform(host));
});

test('compatibility vectors follow containerd platforms.Only', () => {
  const fmt = (p: Platform): string[] => compatiblePlatforms(p).map(formatPlatform);
  assert.deepEqual(fmt(P('linux', 'amd64')), ['linux/amd64', 'linux/386']);
  assert.deepEqual(fmt(P('linux', 'amd64', 'v3')), [
    'linux/amd64/v3',
    'linux/amd64/v2',
    'linux/amd64',
    'linux/386',
  ]);
  assert.deepEqual(fmt(P('linux', 'arm', 'v7')), ['linux/arm/v7', 'linux/arm/v6', 'linux/arm/v5']);
  assert.deepEqual(fmt(P('linux', 'arm64')), [
    'linux/arm64',
    'linux/arm/v8',
    'linux/arm/v7',
    'linux/arm/v6',
    'linux/arm/v5',
  ]);
  assert.ok(platformMatches(P('linux', 'arm64'), P('linux', 'arm64', 'v8')));
  assert.ok(platformMatches(P('linux', 'arm64', 'v8.2'), P('linux', 'arm64', 'v8.1')));
  assert.ok(!platformMatches(P('linux', 'arm64', 'v8.1'), P('linux', 'arm64', 'v8.2')));
  assert.ok(!platformMatches(P('linux', 'arm', 'v6'), P('linux', 'arm', 'v7')));
  assert.ok(!platformMatches(P('linux', 'amd64'), P('windows', 'amd64')));
  assert.ok(!platformMatches(P('linux', '386'), P('linux', 'amd64')));
});

test('select the best manifest of an index', () => {
  const index: ImageIndex = {
    schemaVersion: 2,
    manifests: [
      entry(1, P('linux', '386')),
      entry(2, P('linux', 'arm', 'v6')),
      entry(3, P('linux', 'amd64')),
      entry(4, P('linux', 'arm', 'v7')),
      entry(5, P('linux', 'arm64', 'v8')),
      entry(6, P('unknown', 'unknown')),
      entry(7),
    ],
  };
  assert.equal(selectManifest(index, P('linux', 'amd64')).size, 103);
  assert.equal(selectManifest(index, P('linux', 'arm', 'v7')).size, 104);
  assert.equal(selectManifest(index, P('linux', 'arm', 'v6')).size, 102);
  assert.equal(selectManifest(index, P('linux', 'arm64')).size, 105);
  assert.equal(selectManifest(index, P('linux', 'aarch64', 'v8')).size, 105);
  // Only 386 offered: an amd64 host still runs it.
  assert.equal(
    selectManifest(
      { schemaVersion: 2, manifests: [entry(1, P('linux', '386'))] },
      P('linux', 'amd64'),
    ).size,
    101,
  );
  // Ties keep the first entry.
  const twice: ImageIndex = {
    schemaVersion: 2,
    manifests: [entry(8, P('linux', 'amd64')), entry(9, P('linux', 'amd64'))],
  };
  assert.equal(selectManifest(twice, P('linux', 'amd64')).size, 108);
});

test('no match lists the platforms offered (attestations left out)', () => {
  const index: ImageIndex = {
    schemaVersion: 2,
    manifests: [
      entry(1, P('linux', 'arm', 'v6')),
      entry(2, P('linux', 's390x')),
      entry(3, P('unknown', 'unknown')),
    ],
  };
  assert.throws(
    () => selectManifest(index, P('linux', 'amd64'), 'docker.io/library/x:1'),
    (err) =>
      isChrunError(err, 'CHRUN_PLATFORM_NOT_FOUND') &&
      err.message ===
        'no manifest for linux/amd64 in docker.io/library/x:1 (offered: linux/arm/v6, linux/s390x)',
  );
});
