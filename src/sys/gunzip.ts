import { closeSync, existsSync, openSync } from 'node:fs';
import path from 'node:path';
import { getSystemErrorName } from 'node:util';
import { ChrunError, packageRoot, tooManyBytes } from '../util/index.js';
import { loadKoffi } from './koffi.js';

/**
 * gunzip of stored layer blobs on ISA-L's igzip (native/gunzip/gunzip.c, built into
 * libchrun-gunzip.so when libisal-dev and libssl-dev are installed), hashing the output with
 * sha256 as it goes. A job reads the file and inflates on a thread of its own, ahead of its
 * consumer, into a ring of native output slots that the consumer sees without a copy; the
 * consumer's thread only parses and writes what came out. Measured on bench/pull's largest
 * layer (45 MB of gzip, 125 MB of tar), applied alone: 0.48 s with jobs, 0.65-0.78 s with a
 * koffi call per 1 MiB step (each step started only once the previous one's completion had
 * come back to the event loop), and 0.20 s of igzip's CPU against node:zlib's 0.51 s.
 */

/** Output chunk (slot) size: 1 MiB, as node:zlib's gunzip in decompress(). */
const CHUNK = 1 << 20;
/** Compressed bytes read at a time. */
const READ = 1 << 20;
/** Output slots of a job: up to SLOTS - 2 chunks are inflated ahead of the consumer. */
const SLOTS = 6;

const JOB_CHUNK = 1;
const JOB_END = 0;
const JOB_NONE = 2;
const STEP_BAD_HASH = -100;
const STEP_STALLED = -101;
const JOB_TOO_LONG = -102;
const JOB_READ_ERROR = -103;
const JOB_CUT = -104;
const JOB_STOPPED = -105;

/** ISA-L's inflate errors in zlib's words, so messages stay as they were with node:zlib. */
const REASONS = new Map<number, string>([
  [-1, 'invalid block type'],
  [-2, 'invalid literal/length or distance code'],
  [-3, 'invalid distance too far back'],
  [-4, 'incorrect header check'],
  [-5, 'unknown compression method'],
  [-6, 'incorrect data check'],
  [STEP_BAD_HASH, 'sha256 failed'],
  [STEP_STALLED, 'igzip made no progress'],
  [JOB_CUT, 'unexpected end of file'],
  [JOB_STOPPED, 'stopped'],
]);

type Handle = object;

interface Binding {
  start(
    fd: number,
    limit: number,
    hash: boolean,
    slotSize: number,
    readSize: number,
    owner: number,
  ): Handle | null;
  slot(j: Handle, i: number, size: number): ArrayBuffer;
  /** The next chunk if one is ready (JOB_NONE if not); info gets its slot and length. */
  next(j: Handle, info: Uint32Array): number;
  /** The same, waiting on libuv's threadpool until there is one. */
  wait(j: Handle, info: Uint32Array): Promise<number>;
  result(j: Handle, digest: Buffer): number;
  free(j: Handle): void;
  abandon(owner: number): number;
}

/** The binding, or why node:zlib serves instead; undefined until first asked. */
let bound: { binding: Binding } | { reason: string } | undefined;

/** Which gunzip layers get here (`chrun info`): ISA-L's library, or node:zlib and why. */
export type GunzipInfo = { kind: 'isal'; library: string } | { kind: 'zlib'; reason: string };

const libraryPath = (): string => path.join(packageRoot(), 'native', 'build', 'libchrun-gunzip.so');

export function gunzipInfo(): GunzipInfo {
  const b = bind();
  return 'reason' in b
    ? { kind: 'zlib', reason: b.reason }
    : { kind: 'isal', library: libraryPath() };
}

function bind(): { binding: Binding } | { reason: string } {
  bound ??= load();
  return bound;
}

function load(): { binding: Binding } | { reason: string } {
  if (process.env.CHRUN_GUNZIP === 'zlib') return { reason: 'CHRUN_GUNZIP=zlib' };
  const file = libraryPath();
  if (!existsSync(file)) {
    return {
      reason: `${file} is not built (apt-get install libisal-dev libssl-dev, then npm run build:native)`,
    };
  }
  try {
    const koffi = loadKoffi();
    // Loading fails when libisal.so.2 or libcrypto.so.3 is missing: then node:zlib serves.
    const lib = koffi.load(file);
    koffi.opaque('chrun_gunzip_job');
    const start = lib.func(
      'chrun_gunzip_job *chrun_gunzip_job_start(int fd, int64_t limit, int hash, uint32_t nslots, uint32_t slot_cap, uint32_t in_cap, uint32_t owner)',
    );
    const slot = lib.func('void *chrun_gunzip_job_slot(chrun_gunzip_job *j, uint32_t i)');
    const next = lib.func('int chrun_gunzip_job_next(chrun_gunzip_job *j, int block, void *info)');
    const result = lib.func('int64_t chrun_gunzip_job_result(chrun_gunzip_job *j, void *digest)');
    const free = lib.func('void chrun_gunzip_job_free(chrun_gunzip_job *j)');
    const abandon = lib.func('int chrun_gunzip_jobs_abandon(uint32_t owner)');
    return {
      binding: {
        start: (fd, limit, hash, slotSize, readSize, owner) =>
          start(fd, limit, hash ? 1 : 0, SLOTS, slotSize, readSize, owner) as Handle | null,
        slot: (j, i, size) => koffi.view(slot(j, i), size),
        next: (j, info) => next(j, 0, info) as number,
        wait: (j, info) =>
          new Promise((resolve, reject) => {
            next.async(j, 1, info, (err: unknown, rc: number) => {
              if (err !== null && err !== undefined) reject(err);
              else resolve(rc);
            });
          }),
        result: (j, digest) => Number(result(j, digest)),
        free: (j) => void free(j),
        abandon: (owner) => abandon(owner) as number,
      },
    };
  } catch (err) {
    return { reason: `${file} does not load: ${err instanceof Error ? err.message : String(err)}` };
  }
}

