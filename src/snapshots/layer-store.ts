import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { markTopDir } from '../sys/index.js';
import { ChrunError, errnoCode, processExists } from '../util/index.js';
import type { LayerForm } from './apply-layer.js';
import { ChainLocks } from './chain-locks.js';

/** What is recorded about one committed layer snapshot. */
export interface SnapshotMeta {
  /** The chain ID of the layer stack this snapshot completes. */
  chainId: string;
  /** The chain ID below it (undefined for a bottom layer). */
  parent?: string;
  diffId: string;
  /** The compressed blob it was applied from. */
  digest: string;
  form: LayerForm;
  created: string;
}

export interface Snapshot extends SnapshotMeta {
  /** Short name of its directory (keeps overlay lowerdir options short). */
  id: string;
  /** The snapshot's file system tree. */
  fs: string;
}

/** A snapshot being written, not yet visible to anyone. */
export interface PendingSnapshot {
  dir: string;
  fs: string;
}

const ORPHAN_AGE_MS = 10 * 60 * 1000;

function chainName(chainId: string): string {
  const m = /^sha256:([0-9a-f]{64})$/.exec(chainId);
  if (m === null) {
    throw new ChrunError('CHRUN_INVALID_ARGUMENT', `snapshot ${chainId}: not a sha256 chain id`);
  }
  return `sha256-${m[1]!}`;
}

function shortId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  return Array.from(randomBytes(10), (b) => alphabet[b & 31]).join('');
}

/**
 * Committed layer snapshots of one form, on disk:
 *
 *   ROOT/layers/ID/fs         the tree (ID: 10 random base32 characters)
 *   ROOT/layers/ID/meta.json  SnapshotMeta
 *   ROOT/chains/sha256-HEX    symlink to ../layers/ID: the snapshot of that chain ID exists
 *   ROOT/tmp/PID-RANDOM/      snapshots being applied
 *   ROOT/locks/sha256-HEX/    who holds the chain ID (see ChainLocks)
 *
 * A snapshot is applied in tmp/, renamed into layers/ and then published by creating its
 * chain link (symlink(2) is atomic), so nobody ever sees a half-applied one. Two processes
 * applying the same chain both succeed; the second to publish drops its copy.
 */
export class LayerStore {
  readonly layers: string;
  readonly chains: string;
  readonly tmp: string;
  readonly locks: ChainLocks;

  constructor(readonly root: string) {
    this.layers = path.join(root, 'layers');
    this.chains = path.join(root, 'chains');
    this.tmp = path.join(root, 'tmp');
    this.locks = new ChainLocks(path.join(root, 'locks'));
  }

  init(): void {
    for (const d of [this.layers, this.chains, this.tmp])
      mkdirSync(d, { recursive: true, mode: 0o700 });
  }

  /** The committed snapshot of `chainId`, or undefined. */
  get(chainId: string): Snapshot | undefined {
    let id: string;
    try {
      id = path.basename(readlinkSync(path.join(this.chains, chainName(chainId))));
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return undefined;
      throw err;
    }
    return this.read(id);
  }

  private read(id: string): Snapshot | undefined {
    const dir = path.join(this.layers, id);
    try {
      const meta = JSON.parse(readFileSync(path.join(dir, 'meta.json'), 'utf8')) as SnapshotMeta;
      return { ...meta, id, fs: path.join(dir, 'fs') };
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return undefined;
      throw err;
    }
  }

  private tmpMarked = false;

  /**
   * A fresh, empty snapshot directory in tmp/. tmp/ is marked the top of a directory
   * hierarchy first (once), so that each snapshot's files get block groups of their own
   * on ext2/3/4 (see markTopDir).
   */
  begin(): PendingSnapshot {
    if (!this.tmpMarked) {
      markTopDir(this.tmp);
      this.tmpMarked = true;
    }
    const dir = path.join(this.tmp, `${process.pid}-${shortId()}`);
    mkdirSync(dir, { mode: 0o700 });
    const fs = path.join(dir, 'fs');
    mkdirSync(fs, { mode: 0o755 });
    chmodSync(fs, 0o755); // whatever the umask
    return { dir, fs };
  }

