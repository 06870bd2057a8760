import type { ImageRecord } from '../content/index.js';
import { familiarString, parseReference, referenceName, type Digest } from '../oci/index.js';
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

/**
 * Docker's `rmi` for one name: a tag of an image with other tags is only untagged; the
 * last tag (or the image ID) deletes the image. Refused while a container uses the image,
 * or when an ID names an image of several repositories, unless forced. Blobs no longer
 * referenced are collected afterwards.
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
    let byName: string | undefined;
    try {
      const ref = parseReference(name);
      const canonical = `${ref.domain}/${ref.path}${ref.digest !== undefined ? `@${ref.digest}` : `:${ref.tag!}`}`;
      if (record.tags.includes(canonical) || record.digests.includes(canonical)) byName = canonical;
    } catch (err) {
      if (!isChrunError(err, 'CHRUN_INVALID_REFERENCE')) throw err;
    }
    const using = await users(record);
    if (
      byName !== undefined &&
      byName.includes(':') &&
      !byName.includes('@') &&
      record.tags.length > 1
    ) {
      // Just one of several tags.
      record.tags = record.tags.filter((t) => t !== byName);
      out.untagged.push(short(byName));
      return out;
    }
    if (byName === undefined) {
      const repos = new Set([...record.tags, ...record.digests].map(repoOf));
      if (repos.size > 1 && !force) {
        throw new ChrunError(
          'CHRUN_IMAGE_IN_USE',
          `unable to delete ${name} (must be forced): image is referenced in multiple repositories`,
        );
      }
    }
    if (using.length > 0 && !force) {
      throw new ChrunError(
        'CHRUN_IMAGE_IN_USE',
        `unable to remove ${name}: container ${using[0]!} is using it (use -f to force)`,
        { fields: { reference: name, containers: using } },
      );
    }
    out.untagged.push(...record.tags.map(short), ...record.digests.map(short));
    record.tags = [];
    record.digests = [];
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
