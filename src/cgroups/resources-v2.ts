import type {
  LinuxBlockIO,
  LinuxCPU,
  LinuxMemory,
  LinuxResources,
  LinuxThrottleDevice,
} from '../oci/index.js';
import { ChrunError } from '../util/index.js';
import type { ControlFiles } from './control.js';
import { blkioWeightToIoWeight, cpuSharesToWeight, memorySwapToV2, v2Limit } from './convert.js';
import type { ResourceGroup } from './groups.js';
import { applySharedGroup } from './resources-shared.js';

/** Writes one resource group into a v2 cgroup directory. */
export function applyV2(
  c: ControlFiles,
  group: ResourceGroup,
  dir: string,
  r: LinuxResources,
): void {
  if (applySharedGroup(c, group, dir, r, (size) => `hugetlb.${size}.max`)) return;
  switch (group) {
    case 'memory':
      if (r.memory) v2Memory(c, dir, r.memory);
      return;
    case 'cpu':
      if (r.cpu) v2Cpu(c, dir, r.cpu);
      return;
    case 'io':
      if (r.blockIO) v2Io(c, dir, r.blockIO);
      return;
    case 'devices':
    case 'net_cls':
    case 'net_prio':
      return; // no v2 files: the manager reports devices as unenforced, net_* as discarded
  }
}

/** linux.resources.unified: raw v2 key/values, written as they are. */
export function applyUnified(c: ControlFiles, dir: string, unified: Record<string, string>): void {
  for (const [key, value] of Object.entries(unified)) {
    if (key.includes('/') || !key.includes('.') || key.startsWith('cgroup.')) {
      throw new ChrunError(
        'CHRUN_INVALID_ARGUMENT',
        `invalid unified resource "${key}": want a controller file such as memory.high`,
      );
    }
    c.write(dir, key, value, `set ${key}`);
  }
}

function v2Memory(c: ControlFiles, dir: string, m: LinuxMemory): void {
  const limit = m.limit ?? 0;
  let swap: number;
  try {
    swap = memorySwapToV2(m.swap ?? 0, limit);
  } catch (err) {
    throw new ChrunError(
      'CHRUN_INVALID_ARGUMENT',
      `set memory+swap limit: ${(err as Error).message}`,
    );
  }
  let swapValue = v2Limit(swap);
  // memory == memory+swap: no swap at all.
  if (swapValue === undefined && swap === 0 && (m.swap ?? 0) > 0) swapValue = '0';
  if (swapValue !== undefined) {
    if (c.has(dir, 'memory.swap.max')) {
      c.write(dir, 'memory.swap.max', swapValue, 'set swap limit');
    } else if (swapValue !== 'max') {
      c.warn(
        'your kernel does not support swap limit capabilities or the cgroup is not mounted; memory limited without swap',
      );
    }
  }
  const max = v2Limit(limit);
  if (max !== undefined) c.write(dir, 'memory.max', max, 'set memory limit');
  const low = v2Limit(m.reservation);
  if (low !== undefined) c.write(dir, 'memory.low', low, 'set memory reservation');
  if (m.swappiness !== undefined && m.swappiness !== -1) {
    c.warn('memory swappiness is not supported by cgroup v2; discarded');
  }
  if (m.disableOOMKiller === true) {
    c.warn('disabling the OOM killer is not supported by cgroup v2; discarded');
  }
  if (m.kernel !== undefined || m.kernelTCP !== undefined) {
    c.warn('kernel memory limits are deprecated by the kernel and ignored');
  }
}

function v2Cpu(c: ControlFiles, dir: string, cpu: LinuxCPU): void {
  if (cpu.realtimePeriod || cpu.realtimeRuntime) {
    throw new ChrunError(
      'CHRUN_UNSUPPORTED',
      'set cpu realtime limits: not supported by cgroup v2',
    );
  }
  if (cpu.shares !== undefined && cpu.shares !== 0) {
    c.write(dir, 'cpu.weight', String(cpuSharesToWeight(cpu.shares)), 'set cpu weight');
  }
  if (cpu.idle !== undefined) c.write(dir, 'cpu.idle', String(cpu.idle), 'set cpu idle');
  const quota = cpu.quota ?? 0;
  const period = cpu.period ?? 0;
  if (quota !== 0 || period !== 0) {
    // cpu.max is "QUOTA PERIOD"; quota -1 (or unset) is "max". A lone period keeps no limit.
    const q = quota > 0 ? String(quota) : 'max';
    c.write(dir, 'cpu.max', period !== 0 ? `${q} ${period}` : q, 'set cpu quota');
  }
  if (cpu.burst !== undefined) c.write(dir, 'cpu.max.burst', String(cpu.burst), 'set cpu burst');
}

function v2Io(c: ControlFiles, dir: string, b: LinuxBlockIO): void {
  const weightFile = c.has(dir, 'io.weight')
    ? 'io.weight'
    : c.has(dir, 'io.bfq.weight')
      ? 'io.bfq.weight'
      : undefined;
  const bfq = weightFile === 'io.bfq.weight';
  // io.bfq.weight takes the v1 range [1, 1000]; io.weight the v2 range [1, 10000].
  const weight = (w: number): number => (bfq ? w : blkioWeightToIoWeight(w));
  if (b.weight !== undefined && b.weight !== 0) {
    if (weightFile === undefined) {
      c.warn(
        'your kernel does not support block i/o weight or the cgroup is not mounted; weight discarded',
      );
    } else {
      c.write(dir, weightFile, String(weight(b.weight)), 'set io weight');
    }
  }
  for (const d of b.weightDevice ?? []) {
    if (d.weight === undefined) continue;
    if (weightFile === undefined) {
      c.warn(
        'your kernel does not support block i/o weight or the cgroup is not mounted; weight discarded',
      );
      continue;
    }
    c.write(dir, weightFile, `${d.major}:${d.minor} ${weight(d.weight)}`, 'set io device weight');
  }
  const limits: [LinuxThrottleDevice[] | undefined, string][] = [
    [b.throttleReadBpsDevice, 'rbps'],
    [b.throttleWriteBpsDevice, 'wbps'],
    [b.throttleReadIOPSDevice, 'riops'],
    [b.throttleWriteIOPSDevice, 'wiops'],
  ];
  for (const [list, key] of limits) {
    for (const d of list ?? []) {
      const rate = d.rate === 0 ? 'max' : String(d.rate);
      c.write(dir, 'io.max', `${d.major}:${d.minor} ${key}=${rate}`, `set io ${key} limit`);
    }
  }
}
