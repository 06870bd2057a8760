import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Gunzip } from '../tar/index.js';
import { ChrunError, packageRoot, readAhead } from '../util/index.js';
import { loadKoffi } from './koffi.js';

/**
 * gunzip on ISA-L's igzip (native/gunzip/gunzip.c, built into libchrun-gunzip.so when
 * libisal-dev and libssl-dev are installed), hashing the output with sha256 as it goes. Each
 * step runs on a koffi worker thread, so the calling thread is free to parse and write
 * what came out. Measured on bench/pull's largest layer (45 MB of gzip, 125 MB of tar):
 * igzip 0.20 s of CPU, node:zlib 0.51 s; hashing in the same pass also takes 0.09 s of
 * sha256 off the thread that applies the layer.
 */

/** Output chunk size: 1 MiB, as node:zlib's gunzip in decompress(). */
const CHUNK = 1 << 20;
/**
 * Output chunks inflated ahead of the consumer: the next step runs on its thread while the
 * layer's thread writes the previous chunk's files.
 */
const AHEAD = 3;
const STEP_FULL = 1;
const STEP_BAD_HASH = -100;
const STEP_STALLED = -101;

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
]);

type Handle = object;

interface Binding {
  create(hash: number): Handle | null;
  free(h: Handle): void;
  step(
    h: Handle,
    input: Buffer,
    inLen: number,
    out: Buffer,
    cap: number,
    counts: Uint32Array,
  ): Promise<number>;
  end(h: Handle, digest: Buffer): number;
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
    koffi.opaque('chrun_gunzip');
    const create = lib.func('chrun_gunzip *chrun_gunzip_new(int hash)');
    const free = lib.func('void chrun_gunzip_free(chrun_gunzip *g)');
    const step = lib.func(
      'int chrun_gunzip_step(chrun_gunzip *g, void *in, uint32_t in_len, void *out, uint32_t out_cap, void *counts)',
    );
    const end = lib.func('int chrun_gunzip_end(chrun_gunzip *g, void *digest)');
    return {
      binding: {
        create: (hash) => create(hash) as Handle | null,
        free: (h) => void free(h),
        step: (h, input, inLen, out, cap, counts) =>
          new Promise((resolve, reject) => {
            step.async(h, input, inLen, out, cap, counts, (err: unknown, rc: number) => {
              if (err !== null && err !== undefined) reject(err);
              else resolve(rc);
            });
          }),
        end: (h, digest) => end(h, digest) as number,
      },
    };
  } catch (err) {
    return { reason: `${file} does not load: ${err instanceof Error ? err.message : String(err)}` };
  }
}

function invalid(reason: string): ChrunError {
  return new ChrunError('CHRUN_ARCHIVE_INVALID', `decompress gzip layer: ${reason}`);
}

const EMPTY = Buffer.alloc(0);

/** ISA-L's gunzip when libchrun-gunzip.so is built and loads, else undefined (use node:zlib). */
export function isalGunzip(): Gunzip | undefined {
  const b = bind();
  if ('reason' in b) return undefined;
  return (source, opts) => readAhead(gunzipWith(b.binding, source, opts), AHEAD);
}

async function* gunzipWith(
  b: Binding,
  source: AsyncIterable<Buffer>,
  opts: { sha256: boolean },
): AsyncGenerator<Buffer, string | undefined, undefined> {
  const created = b.create(opts.sha256 ? 1 : 0);
  if (created === null)
    throw new ChrunError('CHRUN_INTERNAL', 'decompress gzip layer: out of memory');
  const h = created;
  const counts = new Uint32Array(2);
  let out = Buffer.allocUnsafe(CHUNK);
  // Inflates `input` whole; yields each full (or, at the end of the input, partial) chunk.
  async function* feed(input: Buffer): AsyncGenerator<Buffer, void, undefined> {
    let off = 0;
    for (;;) {
      const rest = off === 0 ? input : input.subarray(off);
      const rc = await b.step(h, rest, rest.length, out, out.length, counts);
      off += counts[0]!;
      const made = counts[1]!;
      if (rc < 0) throw invalid(REASONS.get(rc) ?? `igzip error ${rc}`);
      if (made > 0) {
        yield made === out.length ? out : out.subarray(0, made);
        out = Buffer.allocUnsafe(CHUNK);
      }
      if (rc !== STEP_FULL && off >= input.length) return;
    }
  }
  try {
    for await (const chunk of source) yield* feed(chunk);
    yield* feed(EMPTY); // what the last full output left inside igzip
    const digest = Buffer.alloc(32);
    const rc = b.end(h, digest);
    if (rc === 1) throw invalid('unexpected end of file');
    if (rc !== 0) throw invalid(REASONS.get(rc) ?? `igzip error ${rc}`);
    return opts.sha256 ? digest.toString('hex') : undefined;
  } finally {
    b.free(h);
  }
}
