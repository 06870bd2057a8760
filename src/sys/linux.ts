/** Kernel ABI numbers the plan uses (Linux, generic: x86_64, aarch64, riscv64, ...). */
import { CAPABILITIES, RLIMIT_NUMBERS } from '../oci/index.js';

export { CAPABILITIES };

export const CLONE = {
  NEWTIME: 0x80,
  NEWNS: 0x20000,
  NEWCGROUP: 0x02000000,
  NEWUTS: 0x04000000,
  NEWIPC: 0x08000000,
  NEWUSER: 0x10000000,
  NEWPID: 0x20000000,
  NEWNET: 0x40000000,
} as const;

/** setrlimit(2) resource numbers by OCI name (one table, in src/oci). */
export const RLIMIT: Readonly<Record<string, number>> = RLIMIT_NUMBERS;

export const RLIM_INFINITY = 0xffffffffffffffffn;

/** Bit mask of capability names; unknown names are returned in `unknown`. */
export function capMask(names: readonly string[] | undefined): { mask: bigint; unknown: string[] } {
  let mask = 0n;
  const unknown: string[] = [];
  for (const raw of names ?? []) {
    const name = raw.toUpperCase().startsWith('CAP_')
      ? raw.toUpperCase()
      : `CAP_${raw.toUpperCase()}`;
    const bit = CAPABILITIES.indexOf(name);
    if (bit < 0) unknown.push(raw);
    else mask |= 1n << BigInt(bit);
  }
  return { mask, unknown };
}

/** Capability names set in a mask. */
export function capNames(mask: bigint): string[] {
  return CAPABILITIES.filter((_n, i) => (mask >> BigInt(i)) & 1n);
}

export const SIGKILL = 9;
