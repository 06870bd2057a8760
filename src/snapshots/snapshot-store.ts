import {
  chmodSync,
  existsSync,
  lchownSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { isMountPoint, mountAll, planMount, tryUnmount, type Mount } from '../sys/index.js';
import { ChrunError, errnoCode, reasonOf, removeTree } from '../util/index.js';
import { copyTree } from './copy-tree.js';
import { diskUsage, type Usage } from './disk-usage.js';
import type { ChainLock } from './chain-locks.js';
import { LayerStore, safeReaddir, type Snapshot } from './layer-store.js';
import { readImageFile } from './image-file.js';
import { overlaySupported } from './overlay-probe.js';
import { volatileSupported } from './overlay-volatile.js';
import {
  unpackCopy,
  unpackOverlay,
  type UnpackLayer,
  type UnpackOptions,
  type UnpackResult,
} from './unpack.js';

export type SnapshotterKind = 'overlay' | 'copy';

export interface SnapshotStoreOptions {
  /** The snapshots directory (EnginePaths.snapshots). */
  root: string;
  /** 'auto' (default): overlay where it can be mounted, copy otherwise. */
  snapshotter?: SnapshotterKind | 'auto';
}

export interface PrepareOptions {
  /** A read-only root: no writable layer at all. */
  readOnly?: boolean;
  /**
   * A root thrown away when its container ends (--rm): overlayfs is mounted `volatile`, so
   * neither the container's fsyncs nor the unmount at its exit sync the upper layer's file
   * system (that sync made most of the time a short container took to exit on ext4). Podman
   * does the same for --rm containers. Ignored by the copy snapshotter and on kernels before
   * 5.10, which lack the option.
   */
  volatile?: boolean;
}

/** A container's root file system, prepared. */
export interface PreparedRoot {
  key: string;
  snapshotter: SnapshotterKind;
  /** What to mount, as data: the runtime mounts it in the container's mount namespace. */
  mounts: Mount[];
  /** Where `mountRoot` mounts it on the host. */
  rootfs: string;
}

interface ContainerMeta {
  key: string;
  snapshotter: SnapshotterKind;
  chainIds: string[];
  readOnly: boolean;
  mounts: Mount[];
  created: string;
}

export interface SnapshotUsage {
  snapshots: { count: number } & Usage;
  containers: { count: number } & Usage;
}

const KEY = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/**
 * Layer snapshots and container roots. Each layer is applied once per chain ID and shared by
 * every image and container that has it (see unpack); each container gets a thin writable
 * layer over them (`overlay`) or a private copy (`copy`), described as mounts.
 */
export class SnapshotStore {
  readonly root: string;
  readonly snapshotter: SnapshotterKind;
  readonly stores: Record<SnapshotterKind, LayerStore>;
  readonly containers: string;
  /** An empty directory: the lowerdir of an image without layers. */
  private readonly empty: string;

  private constructor(root: string, snapshotter: SnapshotterKind) {
    this.root = root;
    this.snapshotter = snapshotter;
    this.stores = {
      overlay: new LayerStore(path.join(root, 'overlay')),
      copy: new LayerStore(path.join(root, 'copy')),
    };
    this.containers = path.join(root, 'containers');
    this.empty = path.join(root, 'overlay', 'empty');
  }

  /** The store at `root` for reading only (usage, list): nothing is created or probed. */
  static inspect(root: string): SnapshotStore {
    return new SnapshotStore(path.resolve(root), 'overlay');
  }

  /** Opens (creating if needed) the store; 'auto' probes overlayfs once per store and kernel. */
  static open(options: SnapshotStoreOptions): SnapshotStore {
    const root = path.resolve(options.root);
    mkdirSync(root, { recursive: true, mode: 0o700 });
    const wanted = options.snapshotter ?? 'auto';
    const kind: SnapshotterKind =
      wanted === 'auto' ? (overlaySupported(root) ? 'overlay' : 'copy') : wanted;
    const store = new SnapshotStore(root, kind);
    store.stores[kind].init();
    mkdirSync(store.containers, { recursive: true, mode: 0o700 });
    if (kind === 'overlay') mkdirSync(store.empty, { recursive: true, mode: 0o755 });
    return store;
  }

  /**
   * Applies the layers of an image that are not unpacked yet, in this store's form, and
   * returns the chain IDs. A layer that is unsafe, corrupt or not what its diffID says fails
   * the whole call, and nothing it applied stays visible.
   */
  unpack(layers: readonly UnpackLayer[], opts: UnpackOptions = {}): Promise<UnpackResult> {
    return this.snapshotter === 'overlay'
      ? unpackOverlay(this.stores.overlay, layers, opts)
      : unpackCopy(this.stores.copy, layers, opts);
  }

  /** The committed snapshot of each chain ID in this store's form, or the first one missing. */
  snapshots(chainIds: readonly string[]): Snapshot[] {
    const store = this.stores[this.snapshotter];
    const ids = this.snapshotter === 'copy' ? chainIds.slice(-1) : chainIds;
    return ids.map((id) => {
      const snap = store.get(id);
      if (snap === undefined) {
        throw new ChrunError(
          'CHRUN_IMAGE_NOT_FOUND',
          `prepare root: layer snapshot ${id} is not unpacked (${this.snapshotter})`,
          { fields: { digest: id } },
        );
      }
      return snap;
    });
  }

  /**
   * A regular file of the unpacked image `chainIds` (bottom to top) as its containers see it,
   * read without mounting (symlinks resolved inside the image): /etc/passwd and /etc/group for
   * `--user`. Undefined when the image has no such file.
   */
  readImageFile(chainIds: readonly string[], file: string): Promise<Buffer | undefined> {
    if (chainIds.length === 0) return Promise.resolve(undefined);
    const layers = this.snapshots(chainIds)
      .map((s) => s.fs)
      .reverse();
    return readImageFile(layers, this.snapshotter, file);
  }

  /** The chain IDs (of `chainIds`, bottom to top) whose snapshot is not unpacked in this store. */
  missing(chainIds: readonly string[]): string[] {
    const store = this.stores[this.snapshotter];
    const ids = this.snapshotter === 'copy' ? chainIds.slice(-1) : chainIds;
    return ids.filter((id) => store.get(id) === undefined);
  }

  private dirOf(key: string): string {
    if (!KEY.test(key)) {
      throw new ChrunError('CHRUN_INVALID_ARGUMENT', `snapshot key '${key}': not a valid name`);
    }
    return path.join(this.containers, key);
  }

  /**
   * Prepares the root of container `key` over the unpacked chain (chain IDs bottom to top):
   * overlay: an upper and a work directory of its own; copy: a private copy. Returns the
   * mounts; nothing is mounted yet.
   */
  prepare(key: string, chainIds: readonly string[], opts: PrepareOptions = {}): PreparedRoot {
    const dir = this.dirOf(key);
    // Shared locks until the root's record is written: gc cannot take the layers meanwhile,
    // and once it can, the record keeps them.
    const locks = this.holdChains(chainIds);
    try {
      return this.prepareLocked(dir, key, chainIds, opts);
    } finally {
      for (const l of locks) l.release();
    }
  }

  private holdChains(chainIds: readonly string[]): ChainLock[] {
    const store = this.stores[this.snapshotter];
    const ids = this.snapshotter === 'copy' ? chainIds.slice(-1) : chainIds;
    const locks: ChainLock[] = [];
    for (const id of ids) {
      const lock = store.locks.tryShared(id);
      if (lock === undefined) {
        for (const l of locks) l.release();
        throw new ChrunError(
          'CHRUN_IMAGE_NOT_FOUND',
          `prepare root: layer snapshot ${id} is being removed (${this.snapshotter})`,
          { fields: { digest: id } },
        );
      }
      locks.push(lock);
    }
    return locks;
  }

  private prepareLocked(
    dir: string,
    key: string,
    chainIds: readonly string[],
    opts: PrepareOptions,
  ): PreparedRoot {
    const snaps = chainIds.length === 0 ? [] : this.snapshots(chainIds);
    try {
      mkdirSync(dir, { mode: 0o700 });
    } catch (err) {
      if (errnoCode(err) === 'EEXIST') {
        throw new ChrunError('CHRUN_CONTAINER_EXISTS', `prepare root: snapshot '${key}' exists`);
      }
      throw err;
    }
    try {
      const rootfs = path.join(dir, 'rootfs');
      mkdirSync(rootfs, { mode: 0o755 });
      const readOnly = opts.readOnly === true;
      const mounts =
        this.snapshotter === 'overlay'
          ? this.overlayMounts(dir, snaps, readOnly, opts.volatile === true)
          : this.copyMounts(dir, snaps, readOnly);
      const meta: ContainerMeta = {
        key,
        snapshotter: this.snapshotter,
        chainIds: [...chainIds],
        readOnly,
        mounts,
        created: new Date().toISOString(),
      };
      writeFileSync(path.join(dir, 'meta.json'), JSON.stringify(meta));
      return { key, snapshotter: this.snapshotter, mounts, rootfs };
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  private overlayMounts(
    dir: string,
    snaps: Snapshot[],
    readOnly: boolean,
    volatile: boolean,
  ): Mount[] {
    const lowers = snaps.length === 0 ? [this.empty] : snaps.map((s) => s.fs).reverse();
    if (readOnly) {
      // Always an overlay, never a bind of the shared layer: overlayfs hides the layer's
      // whiteouts, and an overlay without an upper directory cannot be remounted writable.
      // It needs two lowerdirs then: the empty directory makes the second.
      if (lowers.length === 1) lowers.push(this.empty);
      const mount: Mount = {
        type: 'overlay',
        source: 'overlay',
        options: ['ro', `lowerdir=${lowers.join(':')}`],
      };
      planMount(mount);
      return [mount];
    }
    const upper = path.join(dir, 'upper');
    const work = path.join(dir, 'work');
    const mount: Mount = {
      type: 'overlay',
      source: 'overlay',
      options: [
        `lowerdir=${lowers.join(':')}`,
        `upperdir=${upper}`,
        `workdir=${work}`,
        ...(volatile && volatileSupported() ? ['volatile'] : []),
      ],
    };
    planMount(mount); // an image the kernel cannot stack fails here, with the reason
    mkdirSync(upper, { mode: 0o755 });
    mkdirSync(work, { mode: 0o700 });
    // overlayfs shows the upper root's own attributes: give it those of the image's root.
    const top = lstatSync(lowers[0]!);
    lchownSync(upper, top.uid, top.gid);
    chmodSync(upper, top.mode & 0o7777);
    utimesSync(upper, top.atime, top.mtime);
    return [mount];
  }

  private copyMounts(dir: string, snaps: Snapshot[], readOnly: boolean): Mount[] {
    const fs = path.join(dir, 'fs');
    const top = snaps[snaps.length - 1];
    if (top === undefined) mkdirSync(fs, { mode: 0o755 });
    else copyTree(top.fs, fs);
    return [{ type: 'bind', source: fs, options: ['rbind', readOnly ? 'ro' : 'rw'] }];
  }

  private meta(key: string): ContainerMeta {
    const file = path.join(this.dirOf(key), 'meta.json');
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as ContainerMeta;
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') {
        throw new ChrunError(
          'CHRUN_CONTAINER_NOT_FOUND',
          `snapshot '${key}': no such container root`,
        );
      }
      throw err;
    }
  }

  /** The mounts of a prepared root. */
  mounts(key: string): Mount[] {
    return this.meta(key).mounts;
  }

  /** Mounts the root of `key` on the host (chroot isolation, tests) and returns where. */
  mountRoot(key: string): string {
    const meta = this.meta(key);
    const rootfs = path.join(this.dirOf(key), 'rootfs');
    mountAll(meta.mounts, rootfs);
    return rootfs;
  }

  /** Undoes mountRoot (every mount stacked there); false if nothing was mounted. */
  unmountRoot(key: string): boolean {
    const rootfs = path.join(this.dirOf(key), 'rootfs');
    let any = false;
    try {
      while (isMountPoint(rootfs) && tryUnmount(rootfs)) any = true;
    } catch (err) {
      throw new ChrunError('CHRUN_MOUNT_FAILED', `unmount ${rootfs}: ${reasonOf(err)}`, {
        cause: err,
      });
    }
    return any;
  }

  /** Removes a container's root: its mounts, its writable layer or copy. */
  remove(key: string): boolean {
    const dir = this.dirOf(key);
    if (!existsSync(dir)) return false;
    this.unmountRoot(key);
    removeTree(dir);
    return true;
  }

  /** The keys of every prepared root. */
  list(): string[] {
    return safeReaddir(this.containers).filter((k) => KEY.test(k));
  }

  /**
   * Removes every layer snapshot that no image and no container needs. `live`: the chain IDs
   * of the images that exist (their whole chain, or just the top: parents are kept with
   * their children). Also clears what crashed applies left. Returns the removed chain IDs.
   */
  gc(live: Iterable<string>): string[] {
    const keep = new Set(live);
    for (const id of this.containerChains()) keep.add(id);
    const removed: string[] = [];
    for (const kind of ['overlay', 'copy'] as const) {
      const store = this.stores[kind];
      const all = store.list();
      const byChain = new Map(all.map((s) => [s.chainId, s]));
      const marked = new Set<string>();
      for (const id of keep) {
        // overlay snapshots need their parents; a copy snapshot is a whole tree.
        for (let s = byChain.get(id); s !== undefined && !marked.has(s.chainId);) {
          marked.add(s.chainId);
          s = kind === 'overlay' && s.parent !== undefined ? byChain.get(s.parent) : undefined;
        }
      }
      for (const s of all) {
        if (marked.has(s.chainId)) continue;
        // a root prepared since: its record is written while it holds the chain's lock
        const needed = () => this.containerChains().has(s.chainId);
        if (store.remove(s.chainId, { unlessNeeded: needed })) removed.push(s.chainId);
      }
      store.cleanup();
    }
    return removed;
  }

  /** The chain IDs the prepared container roots use. */
  private containerChains(): Set<string> {
    const out = new Set<string>();
    for (const key of this.list()) {
      try {
        for (const id of this.meta(key).chainIds) out.add(id);
      } catch {
        /* a root being removed */
      }
    }
    return out;
  }

  /** Space used by layer snapshots and by container roots (for `system df`). */
  usage(): SnapshotUsage {
    const seen = new Set<string>();
    const snapshots = { count: 0, bytes: 0, inodes: 0 };
    for (const kind of ['overlay', 'copy'] as const) {
      for (const s of this.stores[kind].list()) {
        const u = diskUsage(path.dirname(s.fs), seen);
        snapshots.count++;
        snapshots.bytes += u.bytes;
        snapshots.inodes += u.inodes;
      }
    }
    const containers = { count: 0, bytes: 0, inodes: 0 };
    for (const key of this.list()) {
      const dir = path.join(this.containers, key);
      let u: Usage = { bytes: 0, inodes: 0 };
      for (const sub of ['upper', 'work', 'fs']) {
        const part = diskUsage(path.join(dir, sub), seen);
        u = { bytes: u.bytes + part.bytes, inodes: u.inodes + part.inodes };
      }
      containers.count++;
      containers.bytes += u.bytes;
      containers.inodes += u.inodes;
    }
    return { snapshots, containers };
  }
}
