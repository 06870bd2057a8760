import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LinuxDeviceCgroup, LinuxResources } from '../oci/index.js';
import { ChrunError, errnoCode, reasonOf } from '../util/index.js';
import { nodeCgroupFs, type CgroupFs } from './cgroup-fs.js';
import {
  cgroupError,
  ControlFiles,
  parseCgroupNumber,
  parseKeyValues,
  V1_UNLIMITED,
} from './control.js';
import type { CgroupLayout } from './detect.js';
import { groupsOf, V1_CONTROLLER, V2_CONTROLLER, type ResourceGroup } from './groups.js';
import { DEFAULT_CGROUP_PARENT, hierarchyDir, type ProcCgroupEntry } from './paths.js';
import { applyV1 } from './resources-v1.js';
import { applyUnified, applyV2 } from './resources-v2.js';
import type {
  ApplyResult,
  CgroupManager,
  CgroupPlacement,
  CgroupStats,
  OomStatus,
} from './types.js';

export interface CgroupManagerOptions {
  layout: CgroupLayout;
  /** "/chrun/ID" (from each hierarchy's root) or relative to the caller's own cgroup. */
  path: string;
  fs?: CgroupFs;
  /** Parsed /proc/self/cgroup, needed for a relative path. */
  own?: readonly ProcCgroupEntry[];
  /** How signals reach processes; tests record them. Default process.kill, ESRCH ignored. */
  signal?: (pid: number, signal: NodeJS.Signals) => void;
  /**
   * Ancestors destroy() removes when they are left empty. Default: the default parent
   * (/chrun) when the path is under it; a user's --cgroup-parent is never removed.
   */
  pruneParents?: readonly string[];
  /** How long destroy() waits for the cgroup to empty and for rmdir to succeed. */
  timeoutMs?: number;
  /**
   * The container's directories as recorded when it was created (CgroupManager.dirs): each
   * hierarchy uses the one under its mount, and hierarchies without one are left alone. For
   * reopening a container's cgroups later (delete, kill, stats) whatever the path rules were.
   */
  dirs?: readonly string[];
  /**
   * Make the container's v1 directories only in the hierarchies these limits need (plus the
   * freezer on a pure v1 host, to kill and to track processes). runc makes one in every
   * hierarchy; each is a mkdir, a cgroup.procs write and an rmdir per container, ~1 ms
   * together on this host, for controllers that would hold nothing. The v2 directory (the
   * one of a hybrid host included: it tracks the processes) is always made.
   */
  only?: LinuxResources;
}

/** One mounted hierarchy the container has a directory in. */
export interface Hierarchy {
  kind: 'v1' | 'v2';
  mount: string;
  /** v1: the controllers mounted there ("name=systemd" for a named one); v2: []. */
  controllers: string[];
  dir: string;
}

const defaultSignal = (pid: number, signal: NodeJS.Signals): void => {
  try {
    process.kill(pid, signal);
  } catch (err) {
    if (errnoCode(err) !== 'ESRCH') throw err;
  }
};

/** The hierarchies that have one of `dirs` under their mount, with that directory. */
function recordedDirs(hierarchies: Hierarchy[], dirs: readonly string[]): Hierarchy[] {
  const out: Hierarchy[] = [];
  for (const h of hierarchies) {
    const dir = dirs.find((d) => d.startsWith(`${h.mount}/`));
    if (dir !== undefined) out.push({ ...h, dir });
  }
  return out;
}

/** The hierarchies `r` needs (see CgroupManagerOptions.only); never none. */
function neededHierarchies(hierarchies: Hierarchy[], r: LinuxResources): Hierarchy[] {
  const controllers = new Set(groupsOf(r).map((g) => V1_CONTROLLER[g]));
  const hasV2 = hierarchies.some((h) => h.kind === 'v2');
  if (!hasV2) controllers.add('freezer');
  const out = hierarchies.filter(
    (h) => h.kind === 'v2' || h.controllers.some((c) => controllers.has(c)),
  );
  return out.length > 0 ? out : hierarchies.slice(0, 1);
}