function invalid(reason: string): ChrunError {
  return new ChrunError('CHRUN_ARCHIVE_INVALID', `decompress gzip layer: ${reason}`);
}

/** What a gunzip job found once its file ended well. */
export interface GunzipFileResult {
  /** Compressed bytes read: the file's size. */
  bytes: number;
  /** sha256 of the output (hex), when asked for. */
  sha256: string | undefined;
}

export interface GunzipFileOptions {
  /** Hash the output: the result then has its sha256. */
  sha256: boolean;
  /** Output chunk size (default 1 MiB; tests use small ones). */
  chunkSize?: number;
  /** Compressed bytes read at a time (default 1 MiB; tests use small ones). */
  readSize?: number;
}

/**
 * ISA-L's gunzip of a gzip file (members back to back are one stream, zero padding after a
 * member is ignored, as node:zlib's), or undefined when libchrun-gunzip.so does not serve. A
 * thread of its own reads the file and inflates ahead of the consumer. The file may have at
 * most `limit` bytes: CHRUN_SIZE_MISMATCH as soon as it has more. Corrupt or truncated data
 * fails with CHRUN_ARCHIVE_INVALID and zlib's words.
 *
 * Each chunk is a view of native memory, valid until the chunk after the next one is asked
 * for (or the generator ends): the consumer must be done with a chunk by then, as readTar's
 * reader and the layer writer are (they write a piece before they read on).
 */
export function isalGunzipFile(
  file: string,
  limit: number,
  opts: GunzipFileOptions,
): AsyncGenerator<Buffer, GunzipFileResult, undefined> | undefined {
  const b = bind();
  if ('reason' in b) return undefined;
  return gunzipFile(b.binding, file, limit, opts);
}

/**
 * Frees the gunzip jobs a worker thread left running when it was terminated (their threads
 * would wait for it forever). Call it once the worker has exited. Returns the number freed.
 */
export function abandonGunzipJobs(workerThreadId: number): number {
  const b = bind();
  return 'reason' in b ? 0 : b.binding.abandon(workerThreadId);
}

async function* gunzipFile(
  b: Binding,
  file: string,
  limit: number,
  opts: GunzipFileOptions,
): AsyncGenerator<Buffer, GunzipFileResult, undefined> {
  const chunkSize = opts.chunkSize ?? CHUNK;
  // The owner of the job (see abandonGunzipJobs); loaded here, not on every command's start.
  const { threadId } = await import('node:worker_threads');
  const fd = openSync(file, 'r');
  let started: Handle | null;
  try {
    started = b.start(fd, limit, opts.sha256, chunkSize, opts.readSize ?? READ, threadId);
  } finally {
    closeSync(fd); // the job has its own duplicate
  }
  if (started === null) {
    throw new ChrunError('CHRUN_INTERNAL', 'decompress gzip layer: out of memory or threads');
  }
  const j = started;
  const views: Buffer[] = [];
  const info = new Uint32Array(2);
  try {
    for (;;) {
      let rc = b.next(j, info);
      if (rc === JOB_NONE) rc = await b.wait(j, info);
      if (rc === JOB_CHUNK) {
        const i = info[0]!;
        const view = (views[i] ??= Buffer.from(b.slot(j, i, chunkSize)));
        yield view.subarray(0, info[1]);
        continue;
      }
      if (rc === JOB_END) break;
      if (rc === JOB_TOO_LONG) throw tooManyBytes('read compressed layer', limit);
      if (rc === JOB_READ_ERROR) {
        throw new ChrunError(
          'CHRUN_INTERNAL',
          `read compressed layer ${file}: ${getSystemErrorName(-info[1]!)}`,
        );
      }
      throw invalid(REASONS.get(rc) ?? `igzip error ${rc}`);
    }
    const digest = Buffer.alloc(32);
    const bytes = b.result(j, digest);
    return { bytes, sha256: opts.sha256 ? digest.toString('hex') : undefined };
  } finally {
    b.free(j);
  }
}
