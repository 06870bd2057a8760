import type { ImageRecord, Lease } from '../content/index.js';
import {
  Annotation,
  MediaType,
  checkImageManifest,
  hostPlatform,
  isDigest,
  parseDockerArchiveManifest,
  parseImageConfig,
  parseManifestDocument,
  parseReference,
  referenceName,
  selectManifest,
  type Descriptor,
  type Digest,
  type ImageConfig,
  type ImageManifest,
  type Platform,
} from '../oci/index.js';
import { ChrunError, isChrunError } from '../util/index.js';
import { archiveMembers, memberPath } from './archive-entries.js';
import { blobCompression, diffIdOf, dockerLayerType } from './diff-id.js';
import type { ImageStore, Unpacker } from './image-store.js';
import { register } from './pull.js';

export interface LoadOptions {
  /** The platform to take from a multi-platform OCI index (default: this host). */
  platform?: Platform;
  unpack?: Unpacker;
  signal?: AbortSignal;
}

export interface LoadedImage {
  record: ImageRecord;
  /** Canonical names given to the image (none for an untagged image). */
  names: string[];
}

interface Stored {
  digest: Digest;
  size: number;
}

/** The members of the archive, ingested: path -> blob, symlinks resolved. */
class ArchiveIndex {
  readonly files = new Map<string, Stored>();
  readonly links = new Map<string, string>();

  get(p: string): Stored | undefined {
    let cur = memberPath(p);
    for (let hops = 0; cur !== undefined && hops < 16; hops++) {
      const f = this.files.get(cur);
      if (f !== undefined) return f;
      const target = this.links.get(cur);
      if (target === undefined) return undefined;
      cur = target;
    }
    return undefined;
  }

  require(p: string, what: string): Stored {
    const f = this.get(p);
    if (f === undefined) {
      throw new ChrunError(
        'CHRUN_ARCHIVE_INVALID',
        `load: ${what} ${p} is missing from the archive`,
      );
    }
    return f;
  }
}

/**
 * `load`: imports images from a `docker save` archive (classic or Docker 25's combined
 * layout), an OCI archive, or an OCI layout directory; the tar may be gzip or zstd
 * compressed. Every member is ingested into the content store as it streams by (named
 * blobs are verified against their names), then the archive's manifests are interpreted.
 * Docker archives get a manifest built for them after each layer's diffID is checked
 * against the config. Images are registered only once everything verified.
 */
export async function load(
  store: ImageStore,
  input: string | AsyncIterable<Uint8Array>,
  options: LoadOptions = {},
): Promise<LoadedImage[]> {
  await store.init();
  const lease = await store.lease();
  try {
    const archive = await ingest(store, input, lease);
    const isOci =
      archive.get('index.json') !== undefined && archive.get('oci-layout') !== undefined;
    const isDocker = archive.get('manifest.json') !== undefined;
    if (!isOci && !isDocker) {
      throw new ChrunError(
        'CHRUN_ARCHIVE_INVALID',
        'load: not an image archive (no manifest.json, no oci-layout with index.json)',
      );
    }
    const loaded = isOci
      ? await loadOci(store, archive, options)
      : await loadDocker(store, archive, lease, options);
    if (loaded.length === 0)
      throw new ChrunError('CHRUN_ARCHIVE_INVALID', 'load: the archive holds no image');
    return loaded;
  } finally {
    await lease.release().catch(() => undefined);
    // Members that are not blobs of an image (manifest.json, ...) were stored too: collect them.
    await store.gc().catch(() => undefined);
  }
}

async function ingest(
  store: ImageStore,
  input: string | AsyncIterable<Uint8Array>,
  lease: Lease,
): Promise<ArchiveIndex> {
  const archive = new ArchiveIndex();
  for await (const m of archiveMembers(input)) {
    if (m.type === 'symlink' || m.type === 'hardlink') {
      const base = m.type === 'symlink' ? m.path.split('/').slice(0, -1).join('/') : '';
      const target = memberPath(
        m.linkname.startsWith('/')
          ? m.linkname
          : base === ''
            ? m.linkname
            : `${base}/${m.linkname}`,
      );
      if (target !== undefined) archive.links.set(m.path, target);
      continue;
    }
    if (m.type !== 'file') continue;
    const named = /^blobs\/([a-z0-9]+)\/([a-f0-9]+)$/.exec(m.path);
    const candidate = named === null ? '' : `${named[1]!}:${named[2]!}`;
    const expectedDigest = isDigest(candidate) ? candidate : undefined;
    try {
      const info = await store.content.writeStream(
        m.body,
        { ...(expectedDigest === undefined ? {} : { digest: expectedDigest }), size: m.size },
        {
          beforeCommit: (d) => lease.protect([d]),
        },
      );
      archive.files.set(m.path, info);
    } catch (err) {
      if (isChrunError(err, 'CHRUN_DIGEST_MISMATCH')) {
        throw new ChrunError('CHRUN_DIGEST_MISMATCH', `load: ${m.path} does not match its digest`, {
          cause: err,
          fields: err.fields,
        });
      }
      throw err;
    }
  }
  return archive;
}

async function readJson(store: ImageStore, blob: Stored): Promise<Buffer> {
  if (blob.size > 4 << 20)
    throw new ChrunError(
      'CHRUN_ARCHIVE_INVALID',
      `load: ${blob.digest} is too large for a manifest`,
    );
  return store.content.readBlob(blob.digest);
}