/** What the three managers share; they differ in hierarchies, placement and freezing. */
export abstract class BaseCgroupManager implements CgroupManager {
  abstract readonly mode: 'v1' | 'v2' | 'hybrid';
  readonly path: string;
  readonly hierarchies: readonly Hierarchy[];
  protected readonly fs: CgroupFs;
  private readonly signal: (pid: number, signal: NodeJS.Signals) => void;
  private readonly pruneParents: readonly string[];
  private readonly timeoutMs: number;
  private v2Available: string[] | undefined;

  protected constructor(opts: CgroupManagerOptions, hierarchies: Hierarchy[]) {
    this.path = opts.path;
    this.fs = opts.fs ?? nodeCgroupFs;
    this.signal = opts.signal ?? defaultSignal;
    this.hierarchies =
      opts.dirs !== undefined
        ? recordedDirs(hierarchies, opts.dirs)
        : opts.only !== undefined
          ? neededHierarchies(hierarchies, opts.only)
          : hierarchies;
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.pruneParents =
      opts.pruneParents ??
      (opts.path.startsWith(`${DEFAULT_CGROUP_PARENT}/`) ? [DEFAULT_CGROUP_PARENT] : []);
  }

  get dirs(): readonly string[] {
    return this.hierarchies.map((h) => h.dir);
  }

  // --- which hierarchy does what ---

  protected v1(controller: string): Hierarchy | undefined {
    return this.hierarchies.find((h) => h.kind === 'v1' && h.controllers.includes(controller));
  }

  protected unified(): Hierarchy | undefined {
    return this.hierarchies.find((h) => h.kind === 'v2');
  }

  /** Controllers the unified hierarchy's root offers (cgroup.controllers), read once. */
  protected unifiedControllers(): string[] {
    if (this.v2Available !== undefined) return this.v2Available;
    const u = this.unified();
    let list: string[] = [];
    if (u !== undefined) {
      try {
        list = this.fs.read(path.posix.join(u.mount, 'cgroup.controllers')).trim().split(/\s+/);
      } catch {
        list = [];
      }
    }
    this.v2Available = list.filter((c) => c !== '');
    return this.v2Available;
  }

  /** The hierarchy that enforces `group`: its v1 controller if mounted, else the v2 one. */
  protected target(group: ResourceGroup): Hierarchy | undefined {
    const v1 = this.v1(V1_CONTROLLER[group]);
    if (v1 !== undefined) return v1;
    const name = V2_CONTROLLER[group];
    const u = this.unified();
    if (u !== undefined && name !== undefined && this.unifiedControllers().includes(name)) return u;
    return undefined;
  }

  /** The v2 controllers to enable down to the container for these resources. */
  protected neededV2Controllers(r: LinuxResources): string[] {
    const u = this.unified();
    if (u === undefined) return [];
    const out = new Set<string>(this.baseV2Controllers());
    for (const g of groupsOf(r)) {
      const name = V2_CONTROLLER[g];
      if (name !== undefined && this.target(g) === u) out.add(name);
    }
    const available = this.unifiedControllers();
    return [...out].filter((c) => available.includes(c));
  }

  /** Controllers enabled even without limits (v2: memory and pids, for OOM reports and stats). */
  protected baseV2Controllers(): string[] {
    return [];
  }

  // --- create ---

  create(resources: LinuxResources = {}): void {
    for (let attempt = 0; ; attempt++) {
      try {
        this.createOnce(resources);
        return;
      } catch (err) {
        // A concurrent destroy() may prune the shared parent between our mkdirs: start over.
        if (attempt < 3 && errnoCode((err as Error).cause) === 'ENOENT') continue;
        throw err;
      }
    }
  }

  private createOnce(r: LinuxResources): void {
    const created: string[] = [];
    const needed = this.neededV2Controllers(r);
    try {
      for (const h of this.hierarchies) {
        const parts = path.posix.relative(h.mount, h.dir).split('/');
        let cur = h.mount;
        for (const part of parts) {
          if (h.kind === 'v2') this.enableControllers(cur, needed);
          const parent = cur;
          cur = path.posix.join(cur, part);
          if (this.mkdir(cur)) created.push(cur);
          if (h.controllers.includes('cpuset')) this.initCpuset(parent, cur);
        }
      }
    } catch (err) {
      for (const dir of created.reverse()) {
        try {
          this.fs.rmdir(dir);
        } catch {
          // best effort: destroy() retries
        }
      }
      throw err;
    }
  }

