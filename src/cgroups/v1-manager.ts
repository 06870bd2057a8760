import path from 'node:path';
import type { CgroupLayout } from './detect.js';
import { BaseCgroupManager, type CgroupManagerOptions } from './manager.js';
import type { CgroupPlacement } from './types.js';
import { v1Hierarchies } from './v1-hierarchies.js';

/**
 * cgroup v1: one hierarchy per controller mount (and named ones such as name=systemd, which
 * runc joins too). The parent writes the child's pid into every cgroup.procs while the child
 * waits; killing freezes through the freezer controller so nothing forks away.
 */
export class V1CgroupManager extends BaseCgroupManager {
  readonly mode = 'v1' as const;

  constructor(opts: CgroupManagerOptions & { layout: CgroupLayout }) {
    super(opts, v1Hierarchies(opts.layout, opts.path, opts.own));
  }

  placement(): CgroupPlacement {
    return {
      cloneInto: undefined,
      procsFiles: this.dirs.map((d) => path.posix.join(d, 'cgroup.procs')),
    };
  }

  protected tracking(): string {
    const h = this.v1('pids') ?? this.v1('freezer') ?? this.v1('memory') ?? this.hierarchies[0];
    return h!.dir;
  }
}
