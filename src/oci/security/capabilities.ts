import { ChrunError } from '../../util/index.js';
import type { LinuxCapabilities } from '../runtime-spec.js';

/** Every capability the kernel defines, indexed by its number (linux/capability.h). */
export const CAPABILITIES: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
];

/** Docker's default set (moby oci/caps/defaults.go), in docker's order. */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

/** The number of a capability name ("CAP_SYS_ADMIN" -> 21), or undefined. */
export function capabilityNumber(name: string): number | undefined {
  const i = CAPABILITIES.indexOf(name);
  return i < 0 ? undefined : i;
}

/** The bit mask of a list of capability names, for capset(2) and PR_CAPBSET_DROP. */
export function capabilityMask(names: readonly string[]): bigint {
  let mask = 0n;
  for (const name of names) {
    const n = capabilityNumber(name);
    if (n === undefined)
      throw new ChrunError('CHRUN_INVALID_ARGUMENT', `unknown capability: "${name}"`);
    mask |= 1n << BigInt(n);
  }
  return mask;
}

/**
 * The names in a capability mask, as /proc/PID/status prints it ("CapBnd:\t000001fffeffffff").
 * Bits beyond the capabilities we know are ignored.
 */
export function capabilitiesFromMask(mask: bigint | string): string[] {
  const m = typeof mask === 'string' ? BigInt(`0x${mask.trim()}`) : mask;
  return CAPABILITIES.filter((_, i) => (m >> BigInt(i)) & 1n);
}

/** The bounding set in /proc/self/status text: what this process (and its children) can hold. */
export function boundingSetFromStatus(status: string): string[] {
  const m = /^CapBnd:\s*([0-9a-fA-F]+)\s*$/m.exec(status);
  if (m === null)
    throw new ChrunError(
      'CHRUN_INTERNAL',
      'read capabilities: no CapBnd line in /proc/self/status',
    );
  return capabilitiesFromMask(m[1]!);
}

/**
 * Docker's NormalizeLegacyCapabilities: upper-cased, "CAP_" added, "ALL" kept; unknown names
 * and names the host cannot grant (outside `available`) are errors with docker's words.
 */
export function normalizeCapabilities(
  names: readonly string[],
  available: readonly string[] = CAPABILITIES,
): string[] {
  return names.map((raw) => {
    let c = raw.trim().toUpperCase();
    if (c === 'ALL') return c;
    if (!c.startsWith('CAP_')) c = `CAP_${c}`;
    if (!CAPABILITIES.includes(c)) {
      throw new ChrunError('CHRUN_INVALID_ARGUMENT', `unknown capability: "${c}"`);
    }
    if (!available.includes(c)) {
      throw new ChrunError(
        'CHRUN_INVALID_ARGUMENT',
        `capability not supported by your kernel or not available in the current environment: "${c}"`,
      );
    }
    return c;
  });
}

export interface CapabilityOptions {
  add?: readonly string[];
  drop?: readonly string[];
  privileged?: boolean;
  /** What the host can grant: the runtime's own bounding set. Default: every capability. */
  available?: readonly string[];
  /** Start from these instead of docker's defaults. */
  base?: readonly string[];
}

/**
 * Docker's TweakCapabilities: --privileged gets everything available; --cap-add ALL gets
 * everything but the drops; --cap-drop ALL keeps only the adds; otherwise the defaults minus
 * the drops plus the adds. Returns the list in capability-number order, without duplicates.
 */
export function resolveCapabilities(opts: CapabilityOptions = {}): string[] {
  const available = opts.available ?? CAPABILITIES;
  const known = (list: readonly string[]): string[] => CAPABILITIES.filter((c) => list.includes(c));
  if (opts.privileged === true) return known(available);
  const base = opts.base ?? DEFAULT_CAPABILITIES;
  const drop = normalizeCapabilities(opts.drop ?? [], available);
  const add = normalizeCapabilities(opts.add ?? [], available);
  let caps: string[];
  if (add.includes('ALL')) caps = available.filter((c) => !drop.includes(c));
  else if (drop.includes('ALL')) caps = add;
  else caps = [...base.filter((c) => !drop.includes(c)), ...add];
  // The defaults too stay within what the host can grant (a nested container may lack some).
  return known(caps.filter((c) => c !== 'ALL' && available.includes(c)));
}

/**
 * The OCI capability sets for a process, as docker's SetCapabilities: root gets them
 * effective and permitted; any other user only keeps them in the bounding set, as execve
 * would leave a non-root process. Inheritable and ambient stay empty (CVE-2022-24769).
 */
export function processCapabilities(caps: readonly string[], uid: number): LinuxCapabilities {
  const list = [...caps];
  if (uid === 0) return { bounding: list, effective: [...list], permitted: [...list] };
  return { bounding: list };
}
