import { ChrunError } from '../util/index.js';
import type { LinuxResources } from './runtime-spec.js';

/** Docker's resource flags of `run`, as typed by the user. */
export interface ResourceFlags {
  /** --memory, -m: bytes with an optional b, k, m, g (t, p) unit. */
  memory?: string;
  /** --memory-swap: memory plus swap; -1 is unlimited; unset with --memory is twice the memory. */
  memorySwap?: string;
  memoryReservation?: string;
  memorySwappiness?: string | number;
  /** --cpus: a decimal or a fraction of CPUs, e.g. 1.5 or 3/2. */
  cpus?: string;
  cpuShares?: string | number;
  cpuPeriod?: string | number;
  cpuQuota?: string | number;
  cpusetCpus?: string;
  cpusetMems?: string;
  /** --pids-limit: 0 or -1 for unlimited. */
  pidsLimit?: string | number;
  blkioWeight?: string | number;
}

export interface HostResources {
  /** CPUs available (os.availableParallelism()). */
  cpus: number;
}

export interface ResourcesFromFlags {
  resources: LinuxResources;
  /** What was adjusted, in docker's words. */
  warnings: string[];
}

/** Docker's minimum for --memory and --memory-reservation (linuxMinMemory). */
export const MIN_MEMORY = 6 * 1024 * 1024;
const CFS_PERIOD = 100000;
const MIN_SHARES = 2;
const MAX_SHARES = 262144;

const fail = (message: string): ChrunError => new ChrunError('CHRUN_INVALID_ARGUMENT', message);
const flagError = (flag: string, value: string, why: string): ChrunError =>
  fail(`invalid argument "${value}" for "${flag}" flag: ${why}`);

const UNITS: Record<string, number> = {
  '': 1,
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  t: 1024 ** 4,
  p: 1024 ** 5,
};

/** docker/go-units RAMInBytes: "512m", "1.5g", "64MiB", "100" (bytes); binary units. */
export function parseBytes(value: string, flag = '--memory'): number {
  const m = /^(\d+(?:\.\d+)?) ?([kmgtp])?i?b?$/i.exec(value.trim());
  if (m === null) throw flagError(flag, value, `invalid size: '${value}'`);
  return Math.trunc(Number(m[1]) * UNITS[(m[2] ?? '').toLowerCase()]!);
}

function integer(value: string | number | undefined, flag: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const text = String(value).trim();
  if (!/^-?\d+$/.test(text)) throw flagError(flag, text, 'want an integer');
  return Number(text);
}

/**
 * docker's NanoCPUs: a rational number of CPUs times 1e9, exactly ("value is too precise"
 * beyond a nano-CPU).
 */
export function parseNanoCpus(value: string): number {
  const text = value.trim();
  const frac = /^(-?)(\d+)\/(\d+)$/.exec(text);
  if (frac !== null) {
    const num = BigInt(frac[2]!) * 1_000_000_000n;
    const den = BigInt(frac[3]!);
    if (den === 0n)
      throw flagError('--cpus', value, `failed to parse ${value} as a rational number`);
    if (num % den !== 0n) throw flagError('--cpus', value, 'value is too precise');
    return Number(num / den) * (frac[1] === '-' ? -1 : 1);
  }
  const dec = /^(-?)(\d*)(?:\.(\d*))?$/.exec(text);
  if (dec === null || `${dec[2] ?? ''}${dec[3] ?? ''}` === '') {
    throw flagError('--cpus', value, `failed to parse ${value} as a rational number`);
  }
  const fraction = (dec[3] ?? '').replace(/0+$/, '');
  if (fraction.length > 9) throw flagError('--cpus', value, 'value is too precise');
  const nano =
    BigInt(dec[2] === '' ? '0' : dec[2]!) * 1_000_000_000n + BigInt(fraction.padEnd(9, '0'));
  return Number(nano) * (dec[1] === '-' ? -1 : 1);
}

function cpuList(value: string, what: 'cpus' | 'mems', available: number | undefined): string {
  const ids: number[] = [];
  for (const part of value.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (m === null || (m[2] !== undefined && Number(m[2]) < Number(m[1]))) {
      throw fail(`invalid value ${value} for cpuset ${what}`);
    }
    for (let i = Number(m[1]); i <= Number(m[2] ?? m[1]); i++) ids.push(i);
  }
  if (available !== undefined && ids.some((i) => i >= available)) {
    throw fail(
      `requested CPUs are not available - requested ${value}, available: ${available === 1 ? '0' : `0-${available - 1}`}`,
    );
  }
  return value;
}

/**
 * The OCI resources of docker's flags, with the docker daemon's defaults and checks
 * (verifyPlatformContainerResources, adaptContainerSettings) and its error messages.
 */
