import type { Spec } from '../oci/index.js';
import type { CgroupMounts, CgroupPlacement } from './compile.js';

/** One container's cgroups, as the cgroup manager made them. */
export interface ContainerCgroup {
  /** Where the helper puts the process before it runs (clone3 into v2, cgroup.procs for v1). */
  readonly placement: CgroupPlacement;
  /** Every directory made for the container (recorded, removed on delete). */
  readonly paths: string[];
  /** The limits written, control file by control file (for `--explain`). */
  readonly applied?: { writes: readonly { file: string; value: string }[] };
  /** True when the kernel killed a process of the container for memory. */
  oomKilled(): Promise<boolean>;
  /**
   * cgroup v2: device rules only an eBPF program attached to the cgroup can enforce (the
   * helper does not load it yet: the runtime refuses such a container).
   */
  readonly deviceFilter?: unknown;
  /** Kills what is left and removes the directories. */
  destroy(): Promise<void>;
}

/** What the runtime needs from src/cgroups (injected, so unit tests use a fake). */
export interface CgroupDriver {
  /** Creates the container's cgroups with spec.linux.resources at spec.linux.cgroupsPath (or a default). */
  create(id: string, spec: Spec): Promise<ContainerCgroup>;
  /** The cgroups of an existing container, from its recorded paths. */
  open(paths: string[]): ContainerCgroup;
  /** The host's hierarchies, for mounts of type cgroup. */
  mounts(): CgroupMounts;
}
