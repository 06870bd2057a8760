import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { digestAlgorithm, type Digest } from '../oci/index.js';
import { ChrunError, describeError, errnoCode, syncDir } from '../util/index.js';
import type { Lock } from './lock.js';

const FLUSH_BYTES = 1 << 20;

/** The buffers after the first `n` bytes. */
function skipBytes(buffers: Uint8Array[], n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const b of buffers) {
    if (n >= b.length) {
      n -= b.length;
      continue;
    }
    out.push(n > 0 ? b.subarray(n) : b);
    n = 0;
  }
  return out;
}

export interface IngestProgress {
  /** Bytes of the blob now in the ingest file. */
  offset: number;
  /** The expected size, when known. */
  total: number | undefined;
}

/** Turns a write failure into a ChrunError; ENOSPC gets its own code. */
export function ingestError(digest: string, err: unknown): ChrunError {
  if (err instanceof ChrunError) return err;
  const code = errnoCode(err);
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new ChrunError('CHRUN_NO_SPACE', `ingest ${digest}: no space left on device`, {
      cause: err,
      fields: { digest },
    });
  }
  return new ChrunError('CHRUN_INTERNAL', `ingest ${digest}: ${describeError(err)}`, {
    cause: err,
    fields: { digest },
  });
}

/**
 * Writes one blob of known digest into the store, resumably. The data goes to
 * tmp/ingest/ALG-HEX (a stable name, so a later process can resume it) under the blob's
 * inter-process lock; commit() checks the size and digest, fsyncs and renames it into
 * place, so the blob is either absent or complete and verified. A killed writer leaves
 * only the ingest file, which the next writer hashes and continues from (HTTP Range).
 */
export class IngestWriter {
  private hash: Hash;
  private closed = false;
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  /** Bytes on disk (the rest of `offset` is still in `pending`). */
  private flushed: number;

  constructor(
    readonly digest: Digest,
    readonly expectedSize: number | undefined,
    private readonly file: string,
    private readonly target: string,
    private readonly fh: FileHandle,
    private readonly lock: Lock,
    /** Bytes already in the ingest file (resumed from an earlier, interrupted writer). */
    public offset: number,
    hash: Hash,
    private readonly onProgress?: (p: IngestProgress) => void,
  ) {
    this.hash = hash;
    this.flushed = offset;
  }

  /** Opens (or resumes) the ingest file: hashes what is there and positions after it. */
  static async open(
    digest: Digest,
    expectedSize: number | undefined,
    file: string,
    target: string,
    lock: Lock,
    openFile: (file: string) => Promise<FileHandle>,
    onProgress?: (p: IngestProgress) => void,
  ): Promise<IngestWriter> {
    const algorithm = digestAlgorithm(digest);
    let hash = createHash(algorithm);
    let offset = 0;
    const fh = await openFile(file);
    try {
      const size = (await fh.stat()).size;
      if (size > 0 && (expectedSize === undefined || size <= expectedSize)) {
        // Resume: hash the bytes an earlier writer left behind.
        for await (const chunk of createReadStream('', {
          fd: fh.fd,
          start: 0,
          end: size - 1,
          autoClose: false,
        }))
          hash.update(chunk as Buffer);
        offset = size;
      } else if (size > 0) {
        await fh.truncate(0);
        hash = createHash(algorithm);
      }
    } catch (err) {
      await fh.close().catch(() => undefined);
      throw err;
    }
    return new IngestWriter(digest, expectedSize, file, target, fh, lock, offset, hash, onProgress);
  }

