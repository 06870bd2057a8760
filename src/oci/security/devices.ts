import type { LinuxDevice, LinuxDeviceCgroup } from '../runtime-spec.js';

const chr = (name: string, major: number, minor: number): LinuxDevice => ({
  path: `/dev/${name}`,
  type: 'c',
  major,
  minor,
  fileMode: 0o666,
  uid: 0,
  gid: 0,
});

/**
 * The device nodes of a default /dev (runtime-spec "default devices", runc's): created by
 * mknod, or bind-mounted from the host where mknod is not allowed. /dev/console is the
 * container's pty (bind-mounted when it has a terminal), /dev/ptmx a link to pts/ptmx of
 * the container's own devpts (see DEFAULT_DEV_SYMLINKS), /dev/pts, /dev/shm and /dev/mqueue
 * are mounts.
 */
export const DEFAULT_DEVICES: readonly LinuxDevice[] = [
  chr('null', 1, 3),
  chr('zero', 1, 5),
  chr('full', 1, 7),
  chr('random', 1, 8),
  chr('urandom', 1, 9),
  chr('tty', 5, 0),
];

/** Symlinks runc makes in /dev: [target, path]. */
export const DEFAULT_DEV_SYMLINKS: readonly (readonly [string, string])[] = [
  ['/proc/self/fd', '/dev/fd'],
  ['/proc/self/fd/0', '/dev/stdin'],
  ['/proc/self/fd/1', '/dev/stdout'],
  ['/proc/self/fd/2', '/dev/stderr'],
  ['pts/ptmx', '/dev/ptmx'],
];

const allowChr = (
  major: number | null,
  minor: number | null,
  access = 'rwm',
): LinuxDeviceCgroup => ({
  allow: true,
  type: 'c',
  major,
  minor,
  access,
});

/**
 * The device cgroup rules that go with the default devices, as a docker container's
 * devices.list shows them: deny everything, then mknod of any node (opening one still needs
 * a rule), the default devices, /dev/console (5:1), /dev/ptmx (5:2), the pty slaves (136:*)
 * and /dev/net/tun (10:200, which runc allows for containers given CAP_NET_ADMIN).
 */
export const DEFAULT_DEVICE_RULES: readonly LinuxDeviceCgroup[] = [
  { allow: false, access: 'rwm' },
  allowChr(null, null, 'm'),
  { allow: true, type: 'b', major: null, minor: null, access: 'm' },
  allowChr(1, 3),
  allowChr(1, 5),
  allowChr(1, 7),
  allowChr(1, 8),
  allowChr(1, 9),
  allowChr(5, 0),
  allowChr(5, 1),
  allowChr(5, 2),
  allowChr(136, null),
  allowChr(10, 200),
];

/** --privileged: every device. */
export const PRIVILEGED_DEVICE_RULES: readonly LinuxDeviceCgroup[] = [
  { allow: true, access: 'rwm' },
];
