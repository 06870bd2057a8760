import type {
  LinuxBlockIO,
  LinuxCPU,
  LinuxDeviceCgroup,
  LinuxMemory,
  LinuxResources,
  LinuxThrottleDevice,
} from '../oci/index.js';
import { ChrunError } from '../util/index.js';
import type { ControlFiles } from './control.js';
import type { ResourceGroup } from './groups.js';
import { applySharedGroup } from './resources-shared.js';

/** Writes one resource group into its v1 hierarchy directory. */
export function applyV1(
  c: ControlFiles,
  group: ResourceGroup,
  dir: string,
  r: LinuxResources,
): void {
  if (applySharedGroup(c, group, dir, r, (size) => `hugetlb.${size}.limit_in_bytes`)) return;
  switch (group) {
    case 'memory':
      if (r.memory) v1Memory(c, dir, r.memory);
      return;
    case 'cpu':
      if (r.cpu) v1Cpu(c, dir, r.cpu);
      return;
    case 'io':
      if (r.blockIO) v1Blkio(c, dir, r.blockIO);
      return;
    case 'devices':
      v1Devices(c, dir, r.devices ?? []);
      return;
    case 'net_cls':
      c.write(dir, 'net_cls.classid', String(r.network?.classID), 'set net_cls classid');
      return;
    case 'net_prio':
      for (const p of r.network?.priorities ?? []) {
        c.write(dir, 'net_prio.ifpriomap', `${p.name} ${p.priority}`, 'set net_prio priority');
      }
      return;
  }
}

function v1Memory(c: ControlFiles, dir: string, m: LinuxMemory): void {
  const limit = m.limit ?? 0;
  let swap = m.swap ?? 0;
  const hasSwap = c.has(dir, 'memory.memsw.limit_in_bytes');
  if (!hasSwap) {
    // No swap accounting (CONFIG_MEMCG_SWAP off or swapaccount=0): like docker, limit memory
    // alone and say so, unless the caller asked for unlimited swap anyway.
    if (swap > 0) {
      c.warn(
        'your kernel does not support swap limit capabilities or the cgroup is not mounted; memory limited without swap',
      );
    }
    swap = 0;
  } else if (limit === -1 && swap === 0) {
    swap = -1;
  }
  const setMemory = (): void => {
    if (limit === 0) return;
    const err = c.tryWrite(dir, 'memory.limit_in_bytes', String(limit));
    if (err === undefined) return;
    if (err === 'EBUSY') {
      const usage = c.readNumber(dir, 'memory.usage_in_bytes');
      const peak = c.readNumber(dir, 'memory.max_usage_in_bytes');
      throw new ChrunError(
        'CHRUN_CGROUP_FAILED',
        `set memory limit: unable to set memory limit to ${limit} (current usage: ${usage}, peak usage: ${peak})`,
      );
    }
    c.write(dir, 'memory.limit_in_bytes', String(limit), 'set memory limit');
  };
  const setSwap = (): void => {
    if (swap !== 0)
      c.write(dir, 'memory.memsw.limit_in_bytes', String(swap), 'set memory+swap limit');
  };
  // The kernel wants memory <= memory+swap at every step, so the order depends on where the
  // limits are now (runc's setMemoryAndSwap).
  if (
    limit !== 0 &&
    swap !== 0 &&
    (swap === -1 || c.readNumber(dir, 'memory.limit_in_bytes') < swap)
  ) {
    setSwap();
    setMemory();
  } else {
    setMemory();
    setSwap();
  }
  if (m.reservation !== undefined && m.reservation !== 0) {
    c.write(dir, 'memory.soft_limit_in_bytes', String(m.reservation), 'set memory reservation');
  }
  if (m.disableOOMKiller === true)
    c.write(dir, 'memory.oom_control', '1', 'disable the OOM killer');
  if (m.swappiness !== undefined && m.swappiness !== -1) {
    if (m.swappiness < 0 || m.swappiness > 100) {
      throw new ChrunError(
        'CHRUN_INVALID_ARGUMENT',
        `invalid memory swappiness ${m.swappiness}: the range is 0-100`,
      );
    }
    c.write(dir, 'memory.swappiness', String(m.swappiness), 'set memory swappiness');
  }
  if (m.kernel !== undefined || m.kernelTCP !== undefined) {
    c.warn('kernel memory limits are deprecated by the kernel and ignored');
  }
}

