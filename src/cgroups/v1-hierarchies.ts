import type { CgroupLayout } from './detect.js';
import type { Hierarchy } from './manager.js';
import { hierarchyDir, type ProcCgroupEntry } from './paths.js';

/** One Hierarchy per v1 mount (cpu and cpuacct mounted together are one), named ones included. */
export function v1Hierarchies(
  layout: CgroupLayout,
  cgPath: string,
  own?: readonly ProcCgroupEntry[],
): Hierarchy[] {
  const byMount = new Map<string, string[]>();
  for (const [controller, mount] of Object.entries(layout.v1)) {
    const list = byMount.get(mount) ?? [];
    list.push(controller);
    byMount.set(mount, list);
  }
  return [...byMount].map(([mount, controllers]) => ({
    kind: 'v1' as const,
    mount,
    controllers,
    dir: hierarchyDir(mount, controllers, cgPath, own),
  }));
}