async function finish(
  store: ImageStore,
  target: Descriptor,
  manifest: ImageManifest,
  config: ImageConfig,
  names: string[],
  options: LoadOptions,
): Promise<LoadedImage> {
  if (options.unpack !== undefined)
    await options.unpack(store.requestFor(target, manifest, config, options.signal));
  const record = await register(store, target, manifest, config, undefined, names);
  return { record, names };
}

async function loadDocker(
  store: ImageStore,
  archive: ArchiveIndex,
  lease: Lease,
  options: LoadOptions,
): Promise<LoadedImage[]> {
  const entries = parseDockerArchiveManifest(
    await readJson(store, archive.require('manifest.json', 'file')),
  );
  const out: LoadedImage[] = [];
  for (const entry of entries) {
    const configBlob = archive.require(entry.Config, 'config');
    const config = parseImageConfig(
      await readJson(store, configBlob),
      entry.Layers.length,
      `config ${entry.Config}`,
    );
    const layers: Descriptor[] = [];
    for (const [i, p] of entry.Layers.entries()) {
      const blob = archive.require(p, 'layer');
      const compression = await blobCompression(store, blob.digest);
      const diffId = await diffIdOf(store, blob.digest, compression);
      if (diffId !== config.rootfs.diff_ids[i]) {
        throw new ChrunError(
          'CHRUN_DIGEST_MISMATCH',
          `load: layer ${p} has diffID ${diffId}, the config says ${config.rootfs.diff_ids[i] ?? 'nothing'}`,
          { fields: { digest: config.rootfs.diff_ids[i], actual: diffId } },
        );
      }
      layers.push({
        mediaType: dockerLayerType(compression),
        digest: blob.digest,
        size: blob.size,
      });
    }
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MediaType.dockerManifest,
      config: {
        mediaType: MediaType.dockerConfig,
        digest: configBlob.digest,
        size: configBlob.size,
      },
      layers,
    };
    const info = await lease.writeBlob(Buffer.from(JSON.stringify(manifest)));
    const names = (entry.RepoTags ?? []).map((t) => {
      const ref = parseReference(t);
      return `${referenceName(ref)}:${ref.tag ?? 'latest'}`;
    });
    out.push(
      await finish(
        store,
        { mediaType: MediaType.dockerManifest, ...info },
        manifest,
        config,
        names,
        options,
      ),
    );
  }
  return out;
}

/** The names an OCI index entry gives its image (containerd's and the OCI annotation). */
function ociNames(desc: Descriptor): string[] {
  const a = desc.annotations ?? {};
  const full = a[Annotation.containerdImageName];
  const refName = a[Annotation.refName];
  for (const candidate of [full, refName]) {
    if (candidate === undefined || candidate === '') continue;
    // A bare tag ("latest", "1.0") names no repository: such images load untagged.
    if (!candidate.includes('/') && !candidate.includes(':')) continue;
    try {
      const ref = parseReference(candidate);
      if (ref.tag !== undefined) return [`${referenceName(ref)}:${ref.tag}`];
    } catch (err) {
      if (!isChrunError(err, 'CHRUN_INVALID_REFERENCE')) throw err;
    }
  }
  return [];
}

async function loadOci(
  store: ImageStore,
  archive: ArchiveIndex,
  options: LoadOptions,
): Promise<LoadedImage[]> {
  const indexDoc = parseManifestDocument(
    await readJson(store, archive.require('index.json', 'file')),
    undefined,
    'index.json',
  );
  if (indexDoc.kind !== 'index')
    throw new ChrunError('CHRUN_ARCHIVE_INVALID', 'load: index.json is not an image index');
  const blob = (d: Descriptor, what: string): Stored => {
    const b = archive.require(`blobs/${d.digest.replace(':', '/')}`, what);
    if (b.size !== d.size) {
      throw new ChrunError(
        'CHRUN_SIZE_MISMATCH',
        `load: ${what} ${d.digest} is ${b.size} bytes, its descriptor says ${d.size}`,
      );
    }
    return b;
  };
  const byTarget = new Map<Digest, LoadedImage>();
  for (const entry of indexDoc.index.manifests) {
    let desc = entry;
    let doc = parseManifestDocument(
      await readJson(store, blob(desc, 'manifest')),
      desc.mediaType,
      `manifest ${desc.digest}`,
    );
    if (doc.kind === 'index') {
      desc = selectManifest(doc.index, options.platform ?? hostPlatform(), `index ${entry.digest}`);
      doc = parseManifestDocument(
        await readJson(store, blob(desc, 'manifest')),
        desc.mediaType,
        `manifest ${desc.digest}`,
      );
      if (doc.kind !== 'manifest')
        throw new ChrunError('CHRUN_MANIFEST_UNSUPPORTED', `load: nested index ${desc.digest}`);
    }
    const manifest = doc.manifest;
    checkImageManifest(manifest, `manifest ${desc.digest}`);
    blob(manifest.config, 'config');
    const config = parseImageConfig(
      await store.content.readBlob(manifest.config.digest),
      manifest.layers.length,
      `config ${manifest.config.digest}`,
    );
    for (const l of manifest.layers) blob(l, 'layer');
    const names = ociNames(entry);
    const target: Descriptor = { mediaType: doc.mediaType, digest: desc.digest, size: desc.size };
    const previous = byTarget.get(desc.digest);
    if (previous !== undefined && names.length === 0) continue;
    const loaded = await finish(store, target, manifest, config, names, options);
    byTarget.set(desc.digest, {
      record: loaded.record,
      names: [...(previous?.names ?? []), ...names],
    });
  }
  return [...byTarget.values()];
}