  /** mkdir one level; false when it already existed. */
  private mkdir(dir: string): boolean {
    try {
      this.fs.mkdir(dir);
      return true;
    } catch (err) {
      if (errnoCode(err) === 'EEXIST') return false;
      throw cgroupError('create cgroup', 'mkdir', dir, err);
    }
  }

  /** v2: make sure `dir` hands `controllers` to its children (cgroup.subtree_control). */
  private enableControllers(dir: string, controllers: readonly string[]): void {
    if (controllers.length === 0) return;
    const file = path.posix.join(dir, 'cgroup.subtree_control');
    let enabled: Set<string>;
    try {
      enabled = new Set(this.fs.read(file).trim().split(/\s+/));
    } catch (err) {
      throw cgroupError('enable cgroup controllers', 'read', file, err);
    }
    const missing = controllers.filter((c) => !enabled.has(c));
    if (missing.length === 0) return;
    try {
      this.fs.write(file, missing.map((c) => `+${c}`).join(' '));
    } catch (err) {
      const code = errnoCode(err);
      const why =
        code === 'EBUSY'
          ? ': the cgroup has processes of its own, and cgroup v2 gives controllers only to cgroups without them; choose a cgroup parent without processes'
          : code === 'ENOENT'
            ? ': the controllers are not delegated to this cgroup'
            : '';
      throw new ChrunError(
        'CHRUN_CGROUP_FAILED',
        `enable cgroup controllers ${missing.join(' ')}: write ${file}: ${reasonOf(err)}${why}`,
        { cause: err, fields: { path: file } },
      );
    }
  }

  /** v1 cpuset: a new cgroup has no cpus or mems, and a task cannot join it; inherit the parent's. */
  private initCpuset(parent: string, dir: string): void {
    for (const name of ['cpuset.cpus', 'cpuset.mems']) {
      const file = path.posix.join(dir, name);
      try {
        if (this.fs.read(file).trim() !== '') continue;
        this.fs.write(file, this.fs.read(path.posix.join(parent, name)).trim());
      } catch (err) {
        throw cgroupError('initialise cpuset', 'write', file, err);
      }
    }
  }

  // --- limits ---

  apply(r: LinuxResources): ApplyResult {
    const c = new ControlFiles(this.fs);
    let unenforcedDevices: LinuxDeviceCgroup[] = [];
    for (const g of groupsOf(r)) {
      const h = this.target(g);
      if (h === undefined) {
        if (g === 'devices') {
          unenforcedDevices = [...(r.devices ?? [])];
          continue;
        }
        c.warn(
          `the ${V1_CONTROLLER[g]} cgroup controller is not available on this host; ${g} limits discarded`,
        );
        continue;
      }
      if (h.kind === 'v1') applyV1(c, g, h.dir, r);
      else applyV2(c, g, h.dir, r);
    }
    if (r.unified !== undefined && Object.keys(r.unified).length > 0) {
      const u = this.unified();
      if (u === undefined) {
        throw new ChrunError(
          'CHRUN_UNSUPPORTED',
          'set unified cgroup resources: this host has no cgroup v2 hierarchy',
        );
      }
      applyUnified(c, u.dir, r.unified);
    }
    return { writes: c.writes, warnings: c.warnings, unenforcedDevices };
  }

  // --- processes ---

  abstract placement(): CgroupPlacement;

