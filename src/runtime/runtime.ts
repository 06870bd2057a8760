import { readFileSync } from 'node:fs';
import type { Process, State } from '../oci/index.js';
import { CgroupDriver as HostCgroups } from '../cgroups/index.js';
import { realSys, type Sys } from '../sys/index.js';
import type { CgroupDriver } from './cgroup-driver.js';
import type { ContainerProcess } from './container-process.js';
import type { RuntimeContext } from './context.js';
import { create, type CreateOptions } from './create.js';
import { deleteContainer } from './delete.js';
import { exec, type ExecOptions } from './exec.js';
import { kill } from './kill.js';
import { run, type RunOptions } from './run.js';
import { start } from './start.js';
import { state } from './state.js';
import { StateStore } from './state-store.js';

export interface RuntimeOptions {
  /** Where container records live (the engine's state dir, e.g. /run/chrun/containers). */
  stateDir: string;
  /** The kernel, through the helper (tests pass a RecordingSys). */
  sys?: Sys;
  /** The cgroup manager (default: the host's, src/cgroups); false: no cgroups of their own. */
  cgroups?: CgroupDriver | false;
  /** Cache compiled seccomp filters as BPF (default true). */
  seccompCache?: boolean;
  /** Where compiled seccomp filters are kept across processes. */
  seccompCacheDir?: string;
  /** The helper binary (default: the built one). */
  helper?: string;
  /**
   * For a process running many containers: fork each container's helper from one resident
   * helper (a zygote) instead of spawning it, for attached containers whose stdio is
   * inherited or discarded. The zygote lives until this process exits (or closeZygotes()).
   */
  zygote?: boolean;
}

/** True when the host's root is the initial ramfs, where pivot_root cannot work. */
function hostRootIsRamfs(): boolean {
  try {
    const line = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .find((l) => l.split(' ')[4] === '/');
    const fstype = line?.split(' - ')[1]?.split(' ')[0];
    return fstype === 'rootfs' || fstype === 'ramfs';
  } catch {
    return false;
  }
}

/**
 * The OCI runtime: containers from bundles (config.json + root file system), never images.
 *
 * ```ts
 * const rt = new Runtime({ stateDir: '/run/chrun/containers' });
 * const p = await rt.run('demo', '/path/to/bundle', { stdio: ['inherit', 'inherit', 'inherit'] });
 * const { exitCode } = await p.wait();
 * ```
 */
export class Runtime {
  readonly ctx: RuntimeContext;

  constructor(opts: RuntimeOptions) {
    this.ctx = {
      store: new StateStore(opts.stateDir),
      sys: opts.sys ?? realSys({ helper: opts.helper, seccompCacheDir: opts.seccompCacheDir }),
      cgroups: opts.cgroups === false ? undefined : (opts.cgroups ?? new HostCgroups()),
      seccompCache: opts.seccompCache ?? true,
      noPivot: hostRootIsRamfs(),
      zygote: opts.zygote ?? false,
    };
  }

  create(id: string, bundle: string, opts?: CreateOptions): Promise<ContainerProcess> {
    return create(this.ctx, id, bundle, opts);
  }
  start(id: string): Promise<void> {
    return start(this.ctx, id);
  }
  state(id: string): Promise<State> {
    return state(this.ctx, id);
  }
  kill(id: string, signal?: string | number): Promise<void> {
    return kill(this.ctx, id, signal);
  }
  delete(id: string, opts?: { force?: boolean }): Promise<void> {
    return deleteContainer(this.ctx, id, opts);
  }
  exec(
    id: string,
    process: Partial<Process> & { args: string[] },
    opts?: ExecOptions,
  ): Promise<ContainerProcess> {
    return exec(this.ctx, id, process, opts);
  }
  run(id: string, bundle: string, opts?: RunOptions): Promise<ContainerProcess> {
    return run(this.ctx, id, bundle, opts);
  }
  /**
   * With `zygote`, starts the resident helper now: a caller that knows a container is coming
   * (the CLI's `run`, before it resolves the image) overlaps the zygote's start with its own
   * work. Does nothing otherwise.
   */
  warm(): void {
    if (this.ctx.zygote) this.ctx.sys.warmZygote?.();
  }

  list(): Promise<string[]> {
    return this.ctx.store.list();
  }
}
