import path from 'node:path';
import type { CgroupLayout } from './detect.js';
import { BaseCgroupManager, type CgroupManagerOptions } from './manager.js';
import { hierarchyDir } from './paths.js';
import type { CgroupPlacement } from './types.js';
import { v1Hierarchies } from './v1-hierarchies.js';

/**
 * Hybrid: v1 controllers plus a v2 mount (systemd's /sys/fs/cgroup/unified). As in runc and
 * crun, every controller mounted on v1 is driven through v1, and the container also gets a
 * directory in the unified hierarchy, which tracks its processes: that lets SIGKILL use
 * cgroup.kill and freezing use cgroup.freeze (both core v2 files, no controller needed).
 * Beyond runc, a controller that only the unified root offers (hugetlb on this host) is
 * driven there, with v2 files, and enabled down the unified tree when the limits need it.
 */
export class HybridCgroupManager extends BaseCgroupManager {
  readonly mode = 'hybrid' as const;

  constructor(opts: CgroupManagerOptions & { layout: CgroupLayout; unified: string }) {
    super(opts, [
      ...v1Hierarchies(opts.layout, opts.path, opts.own),
      {
        kind: 'v2',
        mount: opts.unified,
        controllers: [],
        dir: hierarchyDir(opts.unified, [], opts.path, opts.own),
      },
    ]);
  }

  placement(): CgroupPlacement {
    return {
      cloneInto: undefined,
      procsFiles: this.dirs.map((d) => path.posix.join(d, 'cgroup.procs')),
    };
  }

  protected tracking(): string {
    const h = this.unified() ?? this.v1('pids') ?? this.v1('freezer') ?? this.hierarchies[0];
    return h!.dir;
  }
}
