import { chmodSync, rmSync } from 'node:fs';
import { chainIds as computeChainIds, type Digest } from '../oci/index.js';
import { ChrunError, limiter } from '../util/index.js';
import type { LayerEntry } from './apply-layer.js';
import { applyInto } from './apply-into.js';
import type { LayerForm } from './apply-layer.js';
import { LayerWorker } from './worker-apply.js';
import { copyTree } from './copy-tree.js';
import type { ChainLock } from './chain-locks.js';
import type { LayerStore, PendingSnapshot, Snapshot } from './layer-store.js';

/** One layer to unpack: where its entries come from, and what it must hash to. */
export interface UnpackLayer {
  /** The compressed blob's digest (names the layer in messages). */
  digest: string;
  /** The digest of the uncompressed tar, from the image config's rootfs.diff_ids. */
  diffId: string;
  /**
   * Opens the layer: its entries, then `done()` once they are all read, which fails if the
   * uncompressed stream did not hash to diffId (or the blob was not its declared size).
   */
  open(): Promise<OpenedLayer> | OpenedLayer;
  /**
   * The layer as a stored blob file, when it is one: it is then applied in a worker thread
   * (the file read, decompressed, hashed and written there, with the same checks as open()).
   */
  file?: { size: number; path(): Promise<string> };
}

export interface OpenedLayer {
  entries: AsyncIterable<LayerEntry>;
  done(): Promise<void>;
}

/**
 * Layers started at once. Most of a started layer's time in a pull is spent waiting for its
 * blob (three download at a time), which costs nothing, so this is well above the number of
 * processors: with processors + 1 (3 here), bench/pull's fourth layer was only started, and
 * its blob read, once the first had been applied, though it had been downloaded long
 * before. Memory stays small: a started layer holds a few 1 MiB buffers at most.
 */
export const DEFAULT_CONCURRENCY = 8;

export interface UnpackOptions {
  /** Layers applied at the same time (overlay form). Default: 8 (DEFAULT_CONCURRENCY). */
  concurrency?: number;
  /** Apply layers that are stored files in worker threads (default true). */
  workers?: boolean;
}

export interface UnpackResult {
  /** Chain ID of each layer, bottom to top. */
  chainIds: string[];
  /** The chain IDs that were applied now (the others existed already). */
  applied: string[];
}

/**
 * Where the layers of one unpack are applied: a layer that is a stored file goes to a
 * worker thread, others are applied on this thread. One worker serves the whole unpack
 * (started with the first such layer, while its blob may still be downloading), so its
 * code is loaded and compiled once; the layers in it run concurrently (gunzip runs on
 * threads of its own, sys/gunzip.ts). Measured with bench/pull's image, alternating 7 times
 * each: one worker 2.18 and 2.64 s median against 2.65 and 2.90 s on the main thread, the
 * same CPU time; two workers were no faster (2.25, 3.12 s) and cost more CPU.
 */
class Appliers {
  private worker: LayerWorker | undefined;

  constructor(private readonly opts: UnpackOptions) {}

  async apply(
    layer: UnpackLayer,
    dir: string,
    form: LayerForm,
    lower?: () => Promise<readonly string[]>,
  ): Promise<void> {
    const file = layer.file;
    if (file === undefined || this.opts.workers === false) {
      await applyInto(layer, dir, form, lower, file !== undefined);
      return;
    }
    this.worker ??= new LayerWorker();
    await this.worker.apply(
      {
        digest: layer.digest,
        size: file.size,
        diffId: layer.diffId,
        dir,
        form,
        lower: lower !== undefined,
      },
      () => file.path(),
      lower,
    );
  }

  /** Stops the worker: the layers still running in it reject with `reason`. */
  async stop(reason: unknown): Promise<void> {
    await this.worker?.terminate(reason);
  }
}

/** Shared locks on every chain ID of the image, held while `fn` runs (see ChainLocks). */
async function holding<T>(
  store: LayerStore,
  chain: readonly string[],
  fn: (locks: ChainLock[]) => Promise<T>,
): Promise<T> {
  const locks: ChainLock[] = [];
  try {
    for (const id of chain) locks.push(await store.locks.shared(id));
    return await fn(locks);
  } finally {
    for (const l of locks) l.release();
  }
}

/**
 * overlay form: every missing layer is applied into a directory of its own, several at once
 * (a layer in overlay form needs nothing from the layers below, except for the rare hardlink
 * to a lower file, for which it waits, and parent directories it does not carry, which a
 * stored blob's layer guesses and checks at its end: see applyInto). Layers start
 * in order, bottom first, so a layer only ever waits for layers that are already running.
 * If any layer fails, the first failure (lowest layer) is thrown and the snapshots this call
 * committed are removed again, except those another unpack has used meanwhile (they may be
 * part of its image now: gc removes them once no image needs them).
 */
