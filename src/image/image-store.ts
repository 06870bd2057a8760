import type { Readable } from 'node:stream';
import {
  ContentStore,
  ImageRecords,
  Lease,
  collectGarbage,
  type GcResult,
  type ImageRecord,
} from '../content/index.js';
import {
  isDigest,
  layerCompression,
  looksLikeImageId,
  parseReference,
  referenceName,
  formatReference,
  type Descriptor,
  type Digest,
  type ImageConfig,
  type ImageManifest,
  type ImageReference,
  type LayerCompression,
} from '../oci/index.js';
import { ChrunError, isChrunError } from '../util/index.js';

export interface ImageStorePaths {
  /** Blobs. */
  content: string;
  /** The image index. */
  images: string;
  /** Temp files on the same file system. */
  tmp: string;
}

/** One layer of an image, in order from the base up. */
export interface ImageLayer {
  descriptor: Descriptor;
  /** The digest of the uncompressed tar (from the config's rootfs.diff_ids). */
  diffId: Digest;
  compression: LayerCompression;
}

/**
 * What an unpacker (the snapshotter) gets for an image whose blobs are all in the store
 * and verified. It runs after the blobs are stored and before the image's name is
 * registered, so a name never points at an image that is not ready to run.
 */
export interface UnpackRequest {
  target: Descriptor;
  manifest: ImageManifest;
  config: ImageConfig;
  /** Layers from the base up, with their diffIDs. */
  layers: ImageLayer[];
  /** A stream of a stored blob (a compressed layer as stored). */
  openBlob(digest: Digest): Readable;
  /** The file of a stored blob. */
  blobPath(digest: Digest): string;
  /** The file of a blob once it is stored (pull: once its download is verified). */
  storedBlob(digest: Digest): Promise<string>;
  signal?: AbortSignal;
}

export type Unpacker = (request: UnpackRequest) => Promise<void>;

/**
 * The image side of the store: the content store (blobs) and the image index (names),
 * with Docker's ways of naming an image: a reference ("redis", "redis:7",
 * "redis@sha256:..."), a full or short image ID ("sha256:abc...", "abc1").
 */
export class ImageStore {
  readonly content: ContentStore;
  readonly records: ImageRecords;
  private ready: Promise<void> | undefined;

  constructor(paths: ImageStorePaths) {
    this.content = new ContentStore({ root: paths.content, tmp: paths.tmp });
    this.records = new ImageRecords(paths.images, this.content);
  }

  init(): Promise<void> {
    this.ready ??= (async () => {
      await this.content.init();
      await this.records.init();
    })();
    return this.ready;
  }

  lease(): Promise<Lease> {
    return Lease.create(this.content);
  }

  async list(): Promise<ImageRecord[]> {
    await this.init();
    return this.records.list();
  }

  /** Finds the image a user means; throws CHRUN_IMAGE_NOT_FOUND naming it otherwise. */
  async resolve(name: string): Promise<ImageRecord> {
    const found = await this.find(name);
    if (found === undefined) {
      throw new ChrunError('CHRUN_IMAGE_NOT_FOUND', `no such image: ${name}`, {
        fields: { reference: name },
      });
    }
    return found;
  }

  /** Like resolve(), but undefined when there is no such image. */
  async find(name: string): Promise<ImageRecord | undefined> {
    const records = await this.list();
    return findRecord(records, name);
  }

  async manifest(record: ImageRecord): Promise<ImageManifest> {
    return JSON.parse(
      (await this.content.readBlob(record.target.digest)).toString('utf8'),
    ) as ImageManifest;
  }

  async config(record: ImageRecord, manifest?: ImageManifest): Promise<ImageConfig> {
    const m = manifest ?? (await this.manifest(record));
    return JSON.parse(
      (await this.content.readBlob(m.config.digest)).toString('utf8'),
    ) as ImageConfig;
  }

  /** The layers of an image from the base up, with diffIDs (what the snapshotter needs). */
  async layers(record: ImageRecord): Promise<ImageLayer[]> {
    const manifest = await this.manifest(record);
    return imageLayers(manifest, await this.config(record, manifest));
  }

  /** Everything the unpacker needs for an image of this store. */
  async unpackRequest(record: ImageRecord, signal?: AbortSignal): Promise<UnpackRequest> {
    const manifest = await this.manifest(record);
    const config = await this.config(record, manifest);
    return this.requestFor(record.target, manifest, config, signal);
  }

  requestFor(
    target: Descriptor,
    manifest: ImageManifest,
    config: ImageConfig,
    signal?: AbortSignal,
  ): UnpackRequest {
    return {
      target,
      manifest,
      config,
      layers: imageLayers(manifest, config),
      openBlob: (d) => this.content.openBlob(d),
      blobPath: (d) => this.content.blobPath(d),
      storedBlob: (d) => Promise.resolve(this.content.blobPath(d)),
      ...(signal === undefined ? {} : { signal }),
    };
  }

  /** Removes unreferenced blobs (and, with `ingests`, partial downloads of dead pulls). */
  async gc(options: { ingests?: boolean } = {}): Promise<GcResult> {
    await this.init();
    return collectGarbage(this.content, this.records, options);
  }
}

/** Pairs a manifest's layers with the config's diffIDs. */
export function imageLayers(manifest: ImageManifest, config: ImageConfig): ImageLayer[] {
  return manifest.layers.map((descriptor, i) => ({
    descriptor,
    diffId: config.rootfs.diff_ids[i]!,
    compression: layerCompression(descriptor.mediaType) ?? 'none',
  }));
}

/** Docker's image lookup: a reference first, then an image ID or unique ID prefix. */
export function findRecord(records: readonly ImageRecord[], name: string): ImageRecord | undefined {
  let ref: ImageReference | undefined;
  try {
    ref = parseReference(name);
  } catch (err) {
    if (!isChrunError(err, 'CHRUN_INVALID_REFERENCE') || !/^(sha256:)?[a-f0-9]+$/.test(name)) {
      throw err;
    }
  }
  if (ref !== undefined) {
    if (ref.digest !== undefined) {
      const repo = referenceName(ref);
      const byDigest = records.find(
        (r) =>
          r.digests.includes(`${repo}@${ref.digest}`) ||
          ((r.target.digest === ref.digest || r.index?.digest === ref.digest) &&
            [...r.tags, ...r.digests].some(
              (n) => n.startsWith(`${repo}:`) || n.startsWith(`${repo}@`),
            )),
      );
      if (byDigest !== undefined) return byDigest;
    } else {
      const full = formatReference(ref);
      const byTag = records.find((r) => r.tags.includes(full));
      if (byTag !== undefined) return byTag;
    }
  }
  // "sha256:ab12" as well as "ab12" (docker accepts both for a short ID).
  const bare = /^sha256:[a-f0-9]{1,63}$/.test(name) ? name.slice(7) : name;
  if (!looksLikeImageId(bare)) return undefined;
  const hex = isDigest(bare) ? bare.slice(bare.indexOf(':') + 1) : bare;
  const full = isDigest(bare) ? bare : undefined;
  const matches = records.filter((r) =>
    full !== undefined ? r.id === full || r.target.digest === full : r.id.slice(7).startsWith(hex),
  );
  const ids = new Set(matches.map((r) => r.id));
  if (ids.size > 1) {
    throw new ChrunError(
      'CHRUN_INVALID_REFERENCE',
      `image ID prefix "${name}" is ambiguous (${ids.size} images)`,
      {
        fields: { reference: name },
      },
    );
  }
  return matches[0];
}
