import { statSync } from 'node:fs';
import path from 'node:path';
import type { Spec } from '../oci/index.js';
import {
  SIGKILL,
  seccompRules,
  type InitSession,
  type Mount,
  type StdioSpec,
} from '../sys/index.js';
import { ChrunError } from '../util/index.js';
import type { ContainerCgroup } from './cgroup-driver.js';
import { loadBundle } from './bundle.js';
import { compilePlan } from './compile.js';
import type { RuntimeContext } from './context.js';
import { procStat } from './proc-info.js';
import type { ContainerRecord, Keep } from './state-store.js';

/** Options shared by create and run. */
export interface LaunchOptions {
  /** The spec in memory (the engine's way); without it BUNDLE/config.json is read. */
  spec?: Spec;
  /** The container's stdin, stdout and stderr (default: this process's). */
  stdio?: [StdioSpec, StdioSpec, StdioSpec];
  /** A tiny reaper as PID 1 that forwards signals and reaps zombies (`--init`). */
  init?: boolean;
  /**
   * The root's mounts (SnapshotStore.prepare's PreparedRoot.mounts), mounted on the bundle's
   * root path inside the container's mount namespace: nothing is mounted on the host.
   */
  rootMounts?: Mount[];
  /** The pty's initial size, with process.terminal. */
  consoleSize?: { rows: number; cols: number };
  /** OCI --console-socket: hand the pty master to this unix socket instead of relaying it. */
  consoleSocket?: string;
  /**
   * With process.terminal relayed to `stdio`: the helper puts the terminal on stdin in raw
   * mode (as runc and docker do for `-it`) and restores it when the container ends, even if
   * this process is killed meanwhile.
   */
  rawTty?: boolean;
  /** Host mount points the helper detaches if this process dies before the container. */
  orphanUnmounts?: string[];
  /** Trees the helper removes if this process dies before the container (attached only). */
  orphanTrees?: string[];
}

/** "create cgroups /sys/fs/cgroup/pids/chrun/ID, ... (pids.max=10, ...)" for --explain. */
function describeCgroups(cgroup: ContainerCgroup): string {
  const limits = (cgroup.applied?.writes ?? [])
    .filter((w) => !w.file.endsWith('/devices.deny') && !w.file.endsWith('/devices.allow'))
    .map((w) => `${path.basename(w.file)}=${w.value}`);
  const devices = (cgroup.applied?.writes ?? []).filter((w) =>
    /\/devices\.(allow|deny)$/.test(w.file),
  ).length;
  const parts = [...limits, ...(devices > 0 ? [`${devices} device rules`] : [])];
  return `create cgroups ${cgroup.paths.join(', ')}${parts.length > 0 ? ` (${parts.join(', ')})` : ''}`;
}

export interface Launched {
  session: InitSession;
  record: ContainerRecord;
  cgroup: ContainerCgroup | undefined;
  phases: { what: string; usec: number }[];
}

function isFile(p: string): boolean {
  try {
    return !statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function withDefaultParents(dirs: string[]): string[] {
  const parents = dirs.map((d) => path.dirname(d)).filter((p) => path.basename(p) === 'chrun');
  return [...dirs, ...new Set(parents)];
}

/**
 * Bundle -> cgroups -> plan -> helper, up to `created` (waiting on the exec fifo) or, for an
 * attached run, up to the execve of the container's process. Undoes everything on failure.
 */
export async function launch(
  ctx: RuntimeContext,
  id: string,
  bundle: string,
  opts: LaunchOptions,
  mode: { fifo: boolean; keep: Keep },
): Promise<Launched> {
  const phases: { what: string; usec: number }[] = [];
  let t = performance.now();
  const phase = (what: string): void => {
    const now = performance.now();
    phases.push({ what, usec: (now - t) * 1000 });
    t = now;
  };
  const loaded =
    opts.spec === undefined
      ? await loadBundle(bundle)
      : {
          spec: opts.spec,
          bundle: path.resolve(bundle),
          rootfs: path.resolve(bundle, opts.spec.root?.path ?? 'rootfs'),
        };
  const { spec, rootfs } = loaded;
  phase(opts.spec === undefined ? 'read and check config.json' : 'take the spec');
  ctx.store.claim(id);
  let cgroup: ContainerCgroup | undefined;
  let session: InitSession | undefined;
  try {
    cgroup = ctx.cgroups === undefined ? undefined : await ctx.cgroups.create(id, spec);
    if (cgroup?.deviceFilter !== undefined) {
      throw new ChrunError(
        'CHRUN_UNSUPPORTED',
        'create container: device rules on a cgroup v2 host need an eBPF device filter, which chrun cannot load yet',
      );
    }
    if (cgroup !== undefined) phase(describeCgroups(cgroup));
    const seccomp = spec.linux?.seccomp;
    const rules = seccomp === undefined ? undefined : seccompRules(seccomp);
    const bpf =
      rules !== undefined && ctx.seccompCache ? await ctx.sys.seccompBpf(rules) : undefined;
    if (rules !== undefined)
      phase(
        bpf !== undefined ? 'look up the compiled seccomp filter' : 'convert the seccomp profile',
      );
    const fifo = mode.fifo ? ctx.store.fifoPath(id) : undefined;
    const attached = mode.keep === 'attached';
    const dir = ctx.store.containerDir(id);
    const plan = compilePlan({
      spec,
      rootfs,
      rootMounts: opts.rootMounts,
      execFifo: fifo,
      cgroup:
        cgroup === undefined
          ? undefined
          : {
              ...cgroup.placement,
              // if chrun dies first the helper removes these: the container's directories,
              // then the shared default parent (rmdir fails harmlessly while others use it)
              cleanup: withDefaultParents(cgroup.placement.cleanup ?? []),
            },
      cgroupMounts: ctx.cgroups?.mounts(),
      // the state directory goes as a tree: chrun may die in the middle of a record write,
      // leaving a temp file beside the known ones (CI saw the directory stay behind)
      orphanUnmounts: opts.orphanUnmounts,
      orphanTrees: attached ? [dir, ...(opts.orphanTrees ?? [])] : undefined,
      attached,
      detach: mode.keep === 'reparent',
      init: opts.init,
      consoleSize: opts.consoleSize,
      consoleSocket: opts.consoleSocket,
      rawTty: opts.rawTty,
      seccompBpf: bpf,
      seccompRules: rules,
      bindSourceIsFile: isFile,
      noPivot: ctx.noPivot,
    });
    phase('compile the plan');
    session = ctx.sys.spawnInit(plan, { stdio: opts.stdio, zygote: ctx.zygote });
    ctx.store.writeSpec(id, spec);
    const pid = await session.pid();
    phase('start the helper and clone');
    if (mode.fifo) await session.ready();
    else await session.started();
    const record: ContainerRecord = {
      id,
      bundle: loaded.bundle,
      rootfs,
      status: mode.fifo ? 'created' : 'running',
      pid,
      pidStart: procStat(pid)?.start,
      helperPid: session.helperPid,
      created: new Date().toISOString(),
      cgroupPaths: cgroup?.paths,
      cgroupPlacement: cgroup?.placement,
      annotations: spec.annotations,
      rootMounts: opts.rootMounts,
      keep: mode.keep,
    };
    ctx.store.write(record);
    phase('record the state');
    return { session, record, cgroup, phases };
  } catch (err) {
    if (session !== undefined) {
      session.kill(SIGKILL);
      await session.exited().catch(() => undefined);
    }
    await cgroup?.destroy().catch(() => undefined);
    ctx.store.remove(id);
    throw err;
  }
}