export async function unpackOverlay(
  store: LayerStore,
  layers: readonly UnpackLayer[],
  opts: UnpackOptions = {},
): Promise<UnpackResult> {
  const chain = computeChainIds(layers.map((l) => l.diffId as Digest));
  const applied: string[] = [];
  const failure = await holding(store, chain, async (locks) => {
    const limit = opts.concurrency ?? DEFAULT_CONCURRENCY;
    const run = limiter(limit);
    // The first failure stops the layers still running (the worker is terminated).
    const cancelled = new ChrunError('CHRUN_INTERNAL', 'unpack: cancelled');
    const appliers = new Appliers(opts);
    let failed = false;
    const results: Promise<string>[] = [];
    for (const [i, layer] of layers.entries()) {
      const chainId = chain[i]!;
      const lock = locks[i]!;
      const existing = store.get(chainId);
      if (existing !== undefined) {
        lock.markUsed();
        results.push(Promise.resolve(existing.fs));
        continue;
      }
      const below = results.slice(0, i);
      const lower = async () => (await Promise.all(below)).reverse();
      results.push(
        run(async () => {
          if (failed) throw cancelled;
          const pending = store.begin();
          try {
            await appliers.apply(layer, pending.fs, 'overlay', lower);
            const snap = store.commit(pending, {
              chainId,
              ...(i > 0 ? { parent: chain[i - 1]! } : {}),
              diffId: layer.diffId,
              digest: layer.digest,
              form: 'overlay',
              created: new Date().toISOString(),
            });
            if (snap.ours) applied.push(chainId);
            else lock.markUsed(); // another process committed it first: we use theirs
            return snap.fs;
          } catch (err) {
            failed = true;
            if (err !== cancelled) await appliers.stop(cancelled);
            store.abort(pending);
            throw err;
          }
        }),
      );
    }
    const settled = await Promise.allSettled(results);
    await appliers.stop(cancelled);
    const rejected = settled.filter((r) => r.status === 'rejected');
    return rejected.find((r) => r.reason !== cancelled) ?? rejected[0];
  });
  if (failure !== undefined) {
    // Our locks are released: a chain another unpack holds or has marked stays.
    for (const id of [...applied].reverse()) store.remove(id, { unlessUsed: true });
    throw failure.reason;
  }
  return { chainIds: chain, applied };
}

/**
 * copy form: the whole stack in one tree. Starts from a copy of the longest chain prefix
 * already unpacked (or from nothing) and applies the rest in order, whiteouts as deletions.
 * Only the top chain is committed.
 */
export async function unpackCopy(
  store: LayerStore,
  layers: readonly UnpackLayer[],
  opts: UnpackOptions = {},
): Promise<UnpackResult> {
  const chain = computeChainIds(layers.map((l) => l.diffId as Digest));
  return holding(store, chain, (locks) => unpackCopyLocked(store, layers, chain, locks, opts));
}

async function unpackCopyLocked(
  store: LayerStore,
  layers: readonly UnpackLayer[],
  chain: string[],
  locks: ChainLock[],
  opts: UnpackOptions,
): Promise<UnpackResult> {
  const top = chain.at(-1);
  if (top === undefined) return { chainIds: chain, applied: [] };
  if (store.get(top) !== undefined) {
    locks.at(-1)!.markUsed();
    return { chainIds: chain, applied: [] };
  }
  let start = 0;
  let base: Snapshot | undefined;
  for (let i = chain.length - 2; i >= 0; i--) {
    base = store.get(chain[i]!);
    if (base !== undefined) {
      locks[i]!.markUsed();
      start = i + 1;
      break;
    }
  }
  const pending: PendingSnapshot = store.begin();
  const appliers = new Appliers(opts);
  try {
    if (base !== undefined) {
      rmSync(pending.fs, { recursive: true });
      copyTree(base.fs, pending.fs);
    } else {
      chmodSync(pending.fs, 0o755);
    }
    for (let i = start; i < layers.length; i++) {
      await appliers.apply(layers[i]!, pending.fs, 'copy');
    }
    const snap = store.commit(pending, {
      chainId: top,
      ...(chain.length > 1 ? { parent: chain[chain.length - 2]! } : {}),
      diffId: layers.at(-1)!.diffId,
      digest: layers.at(-1)!.digest,
      form: 'copy',
      created: new Date().toISOString(),
    });
    if (!snap.ours) {
      locks.at(-1)!.markUsed();
      return { chainIds: chain, applied: [] };
    }
  } catch (err) {
    await appliers.stop(err);
    store.abort(pending);
    throw err;
  } finally {
    await appliers.stop(new ChrunError('CHRUN_INTERNAL', 'unpack: done'));
  }
  return { chainIds: chain, applied: [top] };
}
