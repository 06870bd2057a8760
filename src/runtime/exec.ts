import type { LinuxNamespaceType, Process, Spec } from '../oci/index.js';
import { seccompRules, type StdioSpec } from '../sys/index.js';
import { ContainerProcess } from './container-process.js';
import { compilePlan } from './compile.js';
import type { RuntimeContext } from './context.js';
import { exitStatus } from './exit-status.js';
import { liveStatus } from './state.js';
import { assertCan } from './status.js';

const NS_FILE: Record<LinuxNamespaceType, string> = {
  pid: 'pid',
  network: 'net',
  mount: 'mnt',
  ipc: 'ipc',
  uts: 'uts',
  user: 'user',
  cgroup: 'cgroup',
  time: 'time',
};

export interface ExecOptions {
  stdio?: [StdioSpec, StdioSpec, StdioSpec];
  consoleSize?: { rows: number; cols: number };
}

/**
 * `exec`: runs another process in a running container: it joins the container's
 * namespaces and cgroups, and gets the container's seccomp filter and no_new_privs unless
 * `process` says otherwise. Resolves once it has called execve.
 */
export async function exec(
  ctx: RuntimeContext,
  id: string,
  process: Partial<Process> & { args: string[] },
  opts: ExecOptions = {},
): Promise<ContainerProcess> {
  const rec = await ctx.store.read(id);
  assertCan('exec', id, liveStatus(ctx, rec));
  const spec = await ctx.store.readSpec(id);
  const pid = rec.pid ?? 0;
  const base = spec.process;
  const merged: Process = {
    ...base,
    ...process,
    user: process.user ?? base?.user ?? { uid: 0, gid: 0 },
    cwd: process.cwd ?? base?.cwd ?? '/',
    env: process.env ?? base?.env,
  };
  const execSpec: Spec = {
    ...spec,
    process: merged,
    linux: {
      ...spec.linux,
      namespaces: (spec.linux?.namespaces ?? []).map((n) => ({
        type: n.type,
        path: n.path !== undefined && n.path !== '' ? n.path : `/proc/${pid}/ns/${NS_FILE[n.type]}`,
      })),
    },
  };
  const seccomp = execSpec.linux?.seccomp;
  const rules = seccomp === undefined ? undefined : seccompRules(seccomp);
  const bpf = rules !== undefined && ctx.seccompCache ? await ctx.sys.seccompBpf(rules) : undefined;
  const plan = compilePlan({
    spec: execSpec,
    rootfs: rec.rootfs,
    exec: true,
    cgroup: rec.cgroupPlacement,
    attached: true,
    consoleSize: opts.consoleSize,
    seccompBpf: bpf,
    seccompRules: rules,
  });
  const session = ctx.sys.spawnInit(plan, { stdio: opts.stdio });
  await session.started();
  const done = session.exited().then((w) => exitStatus(w));
  done.catch(() => undefined);
  return new ContainerProcess(id, session.lastPid ?? 0, session, done);
}
