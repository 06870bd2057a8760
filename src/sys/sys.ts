import type { Plan, SeccompRules } from './plan.js';
import { SeccompCache } from './seccomp-cache.js';
import {
  spawnInit,
  warmZygote,
  type InitSession,
  type SpawnInitOptions,
} from './helper-session.js';

/**
 * Everything the runtime asks of the kernel through the helper. The real one spawns
 * `chrun-helper`; tests pass a RecordingSys (youki's Syscall-trait idea).
 */
export interface Sys {
  spawnInit(plan: Plan, opts?: SpawnInitOptions): InitSession;
  /** The cached BPF program for a seccomp profile. */
  seccompBpf(rules: SeccompRules): Promise<Buffer>;
  /** Starts the resident helper zygote ahead of its first use (optional). */
  warmZygote?(): void;
}

export interface RealSysOptions {
  helper?: string;
  /** Where compiled seccomp programs are kept across processes. */
  seccompCacheDir?: string;
}

export function realSys(opts: RealSysOptions = {}): Sys {
  const cache = new SeccompCache(opts.seccompCacheDir, opts.helper);
  return {
    spawnInit: (plan, o) => spawnInit(plan, { helper: opts.helper, ...o }),
    seccompBpf: (rules) => cache.bpf(rules),
    warmZygote: () => warmZygote(opts.helper),
  };
}
