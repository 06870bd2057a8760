import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Spec } from '../oci/index.js';
import type { CgroupFs } from './cgroup-fs.js';
import { createCgroupManager } from './create-manager.js';
import { detectCgroupLayoutSync, type CgroupLayout } from './detect.js';
import { compileDeviceFilter, type DeviceFilter } from './device-filter.js';
import { containerCgroupPath, DEFAULT_CGROUP_PARENT, parseProcCgroup } from './paths.js';
import type { ApplyResult, CgroupManager } from './types.js';

/** One container's cgroups, made by CgroupDriver.create or reopened by CgroupDriver.open. */
export interface ContainerCgroups {
  readonly manager: CgroupManager;
  /** Where the helper puts the container's process before it runs its first instruction. */
  readonly placement: {
    /** v2: clone3(CLONE_INTO_CGROUP) into this directory (then no procs writes are needed). */
    cloneInto?: string;
    /** v1 and hybrid: the cgroup.procs files the pid is written to while the child waits. */
    procs?: string[];
    /** The container's directories, deepest first, to rmdir if chrun dies before it. */
    cleanup?: string[];
    /**
     * Then the default parent (/chrun) in each hierarchy: rmdir once, without retrying, as it
     * is busy (EBUSY) for as long as other containers use it. Empty under a user's parent.
     */
    cleanupParents?: string[];
  };
  /** Every directory made for the container: record these to open() it later. */
  readonly paths: string[];
  /** What create() wrote, what it could not honour, and device rules left to the runtime. */
  readonly applied: ApplyResult;
  /**
   * cgroup v2 only: the device rules compiled into the eBPF program the helper must load
   * (bpf BPF_PROG_LOAD, BPF_PROG_TYPE_CGROUP_DEVICE, license filter.license) and attach to
   * `cgroup` (BPF_PROG_ATTACH, BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI) before the container
   * runs; test/fixtures/bpf-device-loader.c does exactly that. Undefined where the v1
   * devices controller enforces the rules.
   */
  readonly deviceFilter?: { cgroup: string; filter: DeviceFilter };
  /** True when the kernel OOM-killed a process of the container; read it before destroy(). */
  oomKilled(): Promise<boolean>;
  /** Kills what is left and removes the directories (and the default parent once empty). */
  destroy(): Promise<void>;
}

export interface CgroupDriverOptions {
  /** Default: the host's, read from /proc/self/mountinfo on first use. */
  layout?: CgroupLayout;
  fs?: CgroupFs;
  /** The parent of containers without linux.cgroupsPath (--cgroup-parent); default /chrun. */
  parent?: string;
  /** /proc/self/cgroup text, for relative cgroup paths; default read on demand. */
  procSelfCgroup?: string;
}

/**
 * The cgroups of containers from their OCI specs: the runtime's side of src/cgroups. Its
 * shape is src/runtime's CgroupDriver.
 */
export class CgroupDriver {
  private layoutCache: CgroupLayout | undefined;

  constructor(private readonly opts: CgroupDriverOptions = {}) {
    this.layoutCache = opts.layout;
  }

  get layout(): CgroupLayout {
    this.layoutCache ??= detectCgroupLayoutSync();
    return this.layoutCache;
  }

  /**
   * Creates the container's cgroup at spec.linux.cgroupsPath (default PARENT/ID) and applies
   * spec.linux.resources. Removes what it made if a limit is refused. On v1 (and hybrid)
   * hosts only the hierarchies the limits need get a directory (CgroupManagerOptions.only).
   */
  async create(id: string, spec: Spec): Promise<ContainerCgroups> {
    const cgPath = containerCgroupPath(
      id,
      spec.linux?.cgroupsPath,
      this.opts.parent ?? DEFAULT_CGROUP_PARENT,
    );
    const resources = spec.linux?.resources ?? {};
    const manager = createCgroupManager({
      layout: this.layout,
      path: cgPath,
      fs: this.opts.fs,
      only: resources,
      own: cgPath.startsWith('/')
        ? undefined
        : parseProcCgroup(this.opts.procSelfCgroup ?? readFileSync('/proc/self/cgroup', 'utf8')),
    });
    manager.create(resources);
    let applied: ApplyResult;
    try {
      applied = manager.apply(resources);
    } catch (err) {
      await manager.destroy().catch(() => undefined);
      throw err;
    }
    return this.wrap(manager, applied);
  }

  /** The cgroups of an existing container, from the paths recorded at create. */
  open(paths: string[]): ContainerCgroups {
    const first = paths[0] ?? '';
    const mount = [this.layout.unified, ...Object.values(this.layout.v1)].find(
      (m) => m !== undefined && first.startsWith(`${m}/`),
    );
    const cgPath = mount === undefined ? first : first.slice(mount.length);
    const manager = createCgroupManager({
      layout: this.layout,
      path: cgPath,
      fs: this.opts.fs,
      dirs: paths,
    });
    return this.wrap(manager, { writes: [], warnings: [], unenforcedDevices: [] });
  }

  /** The host's hierarchies, for a container's own /sys/fs/cgroup: v1 mount names and options. */
  mounts(): { mode: CgroupLayout['mode']; v1: { name: string; options: string }[] } {
    const byMount = new Map<string, string[]>();
    for (const [controller, mount] of Object.entries(this.layout.v1)) {
      byMount.set(mount, [...(byMount.get(mount) ?? []), controller]);
    }
    return {
      mode: this.layout.mode,
      v1: [...byMount].map(([mount, controllers]) => ({
        name: path.basename(mount),
        options: controllers.join(','),
      })),
    };
  }

  private wrap(manager: CgroupManager, applied: ApplyResult): ContainerCgroups {
    const placement = manager.placement();
    const dirs = [...manager.dirs];
    const v2Dir = placement.cloneInto;
    const deviceFilter =
      applied.unenforcedDevices.length > 0 && v2Dir !== undefined
        ? { cgroup: v2Dir, filter: compileDeviceFilter(applied.unenforcedDevices) }
        : undefined;
    return {
      manager,
      ...(deviceFilter !== undefined ? { deviceFilter } : {}),
      placement: {
        ...(placement.cloneInto !== undefined
          ? { cloneInto: placement.cloneInto }
          : { procs: placement.procsFiles }),
        cleanup: [...dirs].sort((a, b) => b.split('/').length - a.split('/').length),
        cleanupParents: manager.parentDirs(),
      },
      paths: dirs,
      applied,
      // A cgroup already gone reads as not OOM-killed: nothing can say it was.
      oomKilled: () => Promise.resolve(manager.oomKilled()),
      destroy: () => manager.destroy(),
    };
  }
}
