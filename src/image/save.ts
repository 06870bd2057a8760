import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, open, realpath, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { ImageRecord } from '../content/index.js';
import {
  Annotation,
  MediaType,
  digestHex,
  familiarString,
  formatReference,
  parseReference,
  type Descriptor,
  type Digest,
} from '../oci/index.js';
import { TarWriter, decompress } from '../tar/index.js';
import { ChrunError, errnoCode, reasonOf, tempName } from '../util/index.js';
import { findRecord, type ImageStore } from './image-store.js';

export type ArchiveFormat = 'docker-archive' | 'oci-archive';

export interface SaveOptions {
  /** docker-archive (`docker save`'s, the default) or oci-archive. */
  format?: ArchiveFormat;
}

interface Selected {
  record: ImageRecord;
  /** Canonical tag names to record for it in the archive. */
  tags: string[];
}

/** Which images and names `save NAME...` means: a tag names itself, an ID all its tags. */
async function select(store: ImageStore, names: readonly string[]): Promise<Selected[]> {
  const records = await store.list();
  const out = new Map<Digest, Selected>();
  for (const name of names) {
    const record = findRecord(records, name);
    if (record === undefined)
      throw new ChrunError('CHRUN_IMAGE_NOT_FOUND', `no such image: ${name}`, {
        fields: { reference: name },
      });
    let tags = record.tags;
    try {
      const ref = parseReference(name);
      const canonical = formatReference(ref);
      if (ref.digest === undefined && record.tags.includes(canonical)) tags = [canonical];
    } catch {
      // an ID: all of the image's tags
    }
    const sel = out.get(record.target.digest) ?? { record, tags: [] };
    for (const t of tags) if (!sel.tags.includes(t)) sel.tags.push(t);
    out.set(record.target.digest, sel);
  }
  return [...out.values()];
}

const FILE_MODE = 0o644;

async function addBlob(
  tar: TarWriter,
  store: ImageStore,
  name: string,
  d: Digest,
  size: number,
): Promise<void> {
  await tar.add(
    { path: name, type: 'file', mode: FILE_MODE, size, mtime: 0 },
    store.content.openBlob(d),
  );
}

async function saveOci(tar: TarWriter, store: ImageStore, images: Selected[]): Promise<void> {
  const manifests: Descriptor[] = [];
  const blobs = new Map<Digest, number>();
  for (const { record, tags } of images) {
    const manifest = await store.manifest(record);
    for (const d of [record.target, manifest.config, ...manifest.layers])
      blobs.set(d.digest, d.size);
    const base = {
      mediaType: record.target.mediaType,
      digest: record.target.digest,
      size: record.target.size,
    };
    if (tags.length === 0) manifests.push(base);
    for (const t of tags) {
      const ref = parseReference(t);
      manifests.push({
        ...base,
        annotations: { [Annotation.containerdImageName]: t, [Annotation.refName]: ref.tag! },
      });
    }
  }
  await tar.add(
    { path: 'oci-layout', type: 'file', mode: FILE_MODE, mtime: 0 },
    Buffer.from('{"imageLayoutVersion":"1.0.0"}'),
  );
  const index = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests };
  await tar.add(
    { path: 'index.json', type: 'file', mode: FILE_MODE, mtime: 0 },
    Buffer.from(JSON.stringify(index)),
  );
  await tar.add({ path: 'blobs/', type: 'directory', mode: 0o755, mtime: 0 });
  await tar.add({ path: 'blobs/sha256/', type: 'directory', mode: 0o755, mtime: 0 });
  for (const [d, size] of blobs) await addBlob(tar, store, `blobs/${d.replace(':', '/')}`, d, size);
}

/** A layer as an uncompressed tar file: itself when stored uncompressed, else a temp copy. */
async function uncompressedLayer(
  store: ImageStore,
  d: Digest,
  compressed: boolean,
): Promise<{ file: string; temp: boolean }> {
  if (!compressed) return { file: store.content.blobPath(d), temp: false };
  const file = tempName(store.content.tmp, `layer-${digestHex(d).slice(0, 12)}`);
  const out = createWriteStream(file, { flags: 'wx' });
  try {
    for await (const chunk of decompress(store.content.openBlob(d))) {
      if (!out.write(chunk)) await once(out, 'drain');
    }
    out.end();
    await finished(out);
  } catch (err) {
    out.destroy();
    await unlink(file).catch(() => undefined);
    throw err;
  }
  return { file, temp: true };
}

