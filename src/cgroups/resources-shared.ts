import type { LinuxResources } from '../oci/index.js';
import { ChrunError } from '../util/index.js';
import type { ControlFiles } from './control.js';
import type { ResourceGroup } from './groups.js';

/**
 * The groups whose files v1 and v2 share (cpuset, pids), and hugetlb, which differs only in
 * its file name (`hugetlbFile`). Returns false for a group it does not handle.
 */
export function applySharedGroup(
  c: ControlFiles,
  group: ResourceGroup,
  dir: string,
  r: LinuxResources,
  hugetlbFile: (pageSize: string) => string,
): boolean {
  switch (group) {
    case 'cpuset':
      if (r.cpu?.cpus) c.write(dir, 'cpuset.cpus', r.cpu.cpus, 'set cpuset cpus');
      if (r.cpu?.mems) c.write(dir, 'cpuset.mems', r.cpu.mems, 'set cpuset mems');
      return true;
    case 'pids':
      if (r.pids)
        c.write(dir, 'pids.max', r.pids.limit > 0 ? String(r.pids.limit) : 'max', 'set pids limit');
      return true;
    case 'hugetlb':
      for (const h of r.hugepageLimits ?? []) {
        const name = hugetlbFile(h.pageSize);
        if (!c.has(dir, name)) {
          throw new ChrunError(
            'CHRUN_CGROUP_FAILED',
            `set hugetlb limit: hugepage size ${h.pageSize} is not supported by this kernel (no ${name})`,
          );
        }
        c.write(dir, name, String(h.limit), `set hugetlb ${h.pageSize} limit`);
      }
      return true;
    default:
      return false;
  }
}
