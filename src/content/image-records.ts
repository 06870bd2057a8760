import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Descriptor, Digest, Platform } from '../oci/index.js';
import { ChrunError, errnoCode, writeFileAtomic } from '../util/index.js';
import { STORE_DIR_MODE, type ContentStore } from './content-store.js';

/** One image in the store: a platform manifest and the names it goes by. */
export interface ImageRecord {
  /** The image manifest (one platform). Records are keyed by its digest. */
  target: Descriptor;
  /** The image ID, as Docker shows it: the digest of the config blob. */
  id: Digest;
  /** Canonical tagged references: "docker.io/library/redis:7". */
  tags: string[];
  /** Canonical digest references, as the registry knows the image: "docker.io/library/redis@sha256:...". */
  digests: string[];
  /** The index the manifest was chosen from, when it came from a multi-platform index. */
  index?: Descriptor;
  platform: Platform;
  /** The config's `created`, when it has one. */
  created?: string;
  /** Bytes of the manifest, config and layers as stored. */
  size: number;
  /** When this record last changed. */
  updated: string;
}

interface IndexFile {
  schemaVersion: 1;
  images: ImageRecord[];
}

const INDEX_LOCK = 'images';

/**
 * The image index: which images the store holds and their names, one JSON file replaced
 * atomically (temp, fsync, rename) under an inter-process lock. A record is added only after
 * every blob it references is in the content store (and unpacked, once the snapshotter is
 * wired in), so a name is never visible for a half-pulled image.
 */
export class ImageRecords {
  private readonly file: string;

  constructor(
    private readonly dir: string,
    private readonly store: ContentStore,
  ) {
    this.file = path.join(dir, 'index.json');
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- synchronous inside, a promise outside
  async init(): Promise<void> {
    mkdirSync(this.dir, { recursive: true, mode: STORE_DIR_MODE });
  }

  /** All records, as last committed (read synchronously, as ContentStore.readBlob). */
  // eslint-disable-next-line @typescript-eslint/require-await -- synchronous inside, a promise outside
  async list(): Promise<ImageRecord[]> {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return [];
      throw err;
    }
    try {
      const doc = JSON.parse(text) as IndexFile;
      return Array.isArray(doc.images) ? doc.images : [];
    } catch (err) {
      throw new ChrunError('CHRUN_INTERNAL', `read image index ${this.file}: damaged`, {
        cause: err,
      });
    }
  }

  /**
   * Read-modify-write under the index lock. `fn` may change the array in place; it is
   * written back only when it changed. Returns what `fn` returns.
   */
  async update<T>(fn: (images: ImageRecord[]) => T | Promise<T>): Promise<T> {
    return this.store.withLock(INDEX_LOCK, async () => {
      const images = await this.list();
      const before = JSON.stringify(images);
      const result = await fn(images);
      const after = JSON.stringify(images);
      if (after !== before) {
        const doc: IndexFile = { schemaVersion: 1, images };
        await writeFileAtomic(this.file, `${JSON.stringify(doc, null, 1)}\n`, { tmpDir: this.dir });
      }
      return result;
    });
  }

  /**
   * Registers an image under `names` (tags like "repo:tag", digests like "repo@sha256:").
   * A name already on another image moves here; an image left without names stays, as
   * Docker's dangling `<none>` images do, until `image prune`.
   */
  async register(
    record: Omit<ImageRecord, 'tags' | 'digests' | 'updated'>,
    names: readonly string[],
  ): Promise<ImageRecord> {
    return this.update((images) => {
      let mine = images.find((r) => r.target.digest === record.target.digest);
      if (mine === undefined) {
        mine = { ...record, tags: [], digests: [], updated: new Date().toISOString() };
        images.push(mine);
      } else {
        Object.assign(mine, record);
      }
      assignNames(images, mine, names);
      return { ...mine, tags: [...mine.tags], digests: [...mine.digests] };
    });
  }
}

/** Puts `names` on `record`, taking them off any other record of `images`. */
export function assignNames(
  images: ImageRecord[],
  record: ImageRecord,
  names: readonly string[],
): void {
  const now = new Date().toISOString();
  for (const other of images) {
    if (other === record) continue;
    const tags = other.tags.filter((t) => !names.includes(t));
    const digests = other.digests.filter((d) => !names.includes(d));
    if (tags.length !== other.tags.length || digests.length !== other.digests.length) {
      other.tags = tags;
      other.digests = digests;
      other.updated = now;
    }
  }
  for (const name of names) {
    const list = name.includes('@') ? record.digests : record.tags;
    if (!list.includes(name)) {
      list.push(name);
      record.updated = now;
    }
  }
}