async function saveDocker(tar: TarWriter, store: ImageStore, images: Selected[]): Promise<void> {
  const entries: { Config: string; RepoTags: string[]; Layers: string[] }[] = [];
  const repositories: Record<string, Record<string, string>> = {};
  const written = new Set<string>();
  for (const { record, tags } of images) {
    const manifest = await store.manifest(record);
    const config = await store.config(record, manifest);
    const configName = `${digestHex(manifest.config.digest)}.json`;
    if (!written.has(configName)) {
      written.add(configName);
      await addBlob(tar, store, configName, manifest.config.digest, manifest.config.size);
    }
    const layerNames: string[] = [];
    for (const [i, layer] of manifest.layers.entries()) {
      const diffId = config.rootfs.diff_ids[i]!;
      const name = `${digestHex(diffId)}.tar`;
      layerNames.push(name);
      if (written.has(name)) continue;
      written.add(name);
      const compressed = !(
        layer.mediaType === MediaType.dockerLayer ||
        layer.mediaType === MediaType.ociLayer ||
        layer.mediaType === MediaType.ociLayerNondistributable
      );
      const { file, temp } = await uncompressedLayer(store, layer.digest, compressed);
      try {
        const size = (await stat(file)).size;
        await tar.add(
          { path: name, type: 'file', mode: FILE_MODE, size, mtime: 0 },
          createReadStream(file, { highWaterMark: 1 << 20 }),
        );
      } finally {
        if (temp) await unlink(file).catch(() => undefined);
      }
    }
    const familiar = tags.map((t) => familiarString(parseReference(t)));
    entries.push({ Config: configName, RepoTags: familiar, Layers: layerNames });
    const top = layerNames.at(-1)?.replace(/\.tar$/, '');
    for (const t of tags) {
      const ref = parseReference(t);
      const repo = familiarString({ domain: ref.domain, path: ref.path });
      if (top !== undefined) (repositories[repo] ??= {})[ref.tag!] = top;
    }
  }
  await tar.add(
    { path: 'manifest.json', type: 'file', mode: FILE_MODE, mtime: 0 },
    Buffer.from(JSON.stringify(entries)),
  );
  await tar.add(
    { path: 'repositories', type: 'file', mode: FILE_MODE, mtime: 0 },
    Buffer.from(JSON.stringify(repositories)),
  );
}

/**
 * `save`: writes images to a tar archive, as docker-archive (docker save's format, layers
 * uncompressed as Docker writes them) or oci-archive (an OCI layout, blobs as stored, so
 * manifest digests are kept). A regular file is written under a temp name and renamed
 * when complete, so a failed save leaves no partial archive; a device or fifo is written
 * in place (see outputTarget).
 */
export async function save(
  store: ImageStore,
  names: readonly string[],
  output: string | Writable,
  options: SaveOptions = {},
): Promise<void> {
  await store.init();
  if (names.length === 0)
    throw new ChrunError('CHRUN_INVALID_ARGUMENT', 'save: name at least one image');
  const images = await select(store, names);
  const format = options.format ?? 'docker-archive';
  const write = async (sink: Writable): Promise<void> => {
    const tar = new TarWriter(sink);
    if (format === 'oci-archive') await saveOci(tar, store, images);
    else await saveDocker(tar, store, images);
    await tar.finish();
  };
  if (typeof output !== 'string') {
    await write(output);
    return;
  }
  const target = await outputTarget(output);
  if (target.direct) {
    // A device, a fifo, a socket, a dangling link: write into it, never replace it.
    const fh = await open(target.path, 'w').catch((err: unknown) => {
      throw outputError(output, err);
    });
    const sink = fh.createWriteStream();
    try {
      await write(sink);
      await finished(sink);
    } finally {
      sink.destroy();
    }
    return;
  }
  const tmp = tempName(path.dirname(target.path), path.basename(target.path));
  const fh = await open(tmp, 'wx', 0o644).catch((err: unknown) => {
    throw outputError(output, err);
  });
  const sink = fh.createWriteStream();
  try {
    await write(sink);
    await finished(sink);
    const sync = await open(tmp, 'r');
    await sync.sync();
    await sync.close();
    await rename(tmp, target.path);
  } catch (err) {
    sink.destroy();
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

/**
 * Where `save -o FILE` writes. A missing or regular file (symlinks followed) is written
 * under a temp name next to it and renamed over it when complete; anything else (a device
 * such as /dev/null, a fifo, a dangling symlink) is opened and written directly, so it is
 * never replaced by a regular file. A directory is refused.
 */
async function outputTarget(output: string): Promise<{ path: string; direct: boolean }> {
  let real: string;
  try {
    real = await realpath(output);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw outputError(output, err);
    const link = await lstat(output).catch(() => undefined);
    // A dangling symlink: open(2) creates its target, as docker's would.
    if (link?.isSymbolicLink() === true) return { path: output, direct: true };
    const dir = await realpath(path.dirname(path.resolve(output))).catch((e: unknown) => {
      throw outputError(output, e);
    });
    return { path: path.join(dir, path.basename(output)), direct: false };
  }
  const st = await stat(real);
  if (st.isDirectory()) {
    throw new ChrunError('CHRUN_INVALID_ARGUMENT', `save ${output}: is a directory`, {
      fields: { path: output },
    });
  }
  return { path: real, direct: !st.isFile() };
}

function outputError(output: string, err: unknown): ChrunError {
  return new ChrunError('CHRUN_INVALID_ARGUMENT', `save ${output}: ${reasonOf(err)}`, {
    cause: err,
    fields: { path: output },
  });
}
