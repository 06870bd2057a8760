import type { LinuxDeviceCgroup, LinuxResources } from '../oci/index.js';

/** One control-file write, for `--explain` and debugging. */
export interface CgroupWrite {
  file: string;
  value: string;
}

export interface ApplyResult {
  /** Every write made, in order. */
  writes: CgroupWrite[];
  /** What could not be honoured on this host and was skipped (docker prints these as warnings). */
  warnings: string[];
  /**
   * Device rules the cgroupfs cannot enforce: on a cgroup v2 devices are filtered by an eBPF
   * program (BPF_PROG_TYPE_CGROUP_DEVICE) attached to the cgroup, which Node cannot load.
   * compileDeviceFilter() turns them into that program; the runtime must have the helper load
   * and attach it, or refuse to start. Empty on v1 and hybrid hosts, where the v1 devices
   * controller enforces them.
   */
  unenforcedDevices: LinuxDeviceCgroup[];
}

/** How the runtime puts the container's init into its cgroup before it runs user code. */
export interface CgroupPlacement {
  /**
   * v2: the container's cgroup directory. Open it (O_RDONLY|O_DIRECTORY, or O_PATH) and pass
   * the fd to clone3() with CLONE_INTO_CGROUP, so the child is born inside. Undefined on v1
   * and hybrid hosts, where no single fd can place a process in every hierarchy.
   */
  cloneInto: string | undefined;
  /**
   * The cgroup.procs files the parent writes the child's pid to (addProcess does it) while the
   * child waits on its sync channel. Needed on v1 and hybrid hosts; on v2 only when the child
   * was not created with CLONE_INTO_CGROUP.
   */
  procsFiles: string[];
}

export interface CgroupStats {
  memory?: {
    /** Bytes in use now (v2 memory.current, v1 memory.usage_in_bytes). */
    usage: number;
    /** Highest usage seen (v2 memory.peak, kernel 5.19+; v1 memory.max_usage_in_bytes). */
    peak?: number;
    /** The limit, undefined when unlimited. */
    limit?: number;
  };
  pids?: { current: number; limit?: number };
  /** CPU time used by all tasks, in nanoseconds. */
  cpu?: { usageNs: number };
}

/** Out-of-memory events seen by the container's memory cgroup. */
export interface OomStatus {
  /** Times a process was killed by the OOM killer in this cgroup (or its descendants). */
  oomKills: number;
  /** Times the cgroup hit its limit and ran the OOM path (v2 "oom", v1 failcnt). */
  ooms: number;
}

export interface CgroupManager {
  readonly mode: 'v1' | 'v2' | 'hybrid';
  /** The cgroup path inside each hierarchy, e.g. "/chrun/abc". */
  readonly path: string;
  /** The container's directory in every hierarchy it uses. */
  readonly dirs: readonly string[];
  /** The parents destroy() removes once empty (the default /chrun in each hierarchy). */
  parentDirs(): string[];
  /**
   * Creates the cgroup in every hierarchy (v2: enabling, down the tree, the controllers the
   * resources need plus memory and pids for OOM reporting and stats). Idempotent.
   */
  create(resources?: LinuxResources): void;
  /** Writes the limits. The container cgroup must exist. */
  apply(resources: LinuxResources): ApplyResult;
  placement(): CgroupPlacement;
  /** Writes pid into cgroup.procs of every hierarchy (see CgroupPlacement.procsFiles). */
  addProcess(pid: number): void;
  /** The pids in the cgroup and its descendants. */
  pids(): number[];
  stats(): CgroupStats;
  oom(): OomStatus;
  /** True when the OOM killer killed a process of this container. Read it before destroy(). */
  oomKilled(): boolean;
  /**
   * Sends signal to every process (v2 SIGKILL: cgroup.kill where the kernel has it; otherwise
   * freeze, signal each pid, thaw, so nothing forks away in between).
   */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /**
   * Kills what is left, waits for the cgroup to empty and removes it in every hierarchy
   * (retrying rmdir while the kernel finishes), then the default parent if it is empty.
   */
  destroy(): Promise<void>;
}
