import type { Readable, Writable } from 'node:stream';
import type { InitSession, Plan } from '../sys/index.js';
import { explainPlan, type ExplainStep } from './explain.js';
import { signalNumber, type ExitStatus } from './exit-status.js';

/** A running container process (a container's init from `run`, or an `exec`). */
export class ContainerProcess {
  /** Time spent in chrun before the helper took over, by phase. */
  readonly phases: { what: string; usec: number }[] = [];

  constructor(
    readonly id: string,
    /** Host pid of the process. */
    readonly pid: number,
    private readonly session: InitSession,
    private readonly done: Promise<ExitStatus>,
  ) {}

  get stdin(): Writable | null {
    return this.session.stdin;
  }
  get stdout(): Readable | null {
    return this.session.stdout;
  }
  get stderr(): Readable | null {
    return this.session.stderr;
  }
  get plan(): Plan {
    return this.session.plan;
  }

  /**
   * Resolves when the process has ended, the container is cleaned up, and its piped output
   * has all been read into `stdout` and `stderr` (as a child process's 'close': with pipes,
   * read them, or wait() waits for that).
   */
  async wait(): Promise<ExitStatus> {
    const status = await this.done;
    await this.session.drained();
    return status;
  }

  /** Sends a signal ('SIGTERM', 15, ...) to the process. */
  kill(signal: NodeJS.Signals | number = 'SIGTERM'): void {
    this.session.kill(signalNumber(signal));
  }

  /** Sets the pty's window size (with a terminal). */
  resize(rows: number, cols: number): void {
    this.session.resize(rows, cols);
  }

  /** The steps taken to start it and their cost (`--explain`). */
  explain(): ExplainStep[] {
    return explainPlan(this.session.plan, this.session.timings, this.phases);
  }
}