  addProcess(pid: number): void {
    if (!Number.isInteger(pid) || pid <= 0) {
      throw new ChrunError('CHRUN_INVALID_ARGUMENT', `add process to cgroup: invalid pid ${pid}`);
    }
    for (const file of this.placement().procsFiles) {
      for (let attempt = 0; ; attempt++) {
        try {
          this.fs.write(file, String(pid));
          break;
        } catch (err) {
          // EINVAL: the task is still being forked (TASK_NEW); it settles within microseconds.
          if (errnoCode(err) === 'EINVAL' && attempt < 5) {
            Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2);
            continue;
          }
          throw cgroupError(`add process ${pid} to cgroup`, 'write', file, err);
        }
      }
    }
  }

  /** The directory whose cgroup.procs lists every process of the container. */
  protected abstract tracking(): string;

  pids(): number[] {
    const out: number[] = [];
    const walk = (dir: string): void => {
      let text: string;
      try {
        text = this.fs.read(path.posix.join(dir, 'cgroup.procs'));
      } catch (err) {
        if (errnoCode(err) === 'ENOENT') return;
        throw cgroupError(
          'list cgroup processes',
          'read',
          path.posix.join(dir, 'cgroup.procs'),
          err,
        );
      }
      for (const line of text.split('\n')) if (line.trim() !== '') out.push(Number(line));
      for (const sub of this.subdirs(dir)) walk(path.posix.join(dir, sub));
    };
    walk(this.tracking());
    return out;
  }

  private subdirs(dir: string): string[] {
    try {
      return this.fs.subdirs(dir);
    } catch {
      return [];
    }
  }

  // --- stats and OOM ---

  private readOptional(dir: string, name: string): string | undefined {
    try {
      return this.fs.read(path.posix.join(dir, name));
    } catch {
      return undefined;
    }
  }

  private numberOptional(dir: string, name: string): number | undefined {
    const text = this.readOptional(dir, name);
    return text === undefined ? undefined : parseCgroupNumber(text, path.posix.join(dir, name));
  }

  stats(): CgroupStats {
    const stats: CgroupStats = {};
    const finite = (n: number | undefined): number | undefined =>
      n === undefined || !Number.isFinite(n) || n >= V1_UNLIMITED ? undefined : n;
    const mem = this.target('memory');
    if (mem?.kind === 'v1') {
      const usage = this.numberOptional(mem.dir, 'memory.usage_in_bytes');
      if (usage !== undefined) {
        stats.memory = {
          usage,
          peak: this.numberOptional(mem.dir, 'memory.max_usage_in_bytes'),
          limit: finite(this.numberOptional(mem.dir, 'memory.limit_in_bytes')),
        };
      }
    } else if (mem !== undefined) {
      const usage = this.numberOptional(mem.dir, 'memory.current');
      if (usage !== undefined) {
        stats.memory = {
          usage,
          peak: this.numberOptional(mem.dir, 'memory.peak'),
          limit: finite(this.numberOptional(mem.dir, 'memory.max')),
        };
      }
    }
    const pids = this.target('pids');
    if (pids !== undefined) {
      const current = this.numberOptional(pids.dir, 'pids.current');
      if (current !== undefined) {
        stats.pids = { current, limit: finite(this.numberOptional(pids.dir, 'pids.max')) };
      }
    }
    const acct = this.v1('cpuacct');
    if (acct !== undefined) {
      const ns = this.numberOptional(acct.dir, 'cpuacct.usage');
      if (ns !== undefined) stats.cpu = { usageNs: ns };
    } else {
      const u = this.unified();
      const text = u === undefined ? undefined : this.readOptional(u.dir, 'cpu.stat');
      const usec = text === undefined ? undefined : parseKeyValues(text).get('usage_usec');
      if (usec !== undefined) stats.cpu = { usageNs: usec * 1000 };
    }
    return stats;
  }

  oom(): OomStatus {
    const mem = this.target('memory');
    if (mem === undefined) return { oomKills: 0, ooms: 0 };
    if (mem.kind === 'v1') {
      // oom_kill in memory.oom_control since Linux 4.13; failcnt counts hits of the limit.
      const control = parseKeyValues(this.readOptional(mem.dir, 'memory.oom_control') ?? '');
      const failcnt = this.numberOptional(mem.dir, 'memory.failcnt') ?? 0;
      const oomKills = control.get('oom_kill') ?? (control.get('under_oom') === 1 ? 1 : 0);
      return { oomKills, ooms: failcnt };
    }
    // memory.events counts the cgroup and its descendants.
    const events = parseKeyValues(this.readOptional(mem.dir, 'memory.events') ?? '');
    return { oomKills: events.get('oom_kill') ?? 0, ooms: events.get('oom') ?? 0 };
  }

  oomKilled(): boolean {
    return this.oom().oomKills > 0;
  }

  // --- kill and remove ---

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const u = this.unified();
    // cgroup.kill (Linux 5.14) kills the whole v2 subtree atomically, forks included. On a
    // hybrid host the unified hierarchy tracks the container's processes too.
    if (
      signal === 'SIGKILL' &&
      u !== undefined &&
      this.fs.exists(path.posix.join(u.dir, 'cgroup.kill'))
    ) {
      try {
        this.fs.write(path.posix.join(u.dir, 'cgroup.kill'), '1');
        return;
      } catch (err) {
        if (errnoCode(err) === 'ENOENT') return; // already gone
        throw cgroupError('kill cgroup', 'write', path.posix.join(u.dir, 'cgroup.kill'), err);
      }
    }
    const frozen = await this.freeze(true);
    try {
      const seen = new Set<number>();
      // Frozen, one pass reaches everyone; unfrozen (no freezer), repeat while new pids appear.
      for (let round = 0; round < (frozen ? 1 : 10); round++) {
        const fresh = this.pids().filter((p) => !seen.has(p));
        if (fresh.length === 0) break;
        for (const pid of fresh) {
          seen.add(pid);
          this.signal(pid, signal);
        }
      }
    } finally {
      if (frozen) await this.freeze(false);
    }
  }

  /** Freezes (or thaws) the container; false when the host cannot. */
  private async freeze(on: boolean): Promise<boolean> {
    const u = this.unified();
    const v1 = this.v1('freezer');
    let file: string;
    let want: string;
    let check: () => boolean;
    if (u !== undefined && this.fs.exists(path.posix.join(u.dir, 'cgroup.freeze'))) {
      file = path.posix.join(u.dir, 'cgroup.freeze');
      want = on ? '1' : '0';
      check = () =>
        parseKeyValues(this.readOptional(u.dir, 'cgroup.events') ?? '').get('frozen') ===
        (on ? 1 : 0);
    } else if (v1 !== undefined) {
      file = path.posix.join(v1.dir, 'freezer.state');
      want = on ? 'FROZEN' : 'THAWED';
      check = () => this.readOptional(v1.dir, 'freezer.state')?.trim() === want;
    } else {
      return false;
    }
    try {
      this.fs.write(file, want);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return false;
      throw cgroupError(on ? 'freeze cgroup' : 'thaw cgroup', 'write', file, err);
    }
    const deadline = Date.now() + 1000;
    while (!check() && Date.now() < deadline) await sleep(1);
    return true;
  }

  async destroy(): Promise<void> {
    if (this.pids().length > 0) {
      await this.kill('SIGKILL');
      const deadline = Date.now() + this.timeoutMs;
      while (this.pids().length > 0 && Date.now() < deadline) await sleep(5);
    }
    const failures: string[] = [];
    for (const h of this.hierarchies) {
      try {
        await this.removeTree(h.dir);
      } catch (err) {
        failures.push(reasonOf(err));
      }
    }
    for (const dir of this.parentDirs()) {
      try {
        this.fs.rmdir(dir);
      } catch {
        // still used by other containers (EBUSY), or gone already
      }
    }
    if (failures.length > 0) {
      throw new ChrunError(
        'CHRUN_CGROUP_FAILED',
        `remove cgroup ${this.path}: ${failures.join('; ')}`,
      );
    }
  }

  parentDirs(): string[] {
    const out: string[] = [];
    for (const parent of this.pruneParents) {
      for (const h of this.hierarchies) {
        const dir = hierarchyDir(h.mount, h.controllers, parent);
        if (dir !== h.mount) out.push(dir);
      }
    }
    return out;
  }

  /** rmdir a cgroup and its children, retrying while the kernel still counts tasks (EBUSY). */
  private async removeTree(dir: string): Promise<void> {
    for (const sub of this.subdirs(dir)) await this.removeTree(path.posix.join(dir, sub));
    const deadline = Date.now() + this.timeoutMs;
    for (let delay = 1; ; delay = Math.min(delay * 2, 100)) {
      try {
        this.fs.rmdir(dir);
        return;
      } catch (err) {
        const code = errnoCode(err);
        if (code === 'ENOENT') return;
        if (code !== 'EBUSY' || Date.now() >= deadline)
          throw cgroupError('remove cgroup', 'rmdir', dir, err);
      }
      await sleep(delay);
    }
  }
}
