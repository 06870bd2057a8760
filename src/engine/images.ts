import type { Writable } from 'node:stream';
import {
  ImageStore,
  importImage,
  load,
  save,
  type ImportOptions,
  type LoadOptions,
  type LoadedImage,
  type SaveOptions,
  inspectImage,
  login,
  logout,
  pruneImages,
  pull,
  push,
  removeImage,
  summarizeImages,
  tagImage,
  type ImageInspect,
  type ImageRecord,
  type ImageSummary,
  type LoginOptions,
  type PruneResult,
  type PullOptions,
  type PullResult,
  type PushOptions,
  type PushResult,
  type RemoveResult,
  type Unpacker,
} from '../image/index.js';
import type { SnapshotStore } from '../snapshots/index.js';
import type { ContainerStore } from './container-store.js';
import { collectSnapshots, snapshotUnpacker } from './image-unpacker.js';
import { containersUsingImage } from './image-users.js';
import type { EnginePaths } from './paths.js';

/** What the image operations need from the rest of the engine (built lazily). */
export interface EngineImagesDeps {
  snapshots: () => SnapshotStore;
  containers: () => ContainerStore;
}

/**
 * The engine's image operations: the image store of this engine's paths, with the hooks
 * other areas plug in: the snapshotter's unpack step (run by pull/load/import before a
 * name is registered; a hostile or corrupt layer fails the operation and registers nothing),
 * layer snapshots collected once no image or container needs them, and the container records'
 * view of which containers use an image.
 */
export class EngineImages {
  readonly store: ImageStore;
  /** Applies an image's layers into the snapshot store. Undefined: images are not unpacked. */
  unpacker: Unpacker | undefined;

  constructor(
    paths: EnginePaths,
    private readonly deps: EngineImagesDeps,
  ) {
    this.store = new ImageStore({ content: paths.content, images: paths.images, tmp: paths.tmp });
    this.unpacker = snapshotUnpacker(deps.snapshots);
  }

  private users = (record: ImageRecord): Promise<string[]> =>
    Promise.resolve(containersUsingImage(this.deps.containers(), record));

  /** Removes layer snapshots that no image or container needs any more. */
  collectSnapshots(): Promise<string[]> {
    return collectSnapshots(this.store, this.deps.snapshots());
  }

  pull(reference: string, options: PullOptions = {}): Promise<PullResult> {
    return pull(this.store, reference, {
      ...(this.unpacker === undefined ? {} : { unpack: this.unpacker }),
      ...options,
    });
  }

  push(source: string, destination?: string, options: PushOptions = {}): Promise<PushResult> {
    return push(this.store, source, destination, options);
  }

  async list(): Promise<ImageSummary[]> {
    return summarizeImages(await this.store.list());
  }

  async inspect(name: string): Promise<ImageInspect> {
    return inspectImage(this.store, await this.store.resolve(name));
  }

  /** The image record a name or ID refers to (for the runtime: layers, config). */
  resolve(name: string): Promise<ImageRecord> {
    return this.store.resolve(name);
  }

  async remove(name: string, options: { force?: boolean } = {}): Promise<RemoveResult> {
    const result = await removeImage(this.store, name, { ...options, users: this.users });
    if (result.deleted.length > 0) await this.collectSnapshots();
    return result;
  }

  tag(source: string, target: string): Promise<ImageRecord> {
    return tagImage(this.store, source, target);
  }

  async prune(options: { all?: boolean } = {}): Promise<PruneResult> {
    const result = await pruneImages(this.store, { ...options, users: this.users });
    await this.collectSnapshots();
    return result;
  }

  /** `load`: images from a docker or OCI archive (file, stream) or an OCI layout directory. */
  load(
    input: string | AsyncIterable<Uint8Array>,
    options: LoadOptions = {},
  ): Promise<LoadedImage[]> {
    return load(this.store, input, { ...this.hooks(), ...options });
  }

  /** `save`: images to a docker-archive or oci-archive file (or stream). */
  save(
    names: readonly string[],
    output: string | Writable,
    options: SaveOptions = {},
  ): Promise<void> {
    return save(this.store, names, output, options);
  }

  /** `import`: a one-layer image from a root file system tarball. */
  import(
    input: string | AsyncIterable<Uint8Array>,
    reference?: string,
    options: ImportOptions = {},
  ): Promise<ImageRecord> {
    return importImage(this.store, input, reference, { ...this.hooks(), ...options });
  }

  private hooks(): { unpack?: Unpacker } {
    return this.unpacker === undefined ? {} : { unpack: this.unpacker };
  }

  login(
    server: string | undefined,
    username: string,
    password: string,
    options: LoginOptions = {},
  ): Promise<string> {
    return login(server, { username, password }, options);
  }

  logout(
    server: string | undefined,
    options: LoginOptions = {},
  ): Promise<{ host: string; removed: boolean }> {
    return logout(server, options);
  }
}
