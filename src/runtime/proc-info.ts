import { readFileSync } from 'node:fs';

/** State letter and start time of a process (from /proc/PID/stat), or undefined if gone. */
export function procStat(pid: number): { state: string; start: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // the command name may hold spaces and parentheses: fields follow the last ')'
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = rest[0] ?? '?';
  const start = Number(rest[19]);
  return { state, start };
}

/** True when pid is running (not a zombie) and, if given, started at `start`. */
export function isAlive(pid: number | undefined, start?: number): boolean {
  if (pid === undefined || pid <= 0) return false;
  const st = procStat(pid);
  if (st === undefined || st.state === 'Z' || st.state === 'X') return false;
  return start === undefined || st.start === start;
}
