import type { ImageRecord } from '../content/index.js';
import {
  familiarString,
  formatReference,
  parseReference,
  referenceName,
  type Digest,
} from '../oci/index.js';
import { ChrunError, isChrunError } from '../util/index.js';
import { findRecord, type ImageStore } from './image-store.js';

/** Which containers use an image (the runtime answers; the engine passes it in). */
export type ImageUsers = (record: ImageRecord) => Promise<string[]>;

export interface RemoveOptions {
  /** Remove even when the image has several names or containers use it. */
  force?: boolean;
  /** Containers using an image; none when not given. */
  users?: ImageUsers;
}

export interface RemoveResult {
  /** Names removed, in Docker's short form ("redis:7"). */
  untagged: string[];
  /** Image IDs whose image was deleted. */
  deleted: Digest[];
}

function repoOf(name: string): string {
  return referenceName(parseReference(name, { defaultTag: false }));
}

function short(name: string): string {
  return familiarString(parseReference(name, { defaultTag: false }));
}

/** The canonical name (tag or digest reference) of `record` that `name` spells, if any. */
function canonicalName(record: ImageRecord, name: string): string | undefined {
  let ref;
  try {
    ref = parseReference(name);
  } catch (err) {
    if (isChrunError(err, 'CHRUN_INVALID_REFERENCE')) return undefined;
    throw err;
  }
  const canonical =
    ref.digest !== undefined ? `${referenceName(ref)}@${ref.digest}` : formatReference(ref);
  return record.tags.includes(canonical) || record.digests.includes(canonical)
    ? canonical
    : undefined;
}

/**
 * Docker's isSingleReference: all names are of one repository and at most one is a tag
 * (a tag and its repository's digests). False for an image without names.
 */
function isSingleReference(record: ImageRecord): boolean {
  const names = [...record.tags, ...record.digests];
  if (names.length <= 1) return names.length === 1;
  return record.tags.length <= 1 && new Set(names.map(repoOf)).size === 1;
}

function shortId(id: Digest): string {
  return id.slice(id.indexOf(':') + 1, id.indexOf(':') + 13);
}

/**
 * Docker's `rmi` for one name (daemon/images/image_delete.go):
 * - a name (tag or digest reference) is untagged; with it go the digest references of its
 *   repository once no tag of that repository is left; the image is deleted with its last
 *   name. Refused when it is the image's only name and a container uses the image.
 * - an image ID (full or a unique prefix; an ambiguous prefix is refused) deletes the image
 *   with all its names when they are one tag and its repository's digests; an image with
 *   several tags or repositories needs `force`, which removes every name.
 * An image a container uses is refused without `force`; forced, it loses its names but
 * stays (the container still needs its layers). Blobs no longer referenced are collected.
 */
export async function removeImage(
  store: ImageStore,
  name: string,
  options: RemoveOptions = {},
): Promise<RemoveResult> {
  await store.init();
  const users = options.users ?? (() => Promise.resolve([]));
  const force = options.force ?? false;
  const result = await store.records.update(async (images) => {
    const record = findRecord(images, name);
    if (record === undefined) {
      throw new ChrunError('CHRUN_IMAGE_NOT_FOUND', `no such image: ${name}`, {
        fields: { reference: name },
      });
    }
    const out: RemoveResult = { untagged: [], deleted: [] };
    const using = await users(record);
    const inUse = (what: string, must: string): ChrunError =>
      new ChrunError(
        'CHRUN_IMAGE_IN_USE',
        `unable to ${what} (must force) - container ${using[0]!} is using ${must}`,
        { fields: { reference: name, containers: using } },
      );
    const untag = (n: string): void => {
      record.tags = record.tags.filter((t) => t !== n);
      record.digests = record.digests.filter((d) => d !== n);
      out.untagged.push(short(n));
    };
    // A name the image has wins over an ID prefix that happens to spell it ("abc").
    const byName = canonicalName(record, name);
    if (byName !== undefined) {
      if (!force && using.length > 0 && isSingleReference(record)) {
        throw inUse(
          `remove repository reference "${name}"`,
          `its referenced image ${shortId(record.id)}`,
        );
      }
      untag(byName);
      const repo = repoOf(byName);
      if (!byName.includes('@') && !record.tags.some((t) => repoOf(t) === repo)) {
        for (const d of record.digests.filter((n) => repoOf(n) === repo)) untag(d);
      }
      if (record.tags.length + record.digests.length > 0) return out;
    } else {
      const names = [...record.tags, ...record.digests];
      if (names.length > 0 && !isSingleReference(record) && !force) {
        throw new ChrunError(
          'CHRUN_IMAGE_IN_USE',
          `unable to delete ${shortId(record.id)} (must be forced) - image is referenced in multiple repositories`,
          { fields: { reference: name } },
        );
      }
      if (using.length > 0 && !force) {
        throw inUse(`delete ${shortId(record.id)}`, 'it');
      }
      for (const n of names) untag(n);
    }
    if (using.length === 0) {
      images.splice(images.indexOf(record), 1);
      out.deleted.push(record.id);
    }
    return out;
  });
  if (result.deleted.length > 0) await store.gc();
  return result;
}

export interface PruneOptions {
  /** Every image no container uses, not only dangling (untagged) ones. */
  all?: boolean;
  users?: ImageUsers;
}

export interface PruneResult {
  deleted: ImageRecord[];
  /** Bytes freed in the content store. */
  reclaimed: number;
}

/** `image prune`: removes dangling images (or all unused, with `all`) and collects blobs. */
export async function pruneImages(
  store: ImageStore,
  options: PruneOptions = {},
): Promise<PruneResult> {
  await store.init();
  const users = options.users ?? (() => Promise.resolve([]));
  const deleted = await store.records.update(async (images) => {
    const out: ImageRecord[] = [];
    for (const r of [...images]) {
      if (!options.all && r.tags.length > 0) continue;
      if ((await users(r)).length > 0) continue;
      images.splice(images.indexOf(r), 1);
      out.push(r);
    }
    return out;
  });
  const gc = await store.gc({ ingests: true });
  return { deleted, reclaimed: gc.reclaimed };
}
