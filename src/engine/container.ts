import type { Readable, Writable } from 'node:stream';
import type { ContainerProcess, ExplainStep } from '../runtime/index.js';

/** How a container ended. */
export interface ContainerExit {
  /** The shell's convention: its exit code, or 128 + the signal that killed it. */
  exitCode: number;
  /** The signal that killed it, if one did. */
  signal: NodeJS.Signals | null;
  /** The kernel's OOM killer ended it (it went over --memory). */
  oomKilled: boolean;
}

/**
 * A running container, as `engine.run()` returns it: its stdio streams (with the default
 * 'pipe' stdio), `wait()` for how it ended (after which it is cleaned up: removed with
 * `remove`, else kept, stopped, until `engine.removeContainer`), `kill()`, `resize()` of its
 * terminal and `explain()` of the isolation steps it took.
 */
export class Container {
  constructor(
    /** 64 hex digits. */
    readonly id: string,
    readonly name: string,
    private readonly proc: ContainerProcess,
    private readonly done: Promise<ContainerExit>,
    private readonly phases: readonly { what: string; usec: number }[],
  ) {}

  get stdin(): Writable | null {
    return this.proc.stdin;
  }
  get stdout(): Readable | null {
    return this.proc.stdout;
  }
  get stderr(): Readable | null {
    return this.proc.stderr;
  }
  /** The container's init process, as the host sees it. */
  get pid(): number {
    return this.proc.pid;
  }

  /** Resolves once the container has ended and chrun has cleaned up after it. */
  wait(): Promise<ContainerExit> {
    return this.done;
  }

  /** Sends a signal ('SIGTERM', 'SIGKILL', 15, ...) to the container's process. */
  kill(signal: NodeJS.Signals | number = 'SIGTERM'): void {
    this.proc.kill(signal);
  }

  /** Sets the window size of the container's terminal (with `tty`). */
  resize(rows: number, cols: number): void {
    this.proc.resize(rows, cols);
  }

  /**
   * Each step taken to make the container, with its duration in microseconds: chrun's own
   * (image, root, spec, cgroups and limits), the helper's on the host (clone and its flags),
   * and the container's (each mount, pivot_root, capabilities kept, rlimits, seccomp).
   */
  explain(): ExplainStep[] {
    return [
      ...this.phases.map((p) => ({ side: 'chrun' as const, what: p.what, usec: p.usec })),
      ...this.proc.explain(),
    ];
  }
}
