/**
 * The OCI resources are cgroup v1 shaped; these pure conversions give their v2 values,
 * with runc's formulas (opencontainers/cgroups utils.go) so a container gets the same
 * weights under chrun as under runc.
 */

/**
 * cpu.shares [2, 262144] to cpu.weight [1, 10000]: runc's quadratic-in-log2 fit (runc
 * 1.3, opencontainers/cgroups v0.0.5) that maps the default 1024 to the default 100. The
 * older linear formula mapped 1024 to 39 and starved containers next to host services.
 * 0 means unset.
 */
export function cpuSharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  if (shares <= 2) return 1;
  if (shares >= 262144) return 10000;
  const l = Math.log2(shares);
  const exponent = (l * l + 125 * l) / 612 - 7 / 34;
  return Math.ceil(10 ** exponent);
}

/** blkio.weight [10, 1000] to io.weight [1, 10000], linear; 0 means unset. */
export function blkioWeightToIoWeight(weight: number): number {
  if (weight === 0) return 0;
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}

/**
 * OCI memory.swap is memory plus swap (v1 memsw); v2's memory.swap.max is swap alone.
 * Returns the v2 value (-1 for "max", 0 for unset), or throws the reason it cannot.
 */
export function memorySwapToV2(swap: number, memory: number): number {
  if (memory === -1 && swap === 0) return -1; // unlimited memory: unlimited swap too
  if (swap === -1 || swap === 0) return swap;
  if (memory === -1) return swap;
  if (memory === 0) throw new Error('unable to set swap limit without memory limit');
  if (memory < 0) throw new Error(`invalid memory value: ${memory}`);
  if (swap < memory) throw new Error('memory+swap limit should be >= memory limit');
  return swap - memory;
}

/** v2's spelling of a limit: "max" for -1, nothing for 0 (unset). */
export function v2Limit(value: number | undefined): string | undefined {
  if (value === undefined || value === 0) return undefined;
  if (value === -1) return 'max';
  return String(value);
}
