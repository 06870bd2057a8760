// A multi-layer image of real files for the pull and load benchmarks: gzip layers made by
// GNU tar from directories of this machine plus one incompressible layer, > 100 MB of
// blobs, written as an OCI layout that skopeo pushes to a loopback registry.
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const SOURCES = ['usr/lib/gcc', 'usr/lib/python3.11', 'usr/libexec'];

function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file)
      .on('data', (c) => h.update(c))
      .on('end', () => resolve(`sha256:${h.digest('hex')}`))
      .on('error', reject);
  });
}

function gunzipDigest(file: string): string {
  const r = spawnSync('sh', ['-c', 'gzip -dc "$1" | sha256sum', 'sh', file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`gzip -dc ${file} failed`);
  return `sha256:${r.stdout.split(' ')[0]!}`;
}

export interface BenchImage {
  /** The OCI layout directory (tag "bench"). */
  layout: string;
  /** Bytes of all blobs (what a pull downloads). */
  bytes: number;
  layers: number;
}

/** Builds the image in `dir` (once: it is reused when present). */
export async function benchImage(dir: string): Promise<BenchImage> {
  const layout = path.join(dir, 'layout');
  const blobs = path.join(layout, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const layers: { digest: string; size: number; diffId: string }[] = [];
  const files: string[] = [];
  for (const [i, src] of SOURCES.entries()) {
    const file = path.join(dir, `layer${i}.tar.gz`);
    const r = spawnSync('tar', ['--numeric-owner', '-czf', file, '-C', '/', src], {
      stdio: 'inherit',
    });
    if (r.status !== 0) throw new Error(`tar of /${src} failed`);
    files.push(file);
  }
  // Incompressible bytes: what a layer of already-compressed files looks like.
  const rand = path.join(dir, 'random');
  mkdirSync(rand, { recursive: true });
  writeFileSync(path.join(rand, 'blob'), randomBytes(40 << 20));
  const randTar = path.join(dir, `layer${SOURCES.length}.tar.gz`);
  if (
    spawnSync('tar', ['--numeric-owner', '-czf', randTar, '-C', dir, 'random'], {
      stdio: 'inherit',
    }).status !== 0
  ) {
    throw new Error('tar of the random layer failed');
  }
  files.push(randTar);
  let bytes = 0;
  for (const file of files) {
    const digest = await sha256File(file);
    const size = statSync(file).size;
    renameSync(file, path.join(blobs, digest.slice(7)));
    layers.push({ digest, size, diffId: gunzipDigest(path.join(blobs, digest.slice(7))) });
    bytes += size;
  }
  const put = (obj: unknown): { digest: string; size: number } => {
    const data = Buffer.from(JSON.stringify(obj));
    const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
    writeFileSync(path.join(blobs, digest.slice(7)), data);
    bytes += data.length;
    return { digest, size: data.length };
  };
  const config = put({
    architecture: 'amd64',
    os: 'linux',
    config: { Cmd: ['/bin/sh'] },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
  });
  const manifest = put({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
    layers: layers.map((l) => ({
      mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
      digest: l.digest,
      size: l.size,
    })),
  });
  writeFileSync(path.join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(
    path.join(layout, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          ...manifest,
          annotations: { 'org.opencontainers.image.ref.name': 'bench' },
        },
      ],
    }),
  );
  return { layout, bytes, layers: layers.length };
}
