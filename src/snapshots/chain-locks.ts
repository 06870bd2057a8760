import { randomBytes } from 'node:crypto';
import {
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { ChrunError, errnoCode, processExists } from '../util/index.js';

/** How long a shared lock waits for a removal of the same chain (an exclusive lock). */
const WAIT_MS = 120_000;

/** A held lock on one chain ID; released by release(), or by the death of its process. */
export interface ChainLock {
  /** Records that an unpack other than the one that applied the snapshot relies on it. */
  markUsed(): void;
  /** Whether anyone ever marked it (since the last reset). */
  used(): boolean;
  /** Clears the mark (exclusive holders only, when the snapshot is removed). */
  reset(): void;
  release(): void;
}

interface Paths {
  /** Holds a file `r-PID-RANDOM` per shared holder, and the `used` mark. */
  dir: string;
  /** The exclusive holder's file: "PID RANDOM". */
  rm: string;
}

/**
 * Locks on chain IDs across processes, in plain files (ROOT/locks/sha256-HEX/), so taking one
 * costs a few system calls: flock(2) would need the native call bridge, whose loading costs
 * about 20 ms on every `chrun run`.
 *
 * - A shared holder writes a file of its own into the chain's directory, then checks that no
 *   live exclusive holder is there; if one is, it takes its file back and waits (or fails).
 * - An exclusive holder creates the chain's `.rm` file (link(2): one wins), then checks that no
 *   live shared holder has a file; if one has, it gives up.
 *   Either the holder sees the remover or the remover sees the holder: both write before
 *   they look. A holder that died is recognised by its pid and its file dropped (a pid reused
 *   meanwhile only delays a removal).
 *
 * An unpack holds a shared lock on each chain ID of its image while it runs, and marks the
 * chains it uses without having applied them. A removal (a failed unpack taking back what it
 * committed, gc) needs the exclusive lock, and a failed unpack also leaves a marked chain.
 */
export class ChainLocks {
  constructor(readonly dir: string) {}

  private paths(chainId: string): Paths {
    const m = /^sha256:([0-9a-f]{64})$/.exec(chainId);
    if (m === null) {
      throw new ChrunError('CHRUN_INVALID_ARGUMENT', `snapshot ${chainId}: not a sha256 chain id`);
    }
    const dir = path.join(this.dir, `sha256-${m[1]!}`);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return { dir, rm: `${dir}.rm` };
  }

  /** A shared lock, or undefined while the chain is being removed. */
  private enter(p: Paths): ChainLock | undefined {
    const mine = path.join(p.dir, `r-${process.pid}-${randomBytes(6).toString('hex')}`);
    writeFileSync(mine, '');
    if (holderAlive(p.rm)) {
      unlinkSync(mine);
      return undefined;
    }
    return lockOf(p, () => rmSync(mine, { force: true }));
  }

  /** The shared lock, waiting while the chain is being removed. */
  async shared(chainId: string): Promise<ChainLock> {
    const p = this.paths(chainId);
    const start = Date.now();
    for (let delay = 2; ; delay = Math.min(50, delay * 2)) {
      const lock = this.enter(p);
      if (lock !== undefined) return lock;
      if (Date.now() - start > WAIT_MS) {
        throw new ChrunError(
          'CHRUN_LOCKED',
          `unpack: snapshot ${chainId} is being removed by another process (waited ${WAIT_MS / 1000} s)`,
        );
      }
      await new Promise((r) => setTimeout(r, delay));
    }
  }

  /** The shared lock without waiting: undefined while the chain is being removed. */
  tryShared(chainId: string): ChainLock | undefined {
    return this.enter(this.paths(chainId));
  }

  /** The exclusive lock if nobody holds the chain, else undefined. */
  tryExclusive(chainId: string): ChainLock | undefined {
    const p = this.paths(chainId);
    const token = `${process.pid} ${randomBytes(6).toString('hex')}`;
    if (!claim(p.rm, token)) return undefined;
    const release = () => {
      try {
        if (readFileSync(p.rm, 'utf8') === token) unlinkSync(p.rm);
      } catch {
        /* gone */
      }
    };
    for (const name of readdirSync(p.dir)) {
      const m = /^r-(\d+)-/.exec(name);
      if (m === null) continue;
      if (processExists(Number(m[1]))) {
        release();
        return undefined;
      }
      rmSync(path.join(p.dir, name), { force: true }); // its holder died
    }
    return lockOf(p, release);
  }
}

/** Whether the exclusive holder's file names a live process. */
function holderAlive(rm: string): boolean {
  let text: string;
  try {
    text = readFileSync(rm, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return false;
    throw err;
  }
  const pid = Number(text.split(' ')[0]);
  return Number.isInteger(pid) && pid > 0 && processExists(pid);
}

/** Creates `rm` holding `token` if nobody live holds it (link(2) makes one creator win). */
function claim(rm: string, token: string): boolean {
  const tmp = `${rm}.${token.replace(' ', '-')}`;
  writeFileSync(tmp, token);
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        linkSync(tmp, rm);
        return true;
      } catch (err) {
        if (errnoCode(err) !== 'EEXIST') throw err;
      }
      if (holderAlive(rm)) return false;
      // A dead holder's file: move it aside (one mover wins), then try again.
      try {
        renameSync(rm, `${tmp}.stale`);
        rmSync(`${tmp}.stale`, { force: true });
      } catch (err) {
        if (errnoCode(err) !== 'ENOENT') throw err;
      }
    }
    return false;
  } finally {
    rmSync(tmp, { force: true });
  }
}

function lockOf(p: Paths, release: () => void): ChainLock {
  const used = path.join(p.dir, 'used');
  let held = true;
  return {
    markUsed: () => writeFileSync(used, ''),
    used: () => existsSync(used),
    reset: () => rmSync(used, { force: true }),
    release: () => {
      if (held) release();
      held = false;
    },
  };
}
