import type { Digest } from '../oci/index.js';
import type { BlobInfo, ContentStore } from './content-store.js';
import type { ImageRecords } from './image-records.js';
import { GC_LOCK, leasedDigests } from './lease.js';

export interface GcResult {
  /** Blobs removed. */
  removed: BlobInfo[];
  /** Bytes freed, ingest leftovers included. */
  reclaimed: number;
}

/** The digests a manifest blob references (its config and layers). */
function children(json: unknown): Digest[] {
  const out: Digest[] = [];
  if (typeof json !== 'object' || json === null) return out;
  const doc = json as { config?: unknown; layers?: unknown };
  const add = (d: unknown): void => {
    if (
      typeof d === 'object' &&
      d !== null &&
      typeof (d as { digest?: unknown }).digest === 'string'
    ) {
      out.push((d as { digest: Digest }).digest);
    }
  };
  add(doc.config);
  if (Array.isArray(doc.layers)) doc.layers.forEach(add);
  return out;
}

/**
 * Mark and sweep: every blob reachable from an image record or protected by a live lease
 * stays, the rest is deleted, and with `ingests` the files of writers that are gone. Runs under
 * the GC lock, so it never races a pull (see Lease).
 */
export async function collectGarbage(
  store: ContentStore,
  records: ImageRecords,
  options: { ingests?: boolean } = {},
): Promise<GcResult> {
  return store.withLock(GC_LOCK, async () => {
    const marked = new Set<Digest>(await leasedDigests(store));
    // Manifests already followed. Not `marked`: a manifest marked by a lease (a pull of an
    // image already here) still has to mark its config and layers.
    const followed = new Set<Digest>();
    for (const r of await records.list()) {
      if (r.index !== undefined) marked.add(r.index.digest);
      marked.add(r.target.digest);
      if (followed.has(r.target.digest)) continue;
      followed.add(r.target.digest);
      // The manifest names its config and layers; a missing or unreadable manifest marks
      // nothing more (the image is broken either way, and rmi can remove it).
      try {
        const json: unknown = JSON.parse((await store.readBlob(r.target.digest)).toString('utf8'));
        for (const c of children(json)) marked.add(c);
      } catch {
        continue;
      }
    }
    const removed: BlobInfo[] = [];
    let reclaimed = 0;
    for (const blob of await store.list()) {
      if (marked.has(blob.digest)) continue;
      await store.delete(blob.digest);
      removed.push(blob);
      reclaimed += blob.size;
    }
    // Partial downloads of killed pulls stay for a resume unless asked (image prune).
    if (options.ingests === true) reclaimed += await store.removeStaleIngests();
    return { removed, reclaimed };
  });
}