  /**
   * Appends a chunk. Chunks are gathered and written 1 MiB at a time with one writev: a
   * download arrives in 16-64 KiB pieces, and a write per piece costs more than the hashing.
   */
  write(chunk: Uint8Array): Promise<void> | undefined {
    if (this.expectedSize !== undefined && this.offset + chunk.length > this.expectedSize) {
      throw new ChrunError(
        'CHRUN_SIZE_MISMATCH',
        `ingest ${this.digest}: more data than the expected ${this.expectedSize} bytes`,
        { fields: { digest: this.digest } },
      );
    }
    this.hash.update(chunk);
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    this.offset += chunk.length;
    this.onProgress?.({ offset: this.offset, total: this.expectedSize });
    return this.pendingBytes >= FLUSH_BYTES ? this.flush() : undefined;
  }

  /** Writes the gathered chunks. On failure the file is cut back to what was written. */
  private async flush(): Promise<void> {
    if (this.pendingBytes === 0) return;
    let buffers = this.pending;
    let left = this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    try {
      while (left > 0) {
        const { bytesWritten } = await this.fh.writev(buffers, this.flushed);
        this.flushed += bytesWritten;
        left -= bytesWritten;
        if (left > 0) buffers = skipBytes(buffers, bytesWritten);
      }
    } catch (err) {
      // What was not written is lost: this writer is done, its file holds a clean prefix.
      await this.fh.truncate(this.flushed).catch(() => undefined);
      this.offset = this.flushed;
      throw ingestError(this.digest, err);
    }
  }

  /** A Writable for stream.pipeline() that appends through write(). */
  writable(): Writable {
    return new Writable({
      highWaterMark: 1 << 20,
      write: (chunk: Buffer, _enc, cb) => {
        try {
          const pending = this.write(chunk);
          if (pending === undefined) cb();
          else pending.then(() => cb(), cb);
        } catch (err) {
          cb(err as Error);
        }
      },
    });
  }

  /** Starts over from byte 0 (a server that cannot resume sends the whole blob again). */
  async reset(): Promise<void> {
    this.pending = [];
    this.pendingBytes = 0;
    this.flushed = 0;
    await this.fh.truncate(0);
    this.hash = createHash(digestAlgorithm(this.digest));
    this.offset = 0;
    this.onProgress?.({ offset: 0, total: this.expectedSize });
  }

  /** Verifies size and digest, then moves the blob into the store atomically. */
  async commit(): Promise<void> {
    try {
      await this.flush();
      if (this.expectedSize !== undefined && this.offset !== this.expectedSize) {
        throw new ChrunError(
          'CHRUN_SIZE_MISMATCH',
          `ingest ${this.digest}: got ${this.offset} bytes, expected ${this.expectedSize}`,
          { fields: { digest: this.digest } },
        );
      }
      const actual = `${digestAlgorithm(this.digest)}:${this.hash.digest('hex')}`;
      if (actual !== this.digest) {
        throw new ChrunError(
          'CHRUN_DIGEST_MISMATCH',
          `ingest ${this.digest}: content has digest ${actual}`,
          { fields: { digest: this.digest, actual } },
        );
      }
      try {
        await this.fh.sync();
        await this.fh.close();
        this.closed = true;
        await rename(this.file, this.target);
        await syncDir(path.dirname(this.target));
      } catch (err) {
        throw ingestError(this.digest, err);
      }
    } catch (err) {
      // Content that does not verify is useless for a resume: drop it.
      await this.abort(false);
      throw err;
    }
    await this.lock.release();
  }

  /**
   * Stops writing. With `keep` (the default) the ingest file stays for a later resume;
   * without it the partial data is deleted.
   */
  async abort(keep = true): Promise<void> {
    // Keep what arrived for a resume (best effort: a failing disk keeps what it has).
    if (keep && !this.closed) await this.flush().catch(() => undefined);
    if (!this.closed) {
      this.closed = true;
      await this.fh.close().catch(() => undefined);
    }
    if (!keep) await unlink(this.file).catch(() => undefined);
    await this.lock.release();
  }
}

/** True when the partial ingest file at `file` exists (for tests and progress). */
export async function ingestFileSize(file: string): Promise<number | undefined> {
  try {
    return (await stat(file)).size;
  } catch {
    return undefined;
  }
}
