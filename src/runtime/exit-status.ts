import { constants } from 'node:os';
import type { WaitStatus } from '../sys/index.js';
import { ChrunError } from '../util/index.js';

/** How a container process ended. */
export interface ExitStatus {
  /** Its exit code, or null when a signal killed it. */
  code: number | null;
  /** The signal that killed it. */
  signal: NodeJS.Signals | null;
  /** The shell's convention: the code, or 128 + the signal number. */
  exitCode: number;
  /** The kernel's OOM killer ended it (or a process of its cgroup). */
  oomKilled: boolean;
}

const SIGNAL_NAMES = new Map<number, NodeJS.Signals>(
  Object.entries(constants.signals).map(([name, n]) => [n, name as NodeJS.Signals]),
);

export function exitStatus(w: WaitStatus, oomKilled = false): ExitStatus {
  if (w.signal !== null) {
    return {
      code: null,
      signal: SIGNAL_NAMES.get(w.signal) ?? null,
      exitCode: 128 + w.signal,
      oomKilled,
    };
  }
  return { code: w.code, signal: null, exitCode: w.code ?? 0, oomKilled };
}

/** A signal name or number as a number; throws on an unknown name. */
export function signalNumber(sig: string | number): number {
  if (typeof sig === 'number') return sig;
  const name = sig.toUpperCase().startsWith('SIG') ? sig.toUpperCase() : `SIG${sig.toUpperCase()}`;
  const n = (constants.signals as Record<string, number | undefined>)[name];
  if (n === undefined) {
    if (/^\d+$/.test(sig)) return Number(sig);
    throw new ChrunError('CHRUN_INVALID_ARGUMENT', `signal ${sig}: unknown signal`);
  }
  return n;
}
