import { readFileSync, readdirSync } from 'node:fs';
import type { Item } from './inventory.js';

export interface ProcStat {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
  /** Clock ticks after boot: with the pid, a process's identity (pids are reused). */
  startTime: string;
}

/** Parses /proc/PID/stat; the command name may hold spaces and parentheses. */
export function parseStat(text: string): ProcStat {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) throw new Error(`parse /proc stat: ${text.slice(0, 80)}`);
  const rest = text.slice(close + 2).split(' ');
  // Fields after the name start at field 3 (state); starttime is field 22.
  return {
    pid: Number(text.slice(0, open).trim()),
    comm: text.slice(open + 1, close),
    state: rest[0] ?? '?',
    ppid: Number(rest[1]),
    startTime: rest[19] ?? '0',
  };
}

// Synchronous on purpose: a few hundred tiny /proc reads take a few milliseconds this way
// and several times longer through the thread pool.
function readOrUndefined(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined; // the process exited while we looked
  }
}

export function allProcesses(): ProcStat[] {
  const stats: ProcStat[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const text = readOrUndefined(`/proc/${pid}/stat`);
    if (text !== undefined) stats.push(parseStat(text));
  }
  return stats;
}

/** Every descendant of `root` in the process table (pid order). */
export function descendants(procs: ProcStat[], root: number): ProcStat[] {
  const children = new Map<number, ProcStat[]>();
  for (const p of procs) {
    const list = children.get(p.ppid);
    if (list) list.push(p);
    else children.set(p.ppid, [p]);
  }
  const out: ProcStat[] = [];
  const queue = [root];
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    for (const c of children.get(pid) ?? []) {
      out.push(c);
      queue.push(c.pid);
    }
  }
  return out.sort((a, b) => a.pid - b.pid);
}

function describe(p: ProcStat): string {
  const cmdline = readOrUndefined(`/proc/${p.pid}/cmdline`) ?? '';
  const args = cmdline.split('\0').filter(Boolean).join(' ');
  const zombie = p.state === 'Z' ? ' (zombie)' : '';
  return `process ${p.pid} ${args === '' ? `[${p.comm}]` : args}${zombie}`;
}

/** `pid` and its ancestors up to init. */
function ancestry(procs: ProcStat[], pid: number): Set<number> {
  const byPid = new Map(procs.map((p) => [p.pid, p]));
  const out = new Set<number>();
  for (let p = byPid.get(pid); p !== undefined && !out.has(p.pid); p = byPid.get(p.ppid)) {
    out.add(p.pid);
  }
  return out;
}

/**
 * The processes a test can leave: every descendant of this process, plus orphans that left
 * the tree (reparented to init by a double fork, as daemons and container monitors do) yet
 * still sit in this process's cgroups, with their descendants. The checker's own short-lived
 * commands are not running while this looks.
 */
export function processItems(self = process.pid): Item[] {
  const procs = allProcesses();
  const mine = ancestry(procs, self);
  const ownCgroups = readOrUndefined(`/proc/${self}/cgroup`);
  const orphans = procs.filter(
    (p) =>
      p.ppid === 1 && !mine.has(p.pid) && readOrUndefined(`/proc/${p.pid}/cgroup`) === ownCgroups,
  );
  const found = [
    ...descendants(procs, self),
    ...orphans.flatMap((o) => [o, ...descendants(procs, o.pid)]),
  ];
  return found.map((p) => ({ key: `${p.pid}:${p.startTime}`, text: describe(p) }));
}
