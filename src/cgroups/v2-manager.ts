import path from 'node:path';
import { hierarchyDir } from './paths.js';
import { BaseCgroupManager, type CgroupManagerOptions } from './manager.js';
import type { CgroupPlacement } from './types.js';

/**
 * cgroup v2 (unified): one hierarchy, controllers handed down through cgroup.subtree_control,
 * the child born inside its cgroup with clone3(CLONE_INTO_CGROUP).
 */
export class V2CgroupManager extends BaseCgroupManager {
  readonly mode = 'v2' as const;

  constructor(opts: CgroupManagerOptions & { unified: string }) {
    super(opts, [
      {
        kind: 'v2',
        mount: opts.unified,
        controllers: [],
        dir: hierarchyDir(opts.unified, [], opts.path, opts.own),
      },
    ]);
  }

  protected override baseV2Controllers(): string[] {
    return ['memory', 'pids'];
  }

  placement(): CgroupPlacement {
    const dir = this.dirs[0]!;
    return { cloneInto: dir, procsFiles: [path.posix.join(dir, 'cgroup.procs')] };
  }

  protected tracking(): string {
    return this.dirs[0]!;
  }
}
