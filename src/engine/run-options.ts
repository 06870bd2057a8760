import type { StdioSpec } from '../sys/index.js';
import type { ProgressListener } from '../image/index.js';

export type NetworkMode = 'none' | 'host';
export type Isolation = 'full' | 'chroot';

/**
 * What `engine.run(image, options)` takes: the flags of `chrun run`, typed. Every field is
 * optional; the defaults are docker's, except the network, which is `none` until chrun has
 * bridges.
 */
export interface ContainerRunOptions {
  /** `--name`: a unique name (default: a random one such as "focused_turing"). */
  name?: string;
  /** COMMAND [ARG...]: replaces the image's Cmd. */
  command?: readonly string[];
  /** `--entrypoint`: replaces the image's Entrypoint ('' or [] clears it) and clears its Cmd. */
  entrypoint?: string | readonly string[];
  /** `-e NAME=value`, or `-e NAME` to take this process's value (unset: removed). */
  env?: readonly string[];
  /** `--env-file FILE`: read as docker does; applied before `env`. */
  envFile?: readonly string[];
  /** `-w`: the working directory, created if missing. */
  workdir?: string;
  /** `-u user[:group]`: names from the image's /etc/passwd and /etc/group, or numbers. */
  user?: string;
  /** `-h`: the container's hostname (default: the short container ID). */
  hostname?: string;
  /** `--rm`: remove the container and its writable layer when it ends. */
  remove?: boolean;
  /** `-v /host/path:/container/path[:ro|rw]`: bind mounts (a missing host dir is created). */
  volumes?: readonly string[];
  /** `--tmpfs /path[:options]`. */
  tmpfs?: readonly string[];
  /** `--read-only`: the root file system is mounted read-only. */
  readOnly?: boolean;
  /** `--init`: a tiny reaper as PID 1 that forwards signals and reaps zombies. */
  init?: boolean;
  /** `--network`: none (default: a network namespace with only lo, up) or host. */
  network?: NetworkMode;
  /**
   * `--isolation`: full (default: namespaces, pivot_root, capabilities, seccomp, cgroups) or
   * chroot (a chrooted process and nothing else: not a security boundary).
   */
  isolation?: Isolation;
  /** `--privileged`: every capability and device, no seccomp, nothing masked. */
  privileged?: boolean;
  capAdd?: readonly string[];
  capDrop?: readonly string[];
  /** `--security-opt`: seccomp=unconfined|PROFILE.json, no-new-privileges[=true|false]. */
  securityOpt?: readonly string[];
  /** `--memory` (bytes or "512m"), `--memory-swap`, `--cpus`, `--cpu-shares`, `--pids-limit`. */
  memory?: string;
  memorySwap?: string;
  cpus?: string;
  cpuShares?: string | number;
  pidsLimit?: string | number;
  /** `--ulimit name=soft[:hard]`. */
  ulimits?: readonly string[];
  /** `-t`: a pseudo-terminal (the container's stdio is then the pty, relayed to `stdio`). */
  tty?: boolean;
  /** The pty's initial size with `tty`. */
  consoleSize?: { rows: number; cols: number };
  /**
   * The container's stdin, stdout and stderr: 'pipe' (default: the handle's streams),
   * 'inherit', 'ignore' or a file descriptor.
   */
  stdio?: readonly [StdioSpec, StdioSpec, StdioSpec];
  /** When to pull the image: missing (default), always, never. */
  pull?: 'missing' | 'always' | 'never';
  /** Pull progress, when a pull happens. */
  onPull?: ProgressListener;
  /** Called before the pull of an image that is not there ("Unable to find image ..."). */
  onPullStart?: (image: string) => void;
}
