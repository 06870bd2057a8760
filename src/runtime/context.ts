import type { Sys } from '../sys/index.js';
import type { CgroupDriver } from './cgroup-driver.js';
import type { StateStore } from './state-store.js';

/** What every lifecycle verb works with. */
export interface RuntimeContext {
  readonly store: StateStore;
  readonly sys: Sys;
  readonly cgroups: CgroupDriver | undefined;
  /** Compile seccomp profiles once to BPF and load the cached program (else libseccomp per run). */
  readonly seccompCache: boolean;
  /** The host root cannot pivot_root (a ramfs/rootfs root): containers move their root and chroot. */
  readonly noPivot: boolean;
  /** Fork helpers from a resident zygote (attached containers with inherited or no stdio). */
  readonly zygote: boolean;
}
