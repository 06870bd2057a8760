import { createHash, randomBytes } from 'node:crypto';
import { appendFile, mkdir, readFile, readdir, unlink } from 'node:fs/promises';
import path from 'node:path';
import { isDigest, type Digest } from '../oci/index.js';
import { STORE_DIR_MODE, type BlobInfo, type ContentStore } from './content-store.js';
import type { Lock } from './lock.js';

/** The store-wide lock garbage collection runs under. */
export const GC_LOCK = 'gc';

/**
 * A lease keeps blobs of an operation in progress (a pull, a load) safe from garbage
 * collection until the image is registered, like containerd's leases. The lease file lists
 * the protected digests; the lease's own lock shows that its holder is alive, so the lease
 * of a killed process is recognized and dropped by the next collection.
 *
 * protect() and release() take the GC lock briefly: a digest is either seen by a running
 * collection or added after it finished; and since an image is registered before its lease
 * is released, a collection always sees the blobs of an image through one or the other.
 */
export class Lease {
  private constructor(
    private readonly store: ContentStore,
    readonly id: string,
    private readonly file: string,
    private readonly alive: Lock,
  ) {}

  static async create(store: ContentStore): Promise<Lease> {
    const id = `${process.pid}-${randomBytes(6).toString('hex')}`;
    const dir = leaseDir(store);
    await mkdir(dir, { recursive: true, mode: STORE_DIR_MODE });
    const alive = await store.lock(`lease-${id}`);
    const file = path.join(dir, id);
    await appendFile(file, '');
    return new Lease(store, id, file, alive);
  }

  /** Protects digests from collection. Call before checking whether a blob is present. */
  async protect(digests: readonly Digest[]): Promise<void> {
    if (digests.length === 0) return;
    await this.store.withLock(GC_LOCK, () =>
      appendFile(this.file, digests.map((d) => `${d}\n`).join('')),
    );
  }

  /**
   * Writes a whole in-memory blob (a manifest or config made here) protected from the start:
   * the digest is leased before the blob exists, so no collection can take it between the
   * write and the registration of its image.
   */
  async writeBlob(data: Uint8Array): Promise<BlobInfo> {
    const digest: Digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
    await this.protect([digest]);
    return this.store.writeBlob(data, digest);
  }

  /** Ends the lease: its blobs are now protected by an image record, or garbage. */
  async release(): Promise<void> {
    await this.store.withLock(GC_LOCK, () => unlink(this.file).catch(() => undefined));
    await this.alive.release();
  }
}

function leaseDir(store: ContentStore): string {
  return path.join(store.root, 'leases');
}

/**
 * The digests protected by live leases. Leases whose holder is gone are deleted. Call only
 * while holding the GC lock.
 */
export async function leasedDigests(store: ContentStore): Promise<Set<Digest>> {
  const out = new Set<Digest>();
  const dir = leaseDir(store);
  for (const id of await readdir(dir).catch(() => [] as string[])) {
    const file = path.join(dir, id);
    const probe = await store.tryLock(`lease-${id}`);
    if (probe !== undefined) {
      // Nobody holds the lease lock: its process is gone.
      await unlink(file).catch(() => undefined);
      await probe.release();
      continue;
    }
    const text = await readFile(file, 'utf8').catch(() => '');
    for (const line of text.split('\n')) if (isDigest(line)) out.add(line);
  }
  return out;
}
