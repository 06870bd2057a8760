import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { TestContext } from 'node:test';
import { compress, packTar, type Compression } from '../../src/tar/index.js';
import type { LeakCheckOptions } from './leak-check.js';
import {
  startRegistry,
  type Registry,
  type RegistryOptions,
  type SeedOptions,
} from './registry.js';
import { tempDir } from './temp.js';

/**
 * Leak checks for the image tests: nothing left in the temp dir by the registry or us.
 * (Only our own prefixes: unit tests of other areas may run meanwhile, outside the lock.)
 */
export const leaks: LeakCheckOptions = {
  files: [{ path: os.tmpdir(), match: /^chrun-(img|registry)-/ }],
};

async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of it) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

const run = promisify(execFile);

const sha = (b: Uint8Array): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

const LAYER_TYPE: Record<Compression, string> = {
  none: 'application/vnd.oci.image.layer.v1.tar',
  gzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  zstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
};

export interface FixtureImage {
  /** "oci:DIR:TAG" for skopeo. */
  source: string;
  dir: string;
  manifestDigest: string;
  layers: { digest: string; size: number; diffId: string }[];
}

export interface FixtureSpec {
  /** One layer per entry: its compression and the size of its one random file. */
  layers?: { compression: Compression; bytes: number }[];
  platform?: { os: string; architecture: string; variant?: string };
  cmd?: string[];
}

async function putBlob(dir: string, data: Buffer): Promise<{ digest: string; size: number }> {
  const digest = sha(data);
  await writeFile(path.join(dir, 'blobs', 'sha256', digest.slice(7)), data);
  return { digest, size: data.length };
}

/** Writes one image's blobs (layers of random bytes, config, manifest) into an OCI layout dir. */
async function writeImageBlobs(
  dir: string,
  spec: FixtureSpec,
): Promise<{ manifest: { digest: string; size: number }; layers: FixtureImage['layers'] }> {
  await mkdir(path.join(dir, 'blobs', 'sha256'), { recursive: true });
  const layers: FixtureImage['layers'] = [];
  const descs: object[] = [];
  for (const [i, l] of (spec.layers ?? [{ compression: 'gzip', bytes: 100_000 }]).entries()) {
    const tar = await collect(
      packTar([
        { header: { path: `layer${i}/`, type: 'directory', mode: 0o755, mtime: 1_700_000_000 } },
        {
          header: { path: `layer${i}/data`, type: 'file', mode: 0o644, mtime: 1_700_000_000 },
          body: randomBytes(l.bytes),
        },
      ]),
    );
    const blob = await collect(compress(Readable.from([tar]), l.compression));
    const info = await putBlob(dir, blob);
    layers.push({ ...info, diffId: sha(tar) });
    descs.push({ mediaType: LAYER_TYPE[l.compression], ...info });
  }
  const platform = spec.platform ?? { os: 'linux', architecture: 'amd64' };
  const config = Buffer.from(
    JSON.stringify({
      created: '2024-01-02T03:04:05Z',
      ...platform,
      config: { Cmd: spec.cmd ?? ['/bin/sh'], Env: ['PATH=/bin'] },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
      history: layers.map(() => ({ created: '2024-01-02T03:04:05Z', created_by: 'fixture' })),
    }),
  );
  const cfg = await putBlob(dir, config);
  const manifest = await putBlob(
    dir,
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...cfg },
        layers: descs,
      }),
    ),
  );
  return { manifest, layers };
}

async function writeIndex(dir: string, manifests: object[]): Promise<void> {
  await writeFile(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(
    path.join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests,
    }),
  );
}

/** An OCI layout with one image of random layers (what `skopeo copy oci:...` reads). */
export async function fixtureImage(
  dir: string,
  tag: string,
  spec: FixtureSpec = {},
): Promise<FixtureImage> {
  const { manifest, layers } = await writeImageBlobs(dir, spec);
  await writeIndex(dir, [
    {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      ...manifest,
      annotations: { 'org.opencontainers.image.ref.name': tag },
    },
  ]);
  return { source: `oci:${dir}:${tag}`, dir, manifestDigest: manifest.digest, layers };
}

/**
 * An OCI layout whose `tag` is a multi-platform index (`skopeo copy --all` pushes it whole).
 * Returns the manifest digest of each platform, keyed "os/arch[/variant]".
 */
export async function fixtureIndex(
  dir: string,
  tag: string,
  platforms: { os: string; architecture: string; variant?: string }[],
): Promise<{ source: string; digests: Map<string, string> }> {
  const entries: object[] = [];
  const digests = new Map<string, string>();
  for (const p of platforms) {
    const { manifest } = await writeImageBlobs(dir, {
      platform: p,
      layers: [{ compression: 'gzip', bytes: 20_000 }],
    });
    entries.push({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      ...manifest,
      platform: p,
    });
    digests.set(
      [p.os, p.architecture, ...(p.variant === undefined ? [] : [p.variant])].join('/'),
      manifest.digest,
    );
  }
  const index = await putBlob(
    dir,
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: entries,
      }),
    ),
  );
  await writeIndex(dir, [
    {
      mediaType: 'application/vnd.oci.image.index.v1+json',
      ...index,
      annotations: { 'org.opencontainers.image.ref.name': tag },
    },
  ]);
  return { source: `oci:${dir}:${tag}`, digests };
}

/**
 * skopeo with the registry helper's private auth file, for what its seed() does not do
 * (--all, --preserve-digests).
 */
export async function skopeo(reg: Registry, args: string[]): Promise<string> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    REGISTRY_AUTH_FILE: path.join(reg.dir, 'auth.json'),
  };
  delete env.NODE_EXTRA_CA_CERTS;
  const { stdout } = await run('skopeo', ['--insecure-policy', ...args], {
    env,
    maxBuffer: 64 << 20,
  });
  return stdout;
}

/** A registry for one test, stopped by t.after. */
export async function registryFor(
  t: TestContext,
  options: RegistryOptions = {},
): Promise<Registry> {
  const reg = await startRegistry(options);
  t.after(() => reg.stop());
  return reg;
}

/** A temp dir for one test, removed by t.after. */
export async function dirFor(t: TestContext, prefix = 'chrun-img-'): Promise<string> {
  const d = await tempDir(prefix);
  t.after(d.cleanup);
  return d.path;
}

/**
 * A registry and a temp dir for one test (both gone after it), with a fixture image made in
 * DIR/layout and pushed as `name`: the set-up most registry tests start from. `digest` is the
 * pushed manifest's digest.
 */
export async function seededImage(
  t: TestContext,
  name: string,
  opts: { spec?: FixtureSpec; registry?: RegistryOptions; seed?: SeedOptions } = {},
): Promise<{ reg: Registry; dir: string; img: FixtureImage; digest: string }> {
  const reg = await registryFor(t, opts.registry);
  const dir = await dirFor(t);
  const img = await fixtureImage(path.join(dir, 'layout'), 'v1', opts.spec);
  const digest = await reg.seed(img.source, name, opts.seed);
  return { reg, dir, img, digest };
}