export function resourcesFromFlags(flags: ResourceFlags, host: HostResources): ResourcesFromFlags {
  const warnings: string[] = [];
  const resources: LinuxResources = {};
  const memory =
    flags.memory === undefined || flags.memory === '' ? 0 : parseBytes(flags.memory, '--memory');
  let swap = 0;
  if (flags.memorySwap !== undefined && flags.memorySwap !== '') {
    swap = flags.memorySwap.trim() === '-1' ? -1 : parseBytes(flags.memorySwap, '--memory-swap');
  }
  const reservation =
    flags.memoryReservation === undefined || flags.memoryReservation === ''
      ? 0
      : parseBytes(flags.memoryReservation, '--memory-reservation');
  const swappiness = integer(flags.memorySwappiness, '--memory-swappiness');

  if (memory !== 0 && memory < MIN_MEMORY) throw fail('minimum memory limit allowed is 6MB');
  if (memory > 0 && swap === 0) swap = memory * 2; // docker: swap defaults to as much as memory
  if (memory > 0 && swap > 0 && swap < memory) {
    throw fail('minimum memoryswap limit should be larger than memory limit, see usage');
  }
  if (memory === 0 && swap > 0) {
    throw fail('you should always set the Memory limit when using Memoryswap limit, see usage');
  }
  if (reservation > 0 && reservation < MIN_MEMORY)
    throw fail('minimum memory reservation allowed is 6MB');
  if (memory > 0 && reservation > memory) {
    throw fail('minimum memory limit can not be less than memory reservation limit, see usage');
  }
  if (swappiness !== undefined && swappiness !== -1 && (swappiness < 0 || swappiness > 100)) {
    throw fail(`invalid value: ${swappiness}, valid memory swappiness range is 0-100`);
  }
  if (
    memory !== 0 ||
    swap !== 0 ||
    reservation !== 0 ||
    (swappiness !== undefined && swappiness !== -1)
  ) {
    resources.memory = {};
    if (memory !== 0) resources.memory.limit = memory;
    if (swap !== 0) resources.memory.swap = swap;
    if (reservation !== 0) resources.memory.reservation = reservation;
    if (swappiness !== undefined && swappiness !== -1) resources.memory.swappiness = swappiness;
  }

  const nano = flags.cpus === undefined || flags.cpus === '' ? 0 : parseNanoCpus(flags.cpus);
  let shares = integer(flags.cpuShares, '--cpu-shares') ?? 0;
  const period = integer(flags.cpuPeriod, '--cpu-period') ?? 0;
  const quota = integer(flags.cpuQuota, '--cpu-quota') ?? 0;
  if (nano > 0 && period > 0)
    throw fail('conflicting options: Nano CPUs and CPU Period cannot both be set');
  if (nano > 0 && quota > 0)
    throw fail('conflicting options: Nano CPUs and CPU Quota cannot both be set');
  const nanoQuota = Math.trunc((nano * CFS_PERIOD) / 1e9);
  if (nano !== 0 && (nano < 0 || nano > host.cpus * 1e9 || nanoQuota < 1000)) {
    throw fail(
      `range of CPUs is from 0.01 to ${host.cpus}.00, as there are only ${host.cpus} CPUs available`,
    );
  }
  if (shares < 0) {
    warnings.push(`changing requested CPUShares of ${shares} to minimum allowed of ${MIN_SHARES}`);
    shares = MIN_SHARES;
  } else if (shares > MAX_SHARES) {
    warnings.push(`changing requested CPUShares of ${shares} to maximum allowed of ${MAX_SHARES}`);
    shares = MAX_SHARES;
  }
  if (period !== 0 && (period < 1000 || period > 1000000)) {
    throw fail(
      'CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)',
    );
  }
  if (quota > 0 && quota < 1000) throw fail('CPU cfs quota can not be less than 1ms (i.e. 1000)');
  const cpus =
    flags.cpusetCpus === undefined || flags.cpusetCpus === ''
      ? undefined
      : cpuList(flags.cpusetCpus, 'cpus', host.cpus);
  const mems =
    flags.cpusetMems === undefined || flags.cpusetMems === ''
      ? undefined
      : cpuList(flags.cpusetMems, 'mems', undefined);
  if (
    nano !== 0 ||
    shares !== 0 ||
    period !== 0 ||
    quota !== 0 ||
    cpus !== undefined ||
    mems !== undefined
  ) {
    resources.cpu = {};
    if (shares !== 0) resources.cpu.shares = shares;
    if (nano !== 0) {
      resources.cpu.quota = nanoQuota;
      resources.cpu.period = CFS_PERIOD;
    }
    if (period !== 0) resources.cpu.period = period;
    if (quota !== 0) resources.cpu.quota = quota;
    if (cpus !== undefined) resources.cpu.cpus = cpus;
    if (mems !== undefined) resources.cpu.mems = mems;
  }

  const pids = integer(flags.pidsLimit, '--pids-limit');
  if (pids !== undefined && pids > 0) resources.pids = { limit: pids };

  const weight = integer(flags.blkioWeight, '--blkio-weight') ?? 0;
  if (weight !== 0) {
    if (weight < 10 || weight > 1000) throw fail('range of blkio weight is from 10 to 1000');
    resources.blockIO = { weight };
  }
  return { resources, warnings };
}
