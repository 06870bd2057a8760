import { EngineImages } from './images.js';
import { hostInfo, type HostInfo } from './info.js';
import { resolvePaths, type EnginePaths } from './paths.js';
import { systemDf, type SystemDf } from './system-df.js';

export interface EngineOptions {
  /** Keep all storage and state under this directory (like `chrun --root DIR`). */
  root?: string;
}

/**
 * The library entry point: one Engine per store. The CLI is a thin layer over it.
 *
 * ```ts
 * import { Engine } from 'chrun';
 * const engine = new Engine({ root: '/tmp/chrun-demo' });
 * console.log(await engine.info());
 * ```
 */
export class Engine {
  readonly paths: EnginePaths;
  private imagesApi: EngineImages | undefined;

  constructor(options: EngineOptions = {}) {
    this.paths = resolvePaths(options.root);
  }

  /** Images: pull, push, list, inspect, tag, remove, prune, load, save, import, login. */
  get images(): EngineImages {
    this.imagesApi ??= new EngineImages(this.paths);
    return this.imagesApi;
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
