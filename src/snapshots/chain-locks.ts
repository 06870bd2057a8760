import { closeSync, fstatSync, ftruncateSync, mkdirSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import { tryFlock } from '../sys/index.js';
import { ChrunError } from '../util/index.js';

/** How long a shared lock waits for a removal of the same chain (an exclusive lock). */
const WAIT_MS = 120_000;

/** A held lock on one chain ID; the lock goes on release() or with the process. */
export interface ChainLock {
  /** Records that an unpack other than the one that applied the snapshot relies on it. */
  markUsed(): void;
  /** Whether anyone ever marked it (since the last reset). */
  used(): boolean;
  /** Clears the mark (exclusive holders only, when the snapshot is removed). */
  reset(): void;
  release(): void;
}

/**
 * Locks on chain IDs across processes, with flock(2) on one small file per chain ID
 * (ROOT/locks/sha256-HEX, kept: removing a lock file races with its next opener).
 *
 * - An unpack holds a shared lock on each chain ID of its image, from before it looks the
 *   snapshot up until it returns. When it uses a snapshot it did not apply itself, it marks
 *   the chain's lock file.
 * - Whoever removes a snapshot (a failed unpack taking back what it committed, gc) first
 *   takes the exclusive lock without waiting, and leaves the snapshot when that fails (an
 *   unpack is using it) or, for a failed unpack, when the chain is marked (another unpack
 *   used it, and may have made an image of it by now).
 */
export class ChainLocks {
  constructor(readonly dir: string) {}

  private open(chainId: string): number {
    const m = /^sha256:([0-9a-f]{64})$/.exec(chainId);
    if (m === null) {
      throw new ChrunError('CHRUN_INVALID_ARGUMENT', `snapshot ${chainId}: not a sha256 chain id`);
    }
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    return openSync(path.join(this.dir, `sha256-${m[1]!}`), 'a+', 0o600);
  }

  /** The shared lock, waiting while the chain is being removed. */
  async shared(chainId: string): Promise<ChainLock> {
    const fd = this.open(chainId);
    try {
      const start = Date.now();
      for (let delay = 2; !tryFlock(fd, 'shared'); delay = Math.min(50, delay * 2)) {
        if (Date.now() - start > WAIT_MS) {
          throw new ChrunError(
            'CHRUN_LOCKED',
            `unpack: snapshot ${chainId} is being removed by another process (waited ${WAIT_MS / 1000} s)`,
          );
        }
        await new Promise((r) => setTimeout(r, delay));
      }
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    return lockOf(fd);
  }

  /** The shared lock without waiting: undefined while the chain is being removed. */
  tryShared(chainId: string): ChainLock | undefined {
    const fd = this.open(chainId);
    if (tryFlock(fd, 'shared')) return lockOf(fd);
    closeSync(fd);
    return undefined;
  }

  /** The exclusive lock if nobody holds the chain, else undefined. */
  tryExclusive(chainId: string): ChainLock | undefined {
    const fd = this.open(chainId);
    if (tryFlock(fd, 'exclusive')) return lockOf(fd);
    closeSync(fd);
    return undefined;
  }
}

function lockOf(fd: number): ChainLock {
  let open = true;
  return {
    markUsed: () => {
      writeSync(fd, 'u');
    },
    used: () => fstatSync(fd).size > 0,
    reset: () => ftruncateSync(fd, 0),
    release: () => {
      if (open) closeSync(fd);
      open = false;
    },
  };
}