function v1Cpu(c: ControlFiles, dir: string, cpu: LinuxCPU): void {
  if (cpu.shares !== undefined && cpu.shares !== 0) {
    c.write(dir, 'cpu.shares', String(cpu.shares), 'set cpu shares');
    // The kernel clamps shares to [2, 262144]; tell the user rather than run with another value.
    const got = c.readNumber(dir, 'cpu.shares');
    if (got !== cpu.shares) {
      const bound =
        cpu.shares > got
          ? `maximum allowed cpu-shares is ${got}`
          : `minimum allowed cpu-shares is ${got}`;
      throw new ChrunError('CHRUN_INVALID_ARGUMENT', `set cpu shares ${cpu.shares}: the ${bound}`);
    }
  }
  const period = cpu.period ?? 0;
  const quota = cpu.quota ?? 0;
  if (period !== 0) {
    // A new period can be refused while the old quota does not fit it: then quota first.
    const err = c.tryWrite(dir, 'cpu.cfs_period_us', String(period));
    if (err === 'EINVAL' && quota !== 0) {
      c.write(dir, 'cpu.cfs_quota_us', String(quota), 'set cpu quota');
      c.write(dir, 'cpu.cfs_period_us', String(period), 'set cpu period');
    } else if (err !== undefined) {
      c.write(dir, 'cpu.cfs_period_us', String(period), 'set cpu period');
    } else if (quota !== 0) {
      c.write(dir, 'cpu.cfs_quota_us', String(quota), 'set cpu quota');
    }
  } else if (quota !== 0) {
    c.write(dir, 'cpu.cfs_quota_us', String(quota), 'set cpu quota');
  }
  if (cpu.burst !== undefined) c.write(dir, 'cpu.cfs_burst_us', String(cpu.burst), 'set cpu burst');
  if (cpu.realtimePeriod !== undefined && cpu.realtimePeriod !== 0) {
    c.write(dir, 'cpu.rt_period_us', String(cpu.realtimePeriod), 'set cpu realtime period');
  }
  if (cpu.realtimeRuntime !== undefined && cpu.realtimeRuntime !== 0) {
    c.write(dir, 'cpu.rt_runtime_us', String(cpu.realtimeRuntime), 'set cpu realtime runtime');
  }
  if (cpu.idle !== undefined) c.write(dir, 'cpu.idle', String(cpu.idle), 'set cpu idle');
}

function v1Blkio(c: ControlFiles, dir: string, b: LinuxBlockIO): void {
  // CFQ's files, or BFQ's where the kernel has only BFQ (no CFQ since 5.0).
  const weightFile = c.has(dir, 'blkio.weight')
    ? 'blkio.weight'
    : c.has(dir, 'blkio.bfq.weight')
      ? 'blkio.bfq.weight'
      : undefined;
  const weighted =
    (b.weight !== undefined && b.weight !== 0) ||
    (b.leafWeight !== undefined && b.leafWeight !== 0) ||
    (b.weightDevice?.length ?? 0) > 0;
  if (weighted && weightFile === undefined) {
    c.warn(
      'your kernel does not support block i/o weight or the cgroup is not mounted; weight discarded',
    );
  } else if (weightFile !== undefined) {
    if (b.weight !== undefined && b.weight !== 0)
      c.write(dir, weightFile, String(b.weight), 'set blkio weight');
    if (b.leafWeight !== undefined && b.leafWeight !== 0) {
      c.write(dir, 'blkio.leaf_weight', String(b.leafWeight), 'set blkio leaf weight');
    }
    for (const d of b.weightDevice ?? []) {
      if (d.weight !== undefined) {
        c.write(
          dir,
          `${weightFile}_device`,
          `${d.major}:${d.minor} ${d.weight}`,
          'set blkio device weight',
        );
      }
      if (d.leafWeight !== undefined) {
        c.write(
          dir,
          'blkio.leaf_weight_device',
          `${d.major}:${d.minor} ${d.leafWeight}`,
          'set blkio device leaf weight',
        );
      }
    }
  }
  const throttle = (name: string, list: LinuxThrottleDevice[] | undefined): void => {
    for (const d of list ?? [])
      c.write(dir, name, `${d.major}:${d.minor} ${d.rate}`, `set ${name}`);
  };
  throttle('blkio.throttle.read_bps_device', b.throttleReadBpsDevice);
  throttle('blkio.throttle.write_bps_device', b.throttleWriteBpsDevice);
  throttle('blkio.throttle.read_iops_device', b.throttleReadIOPSDevice);
  throttle('blkio.throttle.write_iops_device', b.throttleWriteIOPSDevice);
}

/** One OCI device rule in the devices.allow/deny syntax: "c 1:3 rwm", or "a" for all. */
export function deviceRuleV1(rule: LinuxDeviceCgroup): string {
  const type = rule.type ?? 'a';
  const access = rule.access ?? 'rwm';
  if (!/^[abc]$/.test(type)) {
    throw new ChrunError(
      'CHRUN_INVALID_ARGUMENT',
      `invalid device rule type "${type}": want a, b or c`,
    );
  }
  if (!/^[rwm]{1,3}$/.test(access)) {
    throw new ChrunError(
      'CHRUN_INVALID_ARGUMENT',
      `invalid device rule access "${access}": want some of r, w, m`,
    );
  }
  const num = (n: number | null | undefined): string =>
    n === undefined || n === null || n < 0 ? '*' : String(n);
  const major = num(rule.major);
  const minor = num(rule.minor);
  // "a *:* rwm" is how the kernel spells "everything"; writing "a" is the same and always valid.
  if (type === 'a' && access.length === 3 && major === '*' && minor === '*') return 'a';
  return `${type} ${major}:${minor} ${access}`;
}

function v1Devices(c: ControlFiles, dir: string, rules: LinuxDeviceCgroup[]): void {
  // In order, as runc does at creation: the usual first rule, "deny a", empties the list.
  // The kernel refuses (EPERM) to allow in a child what its parent denies.
  for (const rule of rules) {
    const line = deviceRuleV1(rule);
    const verb = rule.allow ? 'allow' : 'deny';
    c.write(dir, `devices.${verb}`, line, `${verb} device "${line}"`);
  }
}
