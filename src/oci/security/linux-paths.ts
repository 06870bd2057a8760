/**
 * Paths of /proc and /sys a container must not read (masked: /dev/null over a file, an empty
 * read-only tmpfs over a directory) or write (bind-mounted read-only over themselves). Docker's
 * current lists (moby daemon/pkg/oci defaults), which extend runc's `runc spec` defaults with
 * /proc/interrupts and /sys/devices/virtual/powercap (CVE-2020-8694, power side channel).
 * A path missing on the host is skipped by the runtime. --privileged uses none of them.
 */
export const MASKED_PATHS: readonly string[] = [
  '/proc/asound',
  '/proc/acpi',
  '/proc/interrupts',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];

export const READONLY_PATHS: readonly string[] = [
  '/proc/bus',
  '/proc/fs',
  '/proc/irq',
  '/proc/sys',
  '/proc/sysrq-trigger',
];
