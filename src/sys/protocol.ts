/**
 * The wire format shared with native/src/protocol.h (test/unit/sys/protocol.test.ts checks that
 * both agree). Every message is a frame: u32 payload length, u16 type, u16 aux, payload; all
 * integers little-endian. The plan is the payload of M_PLAN.
 */
export const PLAN_MAGIC = 0x31504843;
export const FRAME_HEADER = 8;
export const FRAME_MAX = 1 << 20;
export const PLAN_MAX = 16 << 20;

export const M = {
  PLAN: 1,
  RESIZE: 2,
  KILL: 3,
  SPAWN: 4,
  GO: 8,
  PTY: 9,
  PID: 16,
  READY: 17,
  TIMINGS: 18,
  ERROR: 19,
  NOTE: 20,
  EXEC: 21,
  EXIT: 22,
  GONE: 23,
  SPAWNED: 24,
} as const;

/** Step op codes; the C names are OP_ plus the upper-cased, underscored key. */
export const OP = {
  fifo: 1,
  clone: 2,
  'cgroup-join': 3,
  'uid-map': 4,
  'gid-map': 5,
  'setgroups-deny': 6,
  'orphan-unlink': 7,
  'orphan-rmdir': 8,
  'console-socket': 9,
  'orphan-umount': 10,
  'orphan-rmtree': 11,
  setns: 20,
  fork: 21,
  mount: 22,
  rootfs: 23,
  'pivot-root': 24,
  'move-root': 25,
  chroot: 26,
  mknod: 27,
  symlink: 28,
  mkdir: 29,
  mask: 30,
  readonly: 31,
  'write-file': 32,
  hostname: 33,
  domainname: 34,
  rlimit: 35,
  chdir: 36,
  umask: 37,
  setsid: 38,
  pty: 39,
  'caps-bounding': 40,
  keepcaps: 41,
  setgroups: 42,
  setgid: 43,
  setuid: 44,
  caps: 45,
  ambient: 46,
  'no-new-privs': 47,
  'seccomp-bpf': 48,
  'seccomp-rules': 49,
  ready: 50,
  'fifo-wait': 51,
  reaper: 52,
  exec: 53,
  'close-fds': 54,
  pdeathsig: 55,
  'loopback-up': 56,
  unshare: 57,
} as const;

export type OpName = keyof typeof OP;

/** Steps the helper runs on the host side (the others run in the container process). */
export const HOST_OPS: ReadonlySet<OpName> = new Set<OpName>([
  'fifo',
  'clone',
  'cgroup-join',
  'uid-map',
  'gid-map',
  'setgroups-deny',
  'orphan-unlink',
  'orphan-rmdir',
  'orphan-umount',
  'orphan-rmtree',
  'console-socket',
]);

export const CLONE_F = { ATTACHED: 1, DETACH: 2, RAW_TTY: 4 } as const;
export const MNT_F = { IN_ROOT: 1, MKDIR: 2, MKFILE: 4, OPTIONAL: 8 } as const;
