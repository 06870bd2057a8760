import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { LayerBlob } from '../../src/snapshots/index.js';
import { compress, packTar, type Compression, type TarWriteEntry } from '../../src/tar/index.js';

export interface FixtureLayer {
  entries: TarWriteEntry[];
  compression?: Compression;
}

export interface WrittenImage {
  dir: string;
  tag: string;
  /** Each layer as snapshots.blobLayer wants it, reading from the layout. */
  layers: LayerBlob[];
}

async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of it) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

const sha = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

const MEDIA: Record<Compression, string> = {
  none: 'application/vnd.oci.image.layer.v1.tar',
  gzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  zstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
};

/** Writes a one-platform OCI image layout (what `umoci` and `skopeo oci:` read). */
export async function writeOciImage(
  dir: string,
  tag: string,
  layers: FixtureLayer[],
): Promise<WrittenImage> {
  const blobs = path.join(dir, 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  const put = async (data: Buffer) => {
    const digest = sha(data);
    await writeFile(path.join(blobs, digest.slice(7)), data);
    return { digest, size: data.length };
  };
  const descs: { mediaType: string; digest: string; size: number }[] = [];
  const diffIds: string[] = [];
  const out: LayerBlob[] = [];
  for (const l of layers) {
    const tar = await collect(packTar(l.entries));
    const compression = l.compression ?? 'gzip';
    const blob = await collect(
      compress(
        (async function* () {
          yield await Promise.resolve(tar);
        })(),
        compression,
      ),
    );
    const { digest, size } = await put(blob);
    const diffId = sha(tar);
    descs.push({ mediaType: MEDIA[compression], digest, size });
    diffIds.push(diffId);
    const file = path.join(blobs, digest.slice(7));
    out.push({ digest, size, diffId, open: () => createReadStream(file) });
  }
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Cmd: ['/bin/sh'] },
      rootfs: { type: 'layers', diff_ids: diffIds },
    }),
  );
  const cfg = await put(config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...cfg },
      layers: descs,
    }),
  );
  const man = await put(manifest);
  await writeFile(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(
    path.join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          ...man,
          annotations: { 'org.opencontainers.image.ref.name': tag },
        },
      ],
    }),
  );
  return { dir, tag, layers: out };
}

/** The layers of an image in an OCI layout written by anyone (skopeo included). */
export async function readOciImage(dir: string, tag: string): Promise<LayerBlob[]> {
  const { readFile } = await import('node:fs/promises');
  const blob = (d: string) => path.join(dir, 'blobs', 'sha256', d.slice(7));
  const index = JSON.parse(await readFile(path.join(dir, 'index.json'), 'utf8')) as {
    manifests: { digest: string; annotations?: Record<string, string> }[];
  };
  const desc = index.manifests.find(
    (m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag,
  );
  if (desc === undefined) throw new Error(`no ${tag} in ${dir}`);
  const manifest = JSON.parse(await readFile(blob(desc.digest), 'utf8')) as {
    config: { digest: string };
    layers: { digest: string; size: number }[];
  };
  const config = JSON.parse(await readFile(blob(manifest.config.digest), 'utf8')) as {
    rootfs: { diff_ids: string[] };
  };
  return manifest.layers.map((l, i) => ({
    digest: l.digest,
    size: l.size,
    diffId: config.rootfs.diff_ids[i]!,
    open: () => createReadStream(blob(l.digest)),
  }));
}
