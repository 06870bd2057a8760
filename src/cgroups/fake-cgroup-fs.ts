import fs from 'node:fs';
import path from 'node:path';
import type { CgroupFs } from './cgroup-fs.js';
import { V1_UNLIMITED } from './control.js';
import type { CgroupLayout } from './detect.js';

/**
 * A cgroupfs in a temp directory, for unit tests of the managers on any host (this one
 * cannot show a v2 hierarchy with real controllers). mkdir fills a new cgroup with the
 * control files the kernel would create, and writes are checked the way the kernel checks
 * them where our code depends on it: controllers handed down through cgroup.subtree_control,
 * the no-internal-processes rule, memory <= memory+swap, cpu.weight and cpu.max ranges, an
 * empty v1 cpuset refusing tasks, device rules, rmdir refused while tasks or children remain.
 */
export interface FakeCgroupOptions {
  mode: 'v1' | 'v2' | 'hybrid';
  /** The unified root's cgroup.controllers. Default: v2 all of them; hybrid only hugetlb. */
  unifiedControllers?: string[];
  /** The v1 mounts, each a list of controllers; default this host's, with name=systemd. */
  v1Mounts?: string[][];
  /** memory.memsw.* (v1) and memory.swap.* (v2) exist. Default true. */
  swapAccounting?: boolean;
  /** cgroup.kill exists (Linux 5.14). Default true. */
  cgroupKill?: boolean;
  /** memory.peak exists (Linux 5.19). Default true. */
  memoryPeak?: boolean;
  hugepageSizes?: string[];
  /** The v1 blkio weight file the kernel offers (CFQ's, BFQ's, or none). Default BFQ's. */
  blkioWeight?: 'blkio.weight' | 'blkio.bfq.weight' | null;
  /** The root cpuset. */
  cpus?: string;
  mems?: string;
}

const DEFAULT_V1_MOUNTS = [
  ['cpu', 'cpuacct'],
  ['cpuset'],
  ['memory'],
  ['devices'],
  ['freezer'],
  ['blkio'],
  ['pids'],
  ['name=systemd'],
];
const ALL_V2 = ['cpuset', 'cpu', 'io', 'memory', 'hugetlb', 'pids', 'rdma', 'misc'];
const PAGE = 4096;
/** String(V1_UNLIMITED) would print the shortest double, 9223372036854772000. */
const V1_UNLIMITED_TEXT = '9223372036854771712';
const MAX = 'max';

interface Mount {
  kind: 'v1' | 'v2';
  dir: string;
  controllers: string[];
}

