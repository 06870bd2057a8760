import { ChrunError } from '../util/index.js';
import type { InitSession, SpawnInitOptions } from './helper-session.js';
import type { Plan, SeccompRules } from './plan.js';
import { stepError } from './step-error.js';
import type { WaitStatus } from './sync-decoder.js';

/** What a scripted container does: fail at a step, or run and exit. */
export interface FakeOutcome {
  pid?: number;
  /** Fail at the first step with this op (or index), with this errno. */
  failAt?: { op?: string; index?: number; errno: number; detail?: string };
  exit?: WaitStatus;
}

/**
 * A Sys that runs nothing: it records every plan and answers as the helper would, from a
 * script. For unit tests of the runtime.
 */
export class RecordingSys {
  readonly plans: { plan: Plan; opts: SpawnInitOptions | undefined }[] = [];
  readonly kills: { pid: number; signal: number }[] = [];
  readonly seccompCompiles: SeccompRules[] = [];
  outcome: FakeOutcome = {};

  spawnInit(plan: Plan, opts?: SpawnInitOptions): InitSession {
    this.plans.push({ plan, opts });
    const pid = this.outcome.pid ?? 4242 + this.plans.length;
    const fail = this.outcome.failAt;
    const index = fail === undefined ? -1 : (fail.index ?? plan.findIndex((s) => s.op === fail.op));
    const err =
      fail !== undefined && index >= 0
        ? stepError(plan, index, fail.errno, fail.detail ?? '')
        : undefined;
    const hasFifo = plan.some((s) => s.op === 'fifo-wait');
    let startResolve: (() => void) | undefined;
    const started =
      hasFifo && err === undefined
        ? new Promise<void>((res) => (startResolve = res))
        : err !== undefined
          ? Promise.reject(err)
          : Promise.resolve();
    started.catch(() => undefined);
    let exitResolve: ((s: WaitStatus) => void) | undefined;
    const exited =
      err !== undefined
        ? Promise.reject(err)
        : new Promise<WaitStatus>((res) => {
            exitResolve = res;
          });
    exited.catch(() => undefined);
    const exit = this.outcome.exit ?? { code: 0, signal: null };
    void started.then(() => exitResolve?.(exit));
    const kills = this.kills;
    const session: InitSession & { start(): void } = {
      plan,
      helperPid: 1,
      lastPid: pid,
      stdin: null,
      stdout: null,
      stderr: null,
      timings: new Map(plan.map((_s, i) => [i, 1])),
      notes: [],
      pid: () => (err !== undefined && index === 0 ? Promise.reject(err) : Promise.resolve(pid)),
      ready: () => (err !== undefined ? Promise.reject(err) : Promise.resolve()),
      started: () => started,
      exited: () => exited,
      drained: () => Promise.resolve(),
      kill(signal: number) {
        kills.push({ pid, signal });
        exitResolve?.({ code: null, signal });
      },
      resize: () => undefined,
      detach: () => undefined,
      start: () => startResolve?.(),
    };
    return session;
  }

  seccompBpf(rules: SeccompRules): Promise<Buffer> {
    this.seccompCompiles.push(rules);
    if (rules.rules.length > 100000)
      return Promise.reject(new ChrunError('CHRUN_INVALID_ARGUMENT', 'too many'));
    return Promise.resolve(Buffer.alloc(8));
  }
}
