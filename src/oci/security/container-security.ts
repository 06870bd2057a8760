import type {
  LinuxCapabilities,
  LinuxDevice,
  LinuxDeviceCgroup,
  LinuxSeccomp,
  Spec,
} from '../runtime-spec.js';
import { processCapabilities, resolveCapabilities } from './capabilities.js';
import { DEFAULT_DEVICE_RULES, DEFAULT_DEVICES, PRIVILEGED_DEVICE_RULES } from './devices.js';
import { MASKED_PATHS, READONLY_PATHS } from './linux-paths.js';
import { DOCKER_DEFAULT_SECCOMP } from './seccomp-default.js';
import { resolveSeccompProfile, type DockerSeccompProfile } from './seccomp-profile.js';

export interface ContainerSecurityOptions {
  privileged?: boolean;
  capAdd?: readonly string[];
  capDrop?: readonly string[];
  /** What the host can grant (boundingSetFromStatus of /proc/self/status). Default: all. */
  availableCapabilities?: readonly string[];
  /** The container process's uid: non-root users get capabilities in the bounding set only. */
  uid?: number;
  /**
   * default: docker's profile; unconfined: none; profile: a parsed PROFILE.json (undefined
   * when the file itself turns seccomp off).
   */
  seccomp?:
    | { kind: 'default' }
    | { kind: 'unconfined' }
    | { kind: 'profile'; profile: DockerSeccompProfile | undefined };
  noNewPrivileges?: boolean;
  /** Docker's architecture name (seccompNativeArch()) and os.release(), for the profile. */
  arch?: string;
  kernel?: string;
  /** Devices of the host for --privileged (found by the caller in /dev); default none. */
  hostDevices?: readonly LinuxDevice[];
}

/** Everything security-related the spec of one container gets. */
export interface ContainerSecurity {
  capabilities: string[];
  processCapabilities: LinuxCapabilities;
  /** undefined: no filter (unconfined, or --privileged). */
  seccomp: LinuxSeccomp | undefined;
  noNewPrivileges: boolean;
  maskedPaths: string[];
  readonlyPaths: string[];
  /** Device nodes to create in /dev. */
  devices: LinuxDevice[];
  /** linux.resources.devices. */
  deviceRules: LinuxDeviceCgroup[];
  /** /sys is mounted read-only (rw with --privileged). */
  sysfsReadonly: boolean;
}

/**
 * Docker's defaults for a container, and their --privileged variants: all available
 * capabilities, no seccomp, nothing masked or read-only, every device, /sys writable.
 * no_new_privs is on by default (the full isolation), off with --privileged.
 */
export function containerSecurity(opts: ContainerSecurityOptions = {}): ContainerSecurity {
  const privileged = opts.privileged === true;
  const capabilities = resolveCapabilities({
    add: opts.capAdd,
    drop: opts.capDrop,
    privileged,
    available: opts.availableCapabilities,
  });
  const choice = opts.seccomp ?? { kind: 'default' };
  let seccomp: LinuxSeccomp | undefined;
  if (!privileged && choice.kind !== 'unconfined') {
    const profile = choice.kind === 'default' ? DOCKER_DEFAULT_SECCOMP : choice.profile;
    seccomp =
      profile === undefined
        ? undefined
        : resolveSeccompProfile(profile, { capabilities, arch: opts.arch, kernel: opts.kernel });
  }
  return {
    capabilities,
    processCapabilities: processCapabilities(capabilities, opts.uid ?? 0),
    seccomp,
    noNewPrivileges: opts.noNewPrivileges ?? !privileged,
    maskedPaths: privileged ? [] : [...MASKED_PATHS],
    readonlyPaths: privileged ? [] : [...READONLY_PATHS],
    devices: privileged ? [...(opts.hostDevices ?? DEFAULT_DEVICES)] : [...DEFAULT_DEVICES],
    deviceRules: privileged ? [...PRIVILEGED_DEVICE_RULES] : [...DEFAULT_DEVICE_RULES],
    sysfsReadonly: !privileged,
  };
}

/**
 * A copy of `spec` with `sec` applied: process capabilities and no_new_privs, linux seccomp,
 * masked and read-only paths, devices, device rules (before any the spec already has), and
 * the /sys mount's ro/rw option.
 */
export function applyContainerSecurity(spec: Spec, sec: ContainerSecurity): Spec {
  const linux = { ...spec.linux };
  const out: Spec = { ...spec, linux };
  if (spec.process !== undefined) {
    out.process = {
      ...spec.process,
      capabilities: sec.processCapabilities,
      noNewPrivileges: sec.noNewPrivileges,
    };
  }
  if (sec.seccomp === undefined) delete linux.seccomp;
  else linux.seccomp = sec.seccomp;
  linux.maskedPaths = [...sec.maskedPaths];
  linux.readonlyPaths = [...sec.readonlyPaths];
  linux.devices = [...sec.devices];
  linux.resources = {
    ...linux.resources,
    devices: [...sec.deviceRules, ...(spec.linux?.resources?.devices ?? [])],
  };
  if (spec.mounts !== undefined) {
    out.mounts = spec.mounts.map((m) => {
      if (m.destination !== '/sys' || m.type !== 'sysfs') return m;
      const options = (m.options ?? []).filter((o) => o !== 'ro' && o !== 'rw');
      return { ...m, options: [sec.sysfsReadonly ? 'ro' : 'rw', ...options] };
    });
  }
  return out;
}
