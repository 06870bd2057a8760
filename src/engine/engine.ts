import path from 'node:path';
import { Runtime } from '../runtime/index.js';
import { SnapshotStore, type SnapshotterKind } from '../snapshots/index.js';
import type { Container } from './container.js';
import { ContainerStore, type ContainerInfo } from './container-store.js';
import { EngineImages } from './images.js';
import { hostInfo, type HostInfo } from './info.js';
import { resolvePaths, type EnginePaths } from './paths.js';
import { removeContainer } from './remove-container.js';
import { runContainer } from './run-container.js';
import type { ContainerRunOptions } from './run-options.js';
import { systemDf, type SystemDf } from './system-df.js';

export interface EngineOptions {
  /** Keep all storage and state under this directory (like `chrun --root DIR`). */
  root?: string;
  /** The snapshotter: overlay where it can be mounted (default 'auto'), or copy. */
  snapshotter?: SnapshotterKind | 'auto';
  /**
   * For a process that runs many containers: fork each container's helper from one resident
   * helper instead of spawning it (containers whose stdio is 'inherit' or 'ignore').
   */
  zygote?: boolean;
}

/**
 * The library entry point: one Engine per store. The CLI is a thin layer over it.
 *
 * ```ts
 * import { Engine } from 'chrun';
 * const engine = new Engine({ root: '/tmp/chrun-demo' });
 * const c = await engine.run('busybox', { command: ['echo', 'hi'], remove: true });
 * c.stdout?.pipe(process.stdout);
 * const { exitCode } = await c.wait();
 * ```
 */
export class Engine {
  readonly paths: EnginePaths;
  private imagesApi: EngineImages | undefined;
  private snapshotStore: SnapshotStore | undefined;
  private containerStore: ContainerStore | undefined;
  private runtimeApi: Runtime | undefined;

  constructor(private readonly options: EngineOptions = {}) {
    this.paths = resolvePaths(options.root);
  }

  /** Images: pull, push, list, inspect, tag, remove, prune, load, save, import, login. */
  get images(): EngineImages {
    this.imagesApi ??= new EngineImages(this.paths, {
      snapshots: () => this.snapshots,
      containers: () => this.containers,
    });
    return this.imagesApi;
  }

  /** Layer snapshots and container roots. */
  get snapshots(): SnapshotStore {
    this.snapshotStore ??= SnapshotStore.open({
      root: this.paths.snapshots,
      snapshotter: this.options.snapshotter ?? 'auto',
    });
    return this.snapshotStore;
  }

  /** Container records: what `ps -a` lists and `rmi` checks. */
  get containers(): ContainerStore {
    this.containerStore ??= new ContainerStore(this.paths.containers);
    return this.containerStore;
  }

  /** The OCI runtime that runs this engine's containers. */
  get runtime(): Runtime {
    this.runtimeApi ??= new Runtime({
      stateDir: path.join(this.paths.state, 'runtime'),
      seccompCacheDir: path.join(this.paths.storage, 'cache', 'seccomp'),
      zygote: this.options.zygote ?? false,
    });
    return this.runtimeApi;
  }

  private parts() {
    return {
      paths: this.paths,
      images: this.images,
      snapshots: () => this.snapshots,
      containers: () => this.containers,
      runtime: () => this.runtime,
    };
  }

  /**
   * Runs a container from `image` (pulled when missing) with docker's `run` semantics and
   * resolves once its process runs. The handle has its stdio streams (default 'pipe'),
   * `wait()`, `kill()`, `resize()` and `explain()`.
   */
  run(image: string, options: ContainerRunOptions = {}): Promise<Container> {
    // a container the zygote can serve (inherited or discarded stdio, no terminal): start
    // the zygote while the image and root are prepared
    const stdio = options.stdio ?? ['pipe', 'pipe', 'pipe'];
    if (
      this.options.zygote === true &&
      options.tty !== true &&
      stdio.every((s) => s === 'inherit' || s === 'ignore')
    )
      this.runtime.warm();
    return runContainer(this.parts(), image, options);
  }

  /** Every container this engine keeps (`ps -a`), oldest first; running only with `running`. */
  listContainers(options: { all?: boolean } = {}): ContainerInfo[] {
    const all = this.containers.list();
    return options.all === true ? all : all.filter((c) => c.status === 'running');
  }

  /** The container a name, ID or unique ID prefix refers to. */
  container(ref: string): ContainerInfo {
    return this.containers.find(ref);
  }

  /** `rm`: removes a stopped container (a running one only with `force`, killing it). */
  removeContainer(ref: string, options: { force?: boolean } = {}): Promise<ContainerInfo> {
    return removeContainer(this.parts(), ref, options);
  }

  /** What this host supports and where this engine keeps its data. */
  info(): Promise<HostInfo> {
    return hostInfo(this.paths);
  }

  /** Space used by images, containers and layer snapshots (`chrun system df`). */
  systemDf(): Promise<SystemDf> {
    return systemDf(this.paths);
  }
}