/** An error shaped like Node's fs errors, so reasonOf() prints the kernel's words. */
function errno(code: string, syscall: string, file: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: fake cgroupfs, ${syscall} '${file}'`), {
    code,
    syscall,
    path: file,
  });
}

/** A fake host: the layout to hand to createCgroupManager, and the fs to use with it. */
export function createFakeCgroupHost(
  root: string,
  opts: FakeCgroupOptions,
): { layout: CgroupLayout; fs: FakeCgroupFs } {
  const fake = new FakeCgroupFs(root, opts);
  return { layout: fake.layout, fs: fake };
}

export class FakeCgroupFs implements CgroupFs {
  readonly layout: CgroupLayout;
  /** pids killed through cgroup.kill, in order. */
  readonly killed: number[] = [];
  private readonly mounts: Mount[] = [];
  private readonly opts: Required<Omit<FakeCgroupOptions, 'unifiedControllers' | 'v1Mounts'>>;
  private readonly busy = new Map<string, number>();

  constructor(root: string, options: FakeCgroupOptions) {
    this.opts = {
      mode: options.mode,
      swapAccounting: options.swapAccounting ?? true,
      cgroupKill: options.cgroupKill ?? true,
      memoryPeak: options.memoryPeak ?? true,
      hugepageSizes: options.hugepageSizes ?? ['2MB', '1GB'],
      blkioWeight: options.blkioWeight === undefined ? 'blkio.bfq.weight' : options.blkioWeight,
      cpus: options.cpus ?? '0-1',
      mems: options.mems ?? '0',
    };
    const base = path.join(root, 'sys/fs/cgroup');
    fs.mkdirSync(base, { recursive: true });
    const v1: Record<string, string> = {};
    let unified: string | undefined;
    if (options.mode !== 'v1') {
      unified = options.mode === 'v2' ? base : path.join(base, 'unified');
      const controllers =
        options.unifiedControllers ?? (options.mode === 'v2' ? ALL_V2 : ['hugetlb']);
      this.mounts.push({ kind: 'v2', dir: unified, controllers });
      fs.mkdirSync(unified, { recursive: true });
      this.fill(unified, 'root');
    }
    if (options.mode !== 'v2') {
      for (const list of options.v1Mounts ?? DEFAULT_V1_MOUNTS) {
        const dir = path.join(base, list.join(',').replace('name=', ''));
        this.mounts.push({ kind: 'v1', dir, controllers: list });
        for (const c of list) v1[c] = dir;
        fs.mkdirSync(dir, { recursive: true });
        this.fill(dir, 'root');
      }
    }
    this.layout = { mode: options.mode, unified, v1 };
  }

  // --- CgroupFs ---

  mkdir(dir: string): void {
    const m = this.mountOf(dir);
    fs.mkdirSync(dir); // EEXIST, ENOENT as the kernel
    if (m !== undefined) this.fill(dir, 'child');
  }

  rmdir(dir: string): void {
    const m = this.mountOf(dir);
    if (m === undefined) {
      fs.rmdirSync(dir);
      return;
    }
    if (!fs.existsSync(dir)) throw errno('ENOENT', 'rmdir', dir);
    if (dir === m.dir) throw errno('EBUSY', 'rmdir', dir);
    if (this.subdirs(dir).length > 0 || this.procsOf(dir).length > 0)
      throw errno('EBUSY', 'rmdir', dir);
    const pending = this.busy.get(dir) ?? 0;
    if (pending > 0) {
      this.busy.set(dir, pending - 1);
      throw errno('EBUSY', 'rmdir', dir);
    }
    fs.rmSync(dir, { recursive: true });
  }

  subdirs(dir: string): string[] {
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
  }

  read(file: string): string {
    return fs.readFileSync(file, 'utf8');
  }

  exists(file: string): boolean {
    return fs.existsSync(file);
  }

  write(file: string, data: string): void {
    if (!fs.existsSync(file) || fs.statSync(file).isDirectory())
      throw errno('ENOENT', 'open', file);
    const dir = path.dirname(file);
    const m = this.mountOf(dir);
    const value = data.trim();
    const name = path.basename(file);
    const bad = (code = 'EINVAL'): never => {
      throw errno(code, 'write', file);
    };
    if (m === undefined) {
      fs.writeFileSync(file, data);
      return;
    }
    switch (name) {
      case 'cgroup.procs':
      case 'tasks':
        return this.attach(m, dir, value, bad);
      case 'cgroup.subtree_control':
        return this.subtreeControl(m, dir, value, bad);
      case 'cgroup.kill': {
        if (value !== '1') bad();
        const victims = this.pidsUnder(dir);
        for (const pid of victims) this.exit(pid);
        this.killed.push(...victims);
        return;
      }
      case 'cgroup.freeze':
        if (value !== '0' && value !== '1') bad();
        this.set(dir, 'cgroup.freeze', value);
        this.set(
          dir,
          'cgroup.events',
          `populated ${this.pidsUnder(dir).length > 0 ? 1 : 0}\nfrozen ${value}\n`,
        );
        return;
      case 'freezer.state':
        if (value !== 'FROZEN' && value !== 'THAWED') bad();
        return this.set(dir, name, value);
      case 'memory.limit_in_bytes':
      case 'memory.memsw.limit_in_bytes':
        return this.v1MemoryLimit(dir, name, value, bad);
      case 'memory.soft_limit_in_bytes': {
        const n = v1Bytes(value, bad);
        return this.set(dir, name, n === -1 ? V1_UNLIMITED_TEXT : String(pageDown(n)));
      }
      case 'memory.swappiness':
        if (!/^\d+$/.test(value) || Number(value) > 100) bad();
        return this.set(dir, name, value);
      case 'memory.oom_control': {
        if (value !== '0' && value !== '1') bad();
        const old = this.read(file).replace(/oom_kill_disable \d/, `oom_kill_disable ${value}`);
        return this.set(dir, name, old);
      }
      case 'memory.max':
      case 'memory.high':
      case 'memory.low':
      case 'memory.min':
      case 'memory.swap.max': {
        const n = maxOrNumber(value, bad);
        return this.set(dir, name, n === MAX ? MAX : String(pageDown(n)));
      }
      case 'pids.max': {
        const n = maxOrNumber(value, bad);
        return this.set(dir, name, String(n));
      }
      case 'cpu.weight': {
        if (!/^\d+$/.test(value)) bad();
        if (Number(value) < 1 || Number(value) > 10000) bad('ERANGE');
        return this.set(dir, name, value);
      }
      case 'cpu.max':
        return this.cpuMax(dir, value, bad);
      case 'cpu.shares': {
        if (!/^\d+$/.test(value)) bad();
        return this.set(dir, name, String(Math.min(262144, Math.max(2, Number(value)))));
      }
      case 'cpu.cfs_period_us': {
        if (!/^\d+$/.test(value) || Number(value) < 1000 || Number(value) > 1000000) bad();
        return this.set(dir, name, value);
      }
      case 'cpu.cfs_quota_us': {
        if (!/^-?\d+$/.test(value) || (Number(value) !== -1 && Number(value) < 1000)) bad();
        return this.set(dir, name, value);
      }
      case 'cpuset.cpus':
      case 'cpuset.mems':
        return this.cpuset(m, dir, name, value, bad);
      case 'devices.allow':
      case 'devices.deny':
        return this.devices(dir, name === 'devices.allow', value, bad);
      default:
        if (/^hugetlb\..+\.(max|limit_in_bytes)$/.test(name)) {
          const n = maxOrNumber(value === '-1' ? MAX : value, bad);
          return this.set(
            dir,
            name,
            n === MAX ? (name.endsWith('.max') ? MAX : V1_UNLIMITED_TEXT) : String(n),
          );
        }
        return this.set(dir, name, value);
    }
  }

  // --- test controls ---

  /** Sets a file as the kernel would (counters, usage), without the write checks. */
  setKernelValue(file: string, content: string): void {
    fs.writeFileSync(file, content);
  }

  /** The pids in one cgroup (not its children). */
  procsOf(dir: string): number[] {
    const file = path.join(dir, 'cgroup.procs');
    if (!fs.existsSync(file)) return [];
    return this.read(file)
      .split('\n')
      .filter((l) => l !== '')
      .map(Number);
  }

  /** A process exits: it leaves every hierarchy. */
  exit(pid: number): void {
    for (const m of this.mounts) {
      for (const dir of this.walk(m.dir)) {
        const procs = this.procsOf(dir);
        if (procs.includes(pid))
          this.setProcs(
            m,
            dir,
            procs.filter((p) => p !== pid),
          );
      }
    }
  }

  /** The next `times` rmdirs of dir fail with EBUSY, as while the kernel finishes an exit. */
  busyRmdir(dir: string, times: number): void {
    this.busy.set(dir, times);
  }

  // --- kernel behaviour ---

  private mountOf(dir: string): Mount | undefined {
    let best: Mount | undefined;
    for (const m of this.mounts) {
      if (
        (dir === m.dir || dir.startsWith(`${m.dir}/`)) &&
        (best === undefined || m.dir.length > best.dir.length)
      ) {
        best = m;
      }
    }
    return best;
  }

  private *walk(dir: string): Generator<string> {
    if (!fs.existsSync(dir)) return;
    yield dir;
    for (const sub of this.subdirs(dir)) yield* this.walk(path.join(dir, sub));
  }

  private pidsUnder(dir: string): number[] {
    return [...this.walk(dir)].flatMap((d) => this.procsOf(d));
  }

  private set(dir: string, name: string, content: string): void {
    fs.writeFileSync(path.join(dir, name), content.endsWith('\n') ? content : `${content}\n`);
  }

  private setProcs(m: Mount, dir: string, pids: number[]): void {
    const text = pids.map((p) => `${p}\n`).join('');
    this.set(dir, 'cgroup.procs', text);
    if (m.kind === 'v1') this.set(dir, 'tasks', text);
    if (m.kind === 'v2') {
      for (const d of this.walk(m.dir)) {
        if (d === m.dir) continue;
        const frozen = /frozen 1/.test(this.read(path.join(d, 'cgroup.events'))) ? 1 : 0;
        this.set(
          d,
          'cgroup.events',
          `populated ${this.pidsUnder(d).length > 0 ? 1 : 0}\nfrozen ${frozen}\n`,
        );
      }
    }
  }

  private attach(m: Mount, dir: string, value: string, bad: (code?: string) => never): void {
    if (!/^\d+$/.test(value) || Number(value) === 0) bad();
    const pid = Number(value);
    if (
      m.kind === 'v2' &&
      dir !== m.dir &&
      this.read(path.join(dir, 'cgroup.subtree_control')).trim() !== ''
    ) {
      bad('EBUSY'); // no internal processes
    }
    if (m.kind === 'v1' && m.controllers.includes('cpuset')) {
      if (
        this.read(path.join(dir, 'cpuset.cpus')).trim() === '' ||
        this.read(path.join(dir, 'cpuset.mems')).trim() === ''
      ) {
        bad('ENOSPC');
      }
    }
    for (const d of this.walk(m.dir)) {
      const procs = this.procsOf(d);
      if (procs.includes(pid))
        this.setProcs(
          m,
          d,
          procs.filter((p) => p !== pid),
        );
    }
    this.setProcs(m, dir, [...this.procsOf(dir), pid]);
  }

  private subtreeControl(
    m: Mount,
    dir: string,
    value: string,
    bad: (code?: string) => never,
  ): void {
    if (m.kind !== 'v2') bad();
    const available = this.read(path.join(dir, 'cgroup.controllers')).trim().split(/\s+/);
    const enabled = new Set(
      this.read(path.join(dir, 'cgroup.subtree_control'))
        .trim()
        .split(/\s+/)
        .filter((s) => s !== ''),
    );
    const tokens = value.split(/\s+/).filter((t) => t !== '');
    for (const t of tokens) {
      if (!/^[+-]\w+$/.test(t)) bad();
      if (t.startsWith('+') && !available.includes(t.slice(1))) bad('ENOENT');
    }
    if (tokens.some((t) => t.startsWith('+')) && dir !== m.dir && this.procsOf(dir).length > 0)
      bad('EBUSY');
    for (const t of tokens) {
      if (t.startsWith('+')) enabled.add(t.slice(1));
      else enabled.delete(t.slice(1));
    }
    const list = ALL_V2.filter((c) => enabled.has(c));
    this.set(dir, 'cgroup.subtree_control', list.join(' '));
    for (const sub of this.subdirs(dir)) {
      const child = path.join(dir, sub);
      this.set(child, 'cgroup.controllers', list.join(' '));
      for (const c of list) this.fillV2Controller(child, c);
    }
  }

  private v1MemoryLimit(
    dir: string,
    name: string,
    value: string,
    bad: (code?: string) => never,
  ): void {
    const bytes = v1Bytes(value, bad);
    const n = bytes === -1 ? V1_UNLIMITED : pageDown(bytes);
    const memswFile = path.join(dir, 'memory.memsw.limit_in_bytes');
    if (name === 'memory.limit_in_bytes') {
      if (fs.existsSync(memswFile) && n > Number(this.read(memswFile))) bad(); // memory <= memory+swap
      if (n < Number(this.read(path.join(dir, 'memory.usage_in_bytes')))) bad('EBUSY');
    } else if (n < Number(this.read(path.join(dir, 'memory.limit_in_bytes')))) {
      bad();
    }
    this.set(dir, name, n === V1_UNLIMITED ? V1_UNLIMITED_TEXT : String(n));
  }

  private cpuMax(dir: string, value: string, bad: (code?: string) => never): void {
    const [quota, period, extra] = value.split(/\s+/);
    if (quota === undefined || extra !== undefined) bad();
    if (quota !== MAX && (!/^\d+$/.test(quota) || Number(quota) < 1000)) bad();
    const current = this.read(path.join(dir, 'cpu.max')).trim().split(/\s+/)[1] ?? '100000';
    const p = period ?? current;
    if (!/^\d+$/.test(p) || Number(p) < 1000 || Number(p) > 1000000) bad();
    this.set(dir, 'cpu.max', `${quota} ${p}`);
  }

  private cpuset(
    m: Mount,
    dir: string,
    name: string,
    value: string,
    bad: (code?: string) => never,
  ): void {
    const want = parseList(value);
    if (want === undefined) bad();
    // v1 insists on a subset of the parent's; v2 takes any list (effective = the overlap).
    if (m.kind === 'v1' && dir !== m.dir) {
      const parent =
        parseList(this.read(path.join(path.dirname(dir), name)).trim()) ?? new Set<number>();
      for (const n of want) if (!parent.has(n)) bad();
    }
    this.set(dir, name, value);
  }

  private devices(dir: string, allow: boolean, value: string, bad: (code?: string) => never): void {
    const all = value === 'a' || /^a \*:\* rwm$/.test(value);
    if (!all && !/^[abc] (\d+|\*):(\d+|\*) [rwm]{1,3}$/.test(value)) bad();
    const listFile = path.join(dir, 'devices.list');
    const list = this.read(listFile)
      .split('\n')
      .filter((l) => l !== '');
    const parentList = this.read(path.join(path.dirname(dir), 'devices.list'));
    if (allow) {
      const parentAll = parentList.includes('a *:* rwm');
      if (!parentAll && !parentList.split('\n').includes(value)) bad('EPERM');
      this.set(
        dir,
        'devices.list',
        all ? 'a *:* rwm' : [...list.filter((l) => l !== value), value].join('\n'),
      );
    } else {
      this.set(dir, 'devices.list', all ? '' : list.filter((l) => l !== value).join('\n'));
    }
  }

  // --- the files a new cgroup gets ---

  private fill(dir: string, where: 'root' | 'child'): void {
    const m = this.mountOf(dir)!;
    const root = where === 'root';
    const parent = path.dirname(dir);
    const put = (name: string, content: string): void => this.set(dir, name, content);
    if (m.kind === 'v2') {
      put('cgroup.procs', '');
      put('cgroup.threads', '');
      put('cgroup.subtree_control', '');
      put('cgroup.max.depth', MAX);
      put('cgroup.max.descendants', MAX);
      put('cpu.stat', 'usage_usec 0\nuser_usec 0\nsystem_usec 0\n');
      if (root) {
        put('cgroup.controllers', m.controllers.join(' '));
        return;
      }
      const inherited = this.read(path.join(parent, 'cgroup.subtree_control')).trim();
      put('cgroup.controllers', inherited);
      put('cgroup.events', 'populated 0\nfrozen 0\n');
      put('cgroup.type', 'domain');
      put('cgroup.freeze', '0');
      if (this.opts.cgroupKill) put('cgroup.kill', '');
      for (const c of inherited.split(/\s+/).filter((s) => s !== '')) this.fillV2Controller(dir, c);
      return;
    }
    put('cgroup.procs', '');
    put('tasks', '');
    put('notify_on_release', '0');
    put('cgroup.clone_children', '0');
    for (const c of m.controllers) this.fillV1Controller(dir, c, root, parent);
  }

  private fillV2Controller(dir: string, c: string): void {
    const put = (name: string, content: string): void => {
      if (!fs.existsSync(path.join(dir, name))) this.set(dir, name, content);
    };
    switch (c) {
      case 'memory':
        put('memory.current', '0');
        put('memory.max', MAX);
        put('memory.high', MAX);
        put('memory.low', '0');
        put('memory.min', '0');
        put('memory.events', 'low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n');
        put('memory.oom.group', '0');
        if (this.opts.memoryPeak) put('memory.peak', '0');
        if (this.opts.swapAccounting) {
          put('memory.swap.max', MAX);
          put('memory.swap.current', '0');
        }
        return;
      case 'cpu':
        put('cpu.weight', '100');
        put('cpu.max', 'max 100000');
        put('cpu.max.burst', '0');
        put('cpu.idle', '0');
        return;
      case 'cpuset':
        put('cpuset.cpus', '');
        put('cpuset.mems', '');
        return;
      case 'io':
        put('io.weight', 'default 100');
        put('io.max', '');
        return;
      case 'pids':
        put('pids.max', MAX);
        put('pids.current', '0');
        return;
      case 'hugetlb':
        for (const size of this.opts.hugepageSizes) {
          put(`hugetlb.${size}.max`, MAX);
          put(`hugetlb.${size}.current`, '0');
        }
        return;
    }
  }

  private fillV1Controller(dir: string, c: string, root: boolean, parent: string): void {
    const put = (name: string, content: string): void => this.set(dir, name, content);
    const unlimited = V1_UNLIMITED_TEXT;
    switch (c) {
      case 'cpu':
        put('cpu.shares', '1024');
        put('cpu.cfs_period_us', '100000');
        put('cpu.cfs_quota_us', '-1');
        put('cpu.cfs_burst_us', '0');
        put('cpu.rt_period_us', '1000000');
        put('cpu.rt_runtime_us', '0');
        put('cpu.idle', '0');
        return;
      case 'cpuacct':
        put('cpuacct.usage', '0');
        return;
      case 'cpuset':
        put('cpuset.cpus', root ? this.opts.cpus : '');
        put('cpuset.mems', root ? this.opts.mems : '');
        return;
      case 'memory':
        put('memory.limit_in_bytes', unlimited);
        put('memory.soft_limit_in_bytes', unlimited);
        put('memory.usage_in_bytes', '0');
        put('memory.max_usage_in_bytes', '0');
        put('memory.failcnt', '0');
        put('memory.swappiness', '60');
        put('memory.use_hierarchy', '1');
        put('memory.oom_control', 'oom_kill_disable 0\nunder_oom 0\noom_kill 0\n');
        if (this.opts.swapAccounting) {
          put('memory.memsw.limit_in_bytes', unlimited);
          put('memory.memsw.usage_in_bytes', '0');
        }
        return;
      case 'devices':
        put('devices.allow', '');
        put('devices.deny', '');
        put('devices.list', root ? 'a *:* rwm' : this.read(path.join(parent, 'devices.list')));
        return;
      case 'freezer':
        if (!root) put('freezer.state', 'THAWED');
        return;
      case 'blkio':
        if (this.opts.blkioWeight !== null) put(this.opts.blkioWeight, '100');
        for (const f of [
          'read_bps_device',
          'write_bps_device',
          'read_iops_device',
          'write_iops_device',
        ]) {
          put(`blkio.throttle.${f}`, '');
        }
        return;
      case 'pids':
        if (!root) put('pids.max', MAX);
        put('pids.current', '0');
        return;
      case 'hugetlb':
        for (const size of this.opts.hugepageSizes)
          put(`hugetlb.${size}.limit_in_bytes`, unlimited);
        return;
      case 'net_cls':
        put('net_cls.classid', '0');
        return;
      case 'net_prio':
        put('net_prio.ifpriomap', '');
        return;
    }
  }
}

function pageDown(n: number): number {
  return Math.floor(n / PAGE) * PAGE;
}

/** v1 memory values: bytes, with the kernel's K/M/G suffixes, or -1. */
function v1Bytes(value: string, bad: (code?: string) => never): number {
  const m = /^(-1|\d+)([kKmMgG]?)$/.exec(value);
  if (m === null) bad();
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase()] ?? 1;
  return m[1] === '-1' ? -1 : Number(m[1]) * unit;
}

function maxOrNumber(value: string, bad: (code?: string) => never): number | typeof MAX {
  if (value === MAX) return MAX;
  if (!/^\d+$/.test(value)) bad();
  return Number(value);
}

/** A cpu or node list, "0-3,5", as a set; undefined when malformed. */
function parseList(text: string): Set<number> | undefined {
  const out = new Set<number>();
  if (text === '') return out;
  for (const part of text.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (m === null) return undefined;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) return undefined;
    for (let i = lo; i <= hi; i++) out.add(i);
  }
  return out;
}
