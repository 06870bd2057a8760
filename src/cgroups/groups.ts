import type { LinuxResources } from '../oci/index.js';

/** The parts of OCI LinuxResources, each handled by one controller. */
export type ResourceGroup =
  'memory' | 'cpu' | 'cpuset' | 'pids' | 'io' | 'hugetlb' | 'devices' | 'net_cls' | 'net_prio';

/** The v1 controller of each group. */
export const V1_CONTROLLER: Record<ResourceGroup, string> = {
  memory: 'memory',
  cpu: 'cpu',
  cpuset: 'cpuset',
  pids: 'pids',
  io: 'blkio',
  hugetlb: 'hugetlb',
  devices: 'devices',
  net_cls: 'net_cls',
  net_prio: 'net_prio',
};

/**
 * The v2 controller of each group. Devices have none (v2 filters devices with an eBPF
 * program), nor do net_cls/net_prio (v2 leaves packet classification to eBPF as well).
 */
export const V2_CONTROLLER: Partial<Record<ResourceGroup, string>> = {
  memory: 'memory',
  cpu: 'cpu',
  cpuset: 'cpuset',
  pids: 'pids',
  io: 'io',
  hugetlb: 'hugetlb',
};

const defined = (...values: unknown[]): boolean => values.some((v) => v !== undefined);

/** The groups `r` sets, in the order they are applied. */
export function groupsOf(r: LinuxResources): ResourceGroup[] {
  const out: ResourceGroup[] = [];
  const m = r.memory;
  if (
    m !== undefined &&
    defined(m.limit, m.swap, m.reservation, m.swappiness, m.disableOOMKiller, m.kernel, m.kernelTCP)
  ) {
    out.push('memory');
  }
  const c = r.cpu;
  if (
    c !== undefined &&
    defined(c.shares, c.quota, c.period, c.burst, c.realtimeRuntime, c.realtimePeriod, c.idle)
  ) {
    out.push('cpu');
  }
  if ((c?.cpus ?? '') !== '' || (c?.mems ?? '') !== '') out.push('cpuset');
  if (r.pids !== undefined && r.pids.limit !== 0) out.push('pids');
  const b = r.blockIO;
  if (
    b !== undefined &&
    (defined(b.weight, b.leafWeight) ||
      [
        b.weightDevice,
        b.throttleReadBpsDevice,
        b.throttleWriteBpsDevice,
        b.throttleReadIOPSDevice,
        b.throttleWriteIOPSDevice,
      ].some((l) => (l?.length ?? 0) > 0))
  ) {
    out.push('io');
  }
  if ((r.hugepageLimits?.length ?? 0) > 0) out.push('hugetlb');
  if ((r.devices?.length ?? 0) > 0) out.push('devices');
  if (r.network?.classID !== undefined) out.push('net_cls');
  if ((r.network?.priorities?.length ?? 0) > 0) out.push('net_prio');
  return out;
}
