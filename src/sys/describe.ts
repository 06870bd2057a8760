import type { PlanStep } from './plan.js';

/** The words for a step a user reads in errors and `--explain`, unless the step has `what`. */
export function describeStep(s: PlanStep): string {
  if (s.what !== undefined) return s.what;
  switch (s.op) {
    case 'mount':
      return `mount ${s.source !== '' ? s.source : s.fstype} on ${s.target}`;
    case 'exec':
      return `exec ${s.file}`;
    case 'clone':
      return 'clone';
    case 'mknod':
      return `mknod ${s.path}`;
    case 'symlink':
      return `symlink ${s.path} -> ${s.target}`;
    case 'mask':
      return `mask ${s.path}`;
    case 'readonly':
      return `make ${s.path} read-only`;
    case 'write-file':
      return `write ${s.path}`;
    case 'hostname':
      return `set hostname ${s.name}`;
    case 'domainname':
      return `set domainname ${s.name}`;
    case 'chdir':
      return `chdir ${s.path}`;
    case 'chroot':
      return `chroot ${s.path}`;
    case 'rootfs':
      return `open root ${s.path}`;
    case 'pivot-root':
      return 'pivot_root';
    case 'move-root':
      return 'move the root onto / (no pivot_root) and chroot';
    case 'setuid':
      return `setuid ${s.uid}`;
    case 'setgid':
      return `setgid ${s.gid}`;
    case 'setgroups':
      return `setgroups ${s.gids.join(',')}`;
    case 'cgroup-join':
      return `join cgroup ${s.procs}`;
    case 'setns':
      return `join namespace ${s.path}`;
    case 'fifo':
      return `create exec fifo ${s.path}`;
    case 'fifo-wait':
      return 'wait for start';
    case 'rlimit':
      return `setrlimit ${s.resource}`;
    case 'seccomp-bpf':
      return `load seccomp filter (${s.ruleCount} rules, cached bpf)`;
    case 'seccomp-rules':
      return `load seccomp filter (${s.rules.rules.length} rules)`;
    default:
      return s.op;
  }
}
