import { ChrunError } from '../util/index.js';
import { HybridCgroupManager } from './hybrid-manager.js';
import type { CgroupManagerOptions } from './manager.js';
import type { CgroupManager } from './types.js';
import { V1CgroupManager } from './v1-manager.js';
import { V2CgroupManager } from './v2-manager.js';

/** The manager for the host's layout (detectCgroupLayout) and a container's cgroup path. */
export function createCgroupManager(opts: CgroupManagerOptions): CgroupManager {
  const { layout } = opts;
  switch (layout.mode) {
    case 'v2':
      return new V2CgroupManager({ ...opts, unified: layout.unified! });
    case 'v1':
      return new V1CgroupManager(opts);
    case 'hybrid':
      return new HybridCgroupManager({ ...opts, unified: layout.unified! });
    case 'none':
      throw new ChrunError(
        'CHRUN_UNSUPPORTED',
        'create cgroup: no cgroup hierarchy is mounted on this host',
      );
  }
}
