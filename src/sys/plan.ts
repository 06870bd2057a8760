/**
 * The plan: what the C helper carries out, step by step, decided entirely in TypeScript.
 * Each step may carry `what`, the words a user reads when the step fails or in `--explain`
 * ("mount proc on /proc"); the helper never sees it.
 */
export interface SeccompArg {
  index: number;
  /** libseccomp's enum scmp_compare. */
  op: number;
  value: bigint;
  valueTwo: bigint;
}

export interface SeccompRule {
  syscall: string;
  /** libseccomp's action value (SCMP_ACT_*). */
  action: number;
  args: SeccompArg[];
}

/** A seccomp filter in libseccomp's terms, ready for the helper. */
export interface SeccompRules {
  defaultAction: number;
  /** SECCOMP_FILTER_FLAG_* bits. */
  flags: number;
  /** AUDIT_ARCH_* values. */
  architectures: number[];
  rules: SeccompRule[];
}

interface Base {
  what?: string;
}

export type PlanStep = Base &
  (
    | { op: 'fifo'; path: string }
    | {
        op: 'clone';
        /** CLONE_NEW* bits. */
        flags: number;
        /** A cgroup v2 directory to clone into (CLONE_INTO_CGROUP), or ''. */
        cgroupDir: string;
        /** chrun holds the container: its death kills the container and cleans up. */
        attached: boolean;
        /** The helper exits once the container is ready (an OCI caller reaps it). */
        detach: boolean;
        /**
         * The helper relays a pty: it puts the terminal on its stdin in raw mode (cfmakeraw)
         * while it does, and restores it when the container ends (`run -it`).
         */
        rawTty?: boolean;
      }
    | { op: 'cgroup-join'; procs: string }
    | { op: 'uid-map'; map: string }
    | { op: 'gid-map'; map: string }
    | { op: 'setgroups-deny' }
    | { op: 'orphan-unlink'; path: string }
    | { op: 'orphan-rmdir'; path: string }
    | { op: 'orphan-umount'; path: string }
    | { op: 'orphan-rmtree'; path: string }
    | { op: 'console-socket'; path: string }
    | { op: 'setns'; path: string; nstype: number }
    | { op: 'fork' }
    | {
        op: 'mount';
        source: string;
        target: string;
        fstype: string;
        /** MS_* bits. */
        flags: number;
        data: string;
        /** target is a container path resolved inside the root (else a plain path). */
        inRoot: boolean;
        mkdir?: boolean;
        mkfile?: boolean;
        optional?: boolean;
      }
    | { op: 'rootfs'; path: string }
    | { op: 'pivot-root' }
    | { op: 'move-root' }
    | { op: 'chroot'; path: string }
    | {
        op: 'mknod';
        path: string;
        mode: number;
        major: number;
        minor: number;
        uid: number;
        gid: number;
      }
    | { op: 'symlink'; target: string; path: string }
    | { op: 'mkdir'; path: string; mode: number }
    | { op: 'mask'; path: string }
    | { op: 'readonly'; path: string }
    | { op: 'write-file'; path: string; data: string }
    | { op: 'hostname'; name: string }
    | { op: 'domainname'; name: string }
    | { op: 'rlimit'; resource: number; soft: bigint; hard: bigint }
    | { op: 'chdir'; path: string }
    | { op: 'umask'; mask: number }
    | { op: 'setsid' }
    | { op: 'pty'; rows: number; cols: number; console: string }
    | { op: 'caps-bounding'; keep: bigint }
    | { op: 'keepcaps'; on: boolean }
    | { op: 'setgroups'; gids: number[] }
    | { op: 'setgid'; gid: number }
    | { op: 'setuid'; uid: number }
    | { op: 'caps'; effective: bigint; permitted: bigint; inheritable: bigint }
    | { op: 'ambient'; caps: bigint }
    | { op: 'no-new-privs' }
    | { op: 'seccomp-bpf'; flags: number; program: Buffer; ruleCount: number }
    | { op: 'seccomp-rules'; rules: SeccompRules }
    | { op: 'ready' }
    | { op: 'fifo-wait' }
    | { op: 'reaper' }
    | { op: 'exec'; file: string; argv: string[]; env: string[]; searchPath: string }
    | { op: 'close-fds'; first: number }
    | { op: 'pdeathsig'; signal: number }
    | { op: 'loopback-up' }
    | {
        op: 'unshare';
        /** CLONE_NEW* bits. */
        flags: number;
      }
  );

export type Plan = readonly PlanStep[];