  /**
   * Makes a pending snapshot visible as the snapshot of `meta.chainId`. `ours` is false when
   * another process committed the same chain first (its snapshot is returned).
   */
  commit(pending: PendingSnapshot, meta: SnapshotMeta): Snapshot & { ours: boolean } {
    writeFileSync(path.join(pending.dir, 'meta.json'), JSON.stringify(meta));
    let id = '';
    for (let attempt = 0; ; attempt++) {
      id = shortId();
      try {
        renameSync(pending.dir, path.join(this.layers, id));
        break;
      } catch (err) {
        const code = errnoCode(err);
        if ((code === 'EEXIST' || code === 'ENOTEMPTY') && attempt < 5) continue;
        throw err;
      }
    }
    const link = path.join(this.chains, chainName(meta.chainId));
    try {
      symlinkSync(`../layers/${id}`, link);
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw err;
      // Someone committed the same chain meanwhile: theirs wins, ours goes.
      rmSync(path.join(this.layers, id), { recursive: true, force: true });
      const theirs = this.get(meta.chainId);
      if (theirs !== undefined) return { ...theirs, ours: false };
      throw err;
    }
    return { ...meta, id, fs: path.join(this.layers, id, 'fs'), ours: true };
  }

  abort(pending: PendingSnapshot): void {
    rmSync(pending.dir, { recursive: true, force: true });
  }

  /**
   * Unpublishes then deletes the snapshot of `chainId`; false if there was none, or if an
   * unpack or a prepare is using it (it holds the chain's lock), or, with `unlessUsed`, if an
   * unpack other than the one that applied it has used it, or if `unlessNeeded()` says so.
   */
  remove(
    chainId: string,
    opts: { unlessUsed?: boolean; unlessNeeded?: () => boolean } = {},
  ): boolean {
    const lock = this.locks.tryExclusive(chainId);
    if (lock === undefined) return false;
    try {
      if (opts.unlessUsed === true && lock.used()) return false;
      // asked again under the lock: what needs it may have appeared since the caller looked
      if (opts.unlessNeeded?.() === true) return false;
      const snap = this.get(chainId);
      if (snap === undefined) return false;
      unlinkSync(path.join(this.chains, chainName(chainId)));
      lock.reset();
      rmSync(path.join(this.layers, snap.id), { recursive: true, force: true });
      return true;
    } finally {
      lock.release();
    }
  }

  /** Every committed snapshot. */
  list(): Snapshot[] {
    const out: Snapshot[] = [];
    for (const name of safeReaddir(this.chains)) {
      try {
        const snap = this.read(path.basename(readlinkSync(path.join(this.chains, name))));
        if (snap !== undefined) out.push(snap);
      } catch (err) {
        if (errnoCode(err) !== 'ENOENT') throw err;
      }
    }
    return out;
  }

  /**
   * Removes what crashed processes left: tmp/ directories of processes that are gone, and
   * layer directories no chain link points to (older than ten minutes, so a commit between
   * its rename and its link is never taken for one).
   */
  cleanup(): number {
    let removed = 0;
    for (const name of safeReaddir(this.tmp)) {
      const pid = Number(name.split('-')[0]);
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && processExists(pid)) continue;
      if (pid === process.pid) continue;
      rmSync(path.join(this.tmp, name), { recursive: true, force: true });
      removed++;
    }
    const linked = new Set(this.list().map((s) => s.id));
    for (const id of safeReaddir(this.layers)) {
      if (linked.has(id)) continue;
      const dir = path.join(this.layers, id);
      let age = 0;
      try {
        age = Date.now() - lstatSync(dir).mtimeMs;
      } catch {
        continue;
      }
      if (age < ORPHAN_AGE_MS) continue;
      rmSync(dir, { recursive: true, force: true });
      removed++;
    }
    return removed;
  }
}

export function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
}
