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
import type { EnginePaths } from './paths.js';
import { containersUsingImage } from './image-users.js';

/**
 * The engine's image operations: the image store of this engine's paths, with the hooks
 * other areas plug in: the snapshotter's unpack step (run by pull/load/import before a
 * name is registered) and the runtime's view of which containers use an image.
 */
export class EngineImages {
  readonly store: ImageStore;
  /** Set by the snapshotter: applies an image's layers. Undefined: images are not unpacked. */
  unpacker: Unpacker | undefined;

  constructor(private readonly paths: EnginePaths) {
    this.store = new ImageStore({ content: paths.content, images: paths.images, tmp: paths.tmp });
  }

  private users = (record: ImageRecord): Promise<string[]> =>
    containersUsingImage(this.paths, record);

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

  remove(name: string, options: { force?: boolean } = {}): Promise<RemoveResult> {
    return removeImage(this.store, name, { ...options, users: this.users });
  }

  tag(source: string, target: string): Promise<ImageRecord> {
    return tagImage(this.store, source, target);
  }

  prune(options: { all?: boolean } = {}): Promise<PruneResult> {
    return pruneImages(this.store, { ...options, users: this.users });
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
