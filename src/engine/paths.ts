import path from 'node:path';

/** Where chrun keeps everything. Storage survives reboots; state lives on a tmpfs by default. */
export interface EnginePaths {
  /** The root given by --root / CHRUN_ROOT, or undefined for the system defaults. */
  readonly root: string | undefined;
  /** Persistent storage: blobs, the image index, layer snapshots, container layers. */
  readonly storage: string;
  /** Content-addressed blobs (sha256/...). */
  readonly content: string;
  /** The name -> manifest index. */
  readonly images: string;
  /** Applied layer snapshots and container writable layers. */
  readonly snapshots: string;
  /** Container records (one directory per container) and the names they hold. */
  readonly containers: string;
  /** Runtime state: container records, sockets, exec fifos, locks. Cleared on reboot. */
  readonly state: string;
  /** Temporary files that must be on the storage file system (for atomic renames). */
  readonly tmp: string;
}

export const DEFAULT_STORAGE = '/var/lib/chrun';
export const DEFAULT_STATE = '/run/chrun';

/**
 * Resolves chrun's directories. `root` (from --root or CHRUN_ROOT) puts storage in ROOT and
 * state in ROOT/run, so tests, benchmarks and users can keep fully separate stores.
 */
export function resolvePaths(root?: string): EnginePaths {
  const absRoot = root === undefined || root === '' ? undefined : path.resolve(root);
  const storage = absRoot ?? DEFAULT_STORAGE;
  const state = absRoot === undefined ? DEFAULT_STATE : path.join(absRoot, 'run');
  return {
    root: absRoot,
    storage,
    content: path.join(storage, 'content'),
    images: path.join(storage, 'images'),
    snapshots: path.join(storage, 'snapshots'),
    containers: path.join(storage, 'containers'),
    state,
    tmp: path.join(storage, 'tmp'),
  };
}
