// Writes built images as an OCI image layout (oci-layout, index.json, blobs/sha256/...) or an
// OCI archive (the same, as one tar), as skopeo and umoci read them (`oci:DIR:REF`,
// `oci-archive:FILE:REF`).
import { mkdir, writeFile } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  Annotation,
  MediaType,
  type Descriptor,
  type Digest,
  type ImageIndex,
} from '../../../src/oci/index.js';
import { packTar, type TarWriteEntry } from '../../../src/tar/index.js';
import { blobsOf, type Built } from './build.js';

/** One image (or index) of a layout and the name index.json gives it. */
export interface LayoutEntry {
  image: Built;
  /** org.opencontainers.image.ref.name ("latest", "v1"); none: only reachable by digest. */
  ref?: string;
}

export interface WrittenLayout {
  layoutDir: string;
  /** The index.json written. */
  index: ImageIndex;
  /** Every blob written, by digest. */
  blobs: Map<Digest, Buffer>;
}

const fixedMtime = 1704067200; // 2024-01-01, so archives are reproducible

function entriesOf(images: Built | readonly LayoutEntry[], ref: string): LayoutEntry[] {
  return 'kind' in images ? [{ image: images, ref }] : [...images];
}

/** The files of a layout: relative path -> bytes, in a stable order. */
function layoutFiles(
  images: Built | readonly LayoutEntry[],
  ref: string,
): { files: [string, Buffer][]; index: ImageIndex; blobs: Map<Digest, Buffer> } {
  const list = entriesOf(images, ref);
  const blobs = new Map<Digest, Buffer>();
  const manifests: Descriptor[] = [];
  for (const e of list) {
    for (const [d, b] of blobsOf(e.image)) blobs.set(d, b);
    const { platform: _platform, ...desc } = e.image.descriptor;
    manifests.push(
      e.ref === undefined ? desc : { ...desc, annotations: { [Annotation.refName]: e.ref } },
    );
  }
  const index: ImageIndex = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests };
  const files: [string, Buffer][] = [
    ['oci-layout', Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' }))],
    ['index.json', Buffer.from(JSON.stringify(index))],
    ...[...blobs.keys()]
      .sort()
      .map((d): [string, Buffer] => [`blobs/${d.replace(':', '/')}`, blobs.get(d)!]),
  ];
  return { files, index, blobs };
}

/**
 * Writes an OCI image layout into `dir` (created if needed): one image or index under `ref`
 * (default "latest"), or several entries, each with its own ref.
 */
export async function writeOciLayout(
  dir: string,
  images: Built | readonly LayoutEntry[],
  ref = 'latest',
): Promise<WrittenLayout> {
  const { files, index, blobs } = layoutFiles(images, ref);
  await mkdir(path.join(dir, 'blobs', 'sha256'), { recursive: true });
  for (const [rel, data] of files) await writeFile(path.join(dir, rel), data);
  return { layoutDir: dir, index, blobs };
}

/** Writes the same layout as one tar file (`oci-archive:FILE:REF`). Deterministic. */
export async function writeOciArchive(
  file: string,
  images: Built | readonly LayoutEntry[],
  ref = 'latest',
): Promise<{ archivePath: string; index: ImageIndex }> {
  const { files, index } = layoutFiles(images, ref);
  const entries: TarWriteEntry[] = [
    { header: { path: 'blobs/', type: 'directory', mtime: fixedMtime } },
    { header: { path: 'blobs/sha256/', type: 'directory', mtime: fixedMtime } },
    ...files.map(([rel, data]) => ({
      header: { path: rel, type: 'file' as const, mtime: fixedMtime },
      body: data,
    })),
  ];
  await pipeline(Readable.from(packTar(entries)), createWriteStream(file));
  return { archivePath: file, index };
}
