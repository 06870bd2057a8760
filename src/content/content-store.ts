import { createHash, randomBytes } from 'node:crypto';
import { constants, createReadStream, mkdirSync, readFileSync, type ReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { digestAlgorithm, digestHex, isDigest, parseDigest, type Digest } from '../oci/index.js';
import { ChrunError, errnoCode, processExists, syncDir } from '../util/index.js';
import { IngestWriter, ingestError, type IngestProgress } from './ingest-writer.js';
import { acquireLock, lockScope, tryLock, withLock, type Lock, type LockOptions } from './lock.js';

export interface ContentStoreOptions {
  /** Where blobs live: ROOT/blobs/ALG/HEX. */
  root: string;
  /** Temporary files, on the same file system as `root` (for atomic renames). */
  tmp: string;
}

export interface BlobInfo {
  digest: Digest;
  size: number;
}

export interface WriterOptions extends LockOptions {
  onProgress?: (p: IngestProgress) => void;
}

/**
 * Mode of the store's directories: blobs, the image index, leases and partial downloads are
 * root's alone (images may hold secrets; docker and containerd keep theirs 0700/0710).
 */
export const STORE_DIR_MODE = 0o700;

/**
 * The content-addressed blob store. A blob is visible under blobs/ALG/HEX only once it is
 * complete, verified and fsynced (see IngestWriter); readers never see partial data. Each
 * blob has an inter-process lock, so two processes pulling the same image download each
 * blob once: the second waits, then finds the blob present.
 */
export class ContentStore {
  readonly root: string;
  readonly tmp: string;
  private readonly ingestDir: string;
  private scopeKey: string | undefined;

  constructor(options: ContentStoreOptions) {
    this.root = options.root;
    this.tmp = options.tmp;
    this.ingestDir = path.join(options.tmp, 'ingest');
  }

  /** Creates the directories; idempotent. */
  // eslint-disable-next-line @typescript-eslint/require-await -- synchronous inside, a promise outside
  async init(): Promise<void> {
    // synchronous: two mkdirs of directories that almost always exist cost microseconds,
    // where each trip through the thread pool cost a cold `chrun run` about a millisecond
    mkdirSync(path.join(this.root, 'blobs', 'sha256'), { recursive: true, mode: STORE_DIR_MODE });
    mkdirSync(this.ingestDir, { recursive: true, mode: STORE_DIR_MODE });
    this.scopeKey ??= lockScope(this.root);
  }

  /** The lock name for `what`, scoped to this store. */
  lockName(what: string): string {
    if (this.scopeKey === undefined) {
      throw new ChrunError('CHRUN_INTERNAL', 'content store used before init()');
    }
    return `${this.scopeKey}/${what}`;
  }

  /** Takes a store-wide named lock (for the image index, GC, ...). */
  lock(what: string, options: LockOptions = {}): Promise<Lock> {
    return acquireLock(this.lockName(what), options);
  }

  /** Runs `fn` under a store-wide named lock. */
  withLock<T>(what: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
    return withLock(this.lockName(what), fn, options);
  }

  tryLock(what: string): Promise<Lock | undefined> {
    return tryLock(this.lockName(what));
  }

  /** The file of a blob (which may not exist). */
  blobPath(digest: Digest): string {
    return path.join(this.root, 'blobs', digestAlgorithm(digest), digestHex(digest));
  }

  /** The ingest file of a blob being written. */
  ingestPath(digest: Digest): string {
    return path.join(this.ingestDir, `${digestAlgorithm(digest)}-${digestHex(digest)}`);
  }

  /** The size of a stored blob, or undefined when it is not in the store. */
  async size(digest: Digest): Promise<number | undefined> {
    try {
      const st = await stat(this.blobPath(digest));
      return st.isFile() ? st.size : undefined;
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return undefined;
      throw err;
    }
  }

  async has(digest: Digest, size?: number): Promise<boolean> {
    const actual = await this.size(digest);
    return actual !== undefined && (size === undefined || actual === size);
  }

  /**
   * Reads a small blob (manifest, config) whole and verifies it against its digest, so a
   * damaged store is noticed rather than trusted. Read synchronously: these are a few
   * kilobytes, and open, fstat, read and close through the thread pool were four trips each
   * (measured: `chrun run`'s image resolution took 5-13 ms on this loaded 2-core host).
   */
  // eslint-disable-next-line @typescript-eslint/require-await -- synchronous inside, a promise outside
  async readBlob(digest: Digest): Promise<Buffer> {
    let data: Buffer;
    try {
      data = readFileSync(this.blobPath(digest));
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') {
        throw new ChrunError('CHRUN_IMAGE_NOT_FOUND', `blob ${digest} is not in the store`, {
          cause: err,
          fields: { digest },
        });
      }
      throw err;
    }
    const actual = `${digestAlgorithm(digest)}:${createHash(digestAlgorithm(digest)).update(data).digest('hex')}`;
    if (actual !== digest) {
      throw new ChrunError('CHRUN_DIGEST_MISMATCH', `blob ${digest} in the store is damaged`, {
        fields: { digest, actual },
      });
    }
    return data;
  }

  /** A stream of a stored blob (layers), optionally only bytes [start, end). */
  openBlob(digest: Digest, options: { start?: number; end?: number } = {}): ReadStream {
    return createReadStream(this.blobPath(digest), {
      start: options.start ?? 0,
      ...(options.end === undefined ? {} : { end: options.end - 1 }),
      highWaterMark: 1 << 20,
    });
  }

  /**
   * Starts writing a blob of known digest. Takes the blob's lock (waiting for another
   * writer, in any process, to finish); resolves to undefined when the blob is then found
   * in the store, else to a writer positioned after any data an interrupted writer left.
   */
  async writer(
    digest: Digest,
    size: number | undefined,
    options: WriterOptions = {},
  ): Promise<IngestWriter | undefined> {
    parseDigest(digest);
    if (await this.has(digest, size)) return undefined;
    const lock = await acquireLock(this.lockName(`blob-${digestHex(digest)}`), options);
    try {
      if (await this.has(digest, size)) {
        await lock.release();
        return undefined;
      }
      const file = this.ingestPath(digest);
      return await IngestWriter.open(
        digest,
        size,
        file,
        this.blobPath(digest),
        lock,
        (f) =>
          open(f, constants.O_RDWR | constants.O_CREAT, 0o644).catch((err: unknown) => {
            throw ingestError(digest, err);
          }),
        options.onProgress,
      );
    } catch (err) {
      await lock.release();
      throw err;
    }
  }

  /** Writes a whole in-memory blob (manifests, configs), verifying `expected` when given. */
  async writeBlob(data: Uint8Array, expected?: Digest): Promise<BlobInfo> {
    const digest =
      expected ?? (`sha256:${createHash('sha256').update(data).digest('hex')}` satisfies Digest);
    const w = await this.writer(digest, data.length);
    if (w !== undefined) {
      try {
        if (w.offset > 0) await w.reset();
        await w.write(data);
      } catch (err) {
        await w.abort(false);
        throw err;
      }
      await w.commit();
    }
    return { digest, size: data.length };
  }

  /**
   * Ingests a stream whose digest is not known in advance (archives, imports): writes it
   * to a private temp file while hashing, then moves it into place. With `expected`, the
   * content must match it. `beforeCommit` runs once the digest is known, before the blob
   * appears (to protect it with a lease).
   */
  async writeStream(
    source: AsyncIterable<Uint8Array>,
    expected?: { digest?: Digest; size?: number },
    options: { beforeCommit?: (digest: Digest) => Promise<void> } = {},
  ): Promise<BlobInfo> {
    const algorithm = expected?.digest === undefined ? 'sha256' : digestAlgorithm(expected.digest);
    const tmp = path.join(
      this.ingestDir,
      `stream-${process.pid}-${randomBytes(6).toString('hex')}`,
    );
    const hash = createHash(algorithm);
    let size = 0;
    const fh = await open(tmp, 'wx').catch((err: unknown) => {
      throw ingestError('stream', err);
    });
    let digest: Digest;
    try {
      try {
        for await (const chunk of source) {
          const buf = Buffer.isBuffer(chunk)
            ? chunk
            : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
          let done = 0;
          while (done < buf.length) {
            done += (await fh.write(buf, done, buf.length - done, size + done)).bytesWritten;
          }
          hash.update(buf);
          size += buf.length;
          if (expected?.size !== undefined && size > expected.size) break;
        }
        digest = `${algorithm}:${hash.digest('hex')}`;
        if (expected?.size !== undefined && size !== expected.size) {
          throw new ChrunError(
            'CHRUN_SIZE_MISMATCH',
            `ingest ${expected.digest ?? 'blob'}: got ${size} bytes, expected ${expected.size}`,
          );
        }
        if (expected?.digest !== undefined && digest !== expected.digest) {
          throw new ChrunError(
            'CHRUN_DIGEST_MISMATCH',
            `ingest ${expected.digest}: content has digest ${digest}`,
            { fields: { digest: expected.digest, actual: digest } },
          );
        }
        await fh.sync();
      } finally {
        await fh.close();
      }
      // Protect the blob (a lease) before it becomes visible to a collector.
      await options.beforeCommit?.(digest);
      const target = this.blobPath(digest);
      await mkdir(path.dirname(target), { recursive: true, mode: STORE_DIR_MODE });
      await rename(tmp, target);
      await syncDir(path.dirname(target));
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw ingestError(expected?.digest ?? 'stream', err);
    }
    return { digest, size };
  }

  /** Removes a blob (GC only; callers must hold the GC lock). */
  async delete(digest: Digest): Promise<void> {
    await unlink(this.blobPath(digest)).catch((err: unknown) => {
      if (errnoCode(err) !== 'ENOENT') throw err;
    });
  }

  /** Every blob in the store, with its size. */
  async list(): Promise<BlobInfo[]> {
    const out: BlobInfo[] = [];
    const blobs = path.join(this.root, 'blobs');
    for (const algorithm of await readdir(blobs).catch(() => [] as string[])) {
      const dir = path.join(blobs, algorithm);
      for (const hex of await readdir(dir).catch(() => [] as string[])) {
        const digest = `${algorithm}:${hex}`;
        if (!isDigest(digest)) continue;
        const st = await stat(path.join(dir, hex)).catch(() => undefined);
        if (st?.isFile() === true) out.push({ digest, size: st.size });
      }
    }
    return out;
  }

  /**
   * Deletes the ingest files of writers that are gone (their blob lock is free), holding
   * that lock while deleting so no new writer can start on the file meanwhile.
   */
  async removeStaleIngests(): Promise<number> {
    let bytes = 0;
    for (const name of await readdir(this.ingestDir).catch(() => [] as string[])) {
      const file = path.join(this.ingestDir, name);
      const blob = /^[a-z0-9]+-([a-f0-9]+)$/.exec(name);
      const stream = /^stream-(\d+)-/.exec(name);
      let lock: Lock | undefined;
      if (blob !== null) {
        lock = await tryLock(this.lockName(`blob-${blob[1]!}`));
        if (lock === undefined) continue;
      } else if (stream !== null && processExists(Number(stream[1]))) {
        continue;
      }
      try {
        const st = await stat(file).catch(() => undefined);
        if (st !== undefined) {
          await unlink(file).catch(() => undefined);
          bytes += st.size;
        }
      } finally {
        await lock?.release();
      }
    }
    return bytes;
  }
}
