import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import type { Socket } from 'node:net';
import { ChrunError } from '../util/index.js';
import { helperPath } from './helper-path.js';
import type { Plan } from './plan.js';
import { frame, planFrame } from './plan-encoder.js';
import { M } from './protocol.js';
import { stepError } from './step-error.js';
import { SyncDecoder, type HelperMessage, type WaitStatus } from './sync-decoder.js';

export type StdioSpec = 'inherit' | 'pipe' | 'ignore' | number;

export interface SpawnInitOptions {
  /** The container's stdin, stdout, stderr (with a pty: what the helper relays it to). */
  stdio?: [StdioSpec, StdioSpec, StdioSpec];
  /** The helper binary (default: the built one). */
  helper?: string;
}

/** One container process, as the helper reports it. */
export interface InitSession {
  readonly plan: Plan;
  readonly helperPid: number | undefined;
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  /** Microseconds per plan step index, as reported. */
  readonly timings: Map<number, number>;
  readonly notes: { step: number; text: string }[];
  /** The container process's host pid, once known. */
  pid(): Promise<number>;
  /** The latest pid reported (an exec into a pid namespace forks once more). */
  readonly lastPid: number | undefined;
  /** Setup done: the container waits on its exec fifo (or is about to exec). */
  ready(): Promise<void>;
  /** The container process called execve. */
  started(): Promise<void>;
  /** The container process's end. */
  exited(): Promise<WaitStatus>;
  kill(signal: number): void;
  resize(rows: number, cols: number): void;
  /** Lets this Node process exit while the helper keeps the container (create). */
  detach(): void;
}

function hold(r: Readable | null): Readable | null {
  if (r === null) return null;
  const p = new PassThrough();
  r.pipe(p);
  return p;
}

class Deferred<T> {
  readonly promise: Promise<T>;
  resolve!: (v: T) => void;
  reject!: (e: unknown) => void;
  settled = false;
  constructor() {
    this.promise = new Promise<T>((res, rej) => {
      this.resolve = (v) => {
        this.settled = true;
        res(v);
      };
      this.reject = (e) => {
        this.settled = true;
        rej(e);
      };
    });
    // a rejection nobody awaits is reported through the other promises
    this.promise.catch(() => undefined);
  }
}

class HelperInitSession implements InitSession {
  readonly timings = new Map<number, number>();
  readonly notes: { step: number; text: string }[] = [];
  private readonly child: ChildProcess;
  private readonly sock: Socket;
  private readonly decoder = new SyncDecoder();
  private readonly pidD = new Deferred<number>();
  private readonly readyD = new Deferred<undefined>();
  private readonly startedD = new Deferred<undefined>();
  private readonly exitD = new Deferred<WaitStatus>();
  private failure: ChrunError | undefined;
  private containerPid: number | undefined;
  private readonly out: Readable | null;
  private readonly err: Readable | null;

  constructor(
    readonly plan: Plan,
    opts: SpawnInitOptions,
  ) {
    const stdio: StdioOptions = [...(opts.stdio ?? ['inherit', 'inherit', 'inherit']), 'pipe'];
    const helper = opts.helper ?? helperPath();
    this.child = spawn(helper, ['init'], { stdio });
    const sock = this.child.stdio[3] as Socket | null;
    if (sock === null) throw new ChrunError('CHRUN_INTERNAL', 'spawn helper: no sync socket');
    this.sock = sock;
    // node resumes (and so drops) unread child output when the child exits: hold it here
    // until the caller reads, which may be after a short-lived container has ended
    this.out = hold(this.child.stdout);
    this.err = hold(this.child.stderr);
    this.child.on('error', (err) => {
      const e = new ChrunError(
        (err as NodeJS.ErrnoException).code === 'ENOENT'
          ? 'CHRUN_HELPER_MISSING'
          : 'CHRUN_HELPER_FAILED',
        `start helper ${helper}: ${err.message}`,
        { cause: err },
      );
      this.fail(e);
    });
    sock.on('data', (chunk: Buffer) => {
      let msgs: HelperMessage[];
      try {
        msgs = this.decoder.push(chunk);
      } catch (err) {
        this.fail(err as ChrunError);
        return;
      }
      for (const m of msgs) this.onMessage(m);
    });
    sock.on('error', () => undefined);
    sock.on('close', () => {
      if (!this.exitD.settled) {
        this.fail(
          new ChrunError(
            'CHRUN_HELPER_FAILED',
            'run container: the helper ended without reporting an exit status',
          ),
        );
      }
    });
    sock.write(planFrame(plan));
  }

  get lastPid(): number | undefined {
    return this.containerPid;
  }
  get helperPid(): number | undefined {
    return this.child.pid;
  }
  get stdin(): Writable | null {
    return this.child.stdin;
  }
  get stdout(): Readable | null {
    return this.out;
  }
  get stderr(): Readable | null {
    return this.err;
  }

  private fail(err: ChrunError): void {
    this.failure ??= err;
    for (const d of [this.pidD, this.readyD, this.startedD, this.exitD] as Deferred<unknown>[]) {
      if (!d.settled) d.reject(this.failure);
    }
  }

  private onMessage(m: HelperMessage): void {
    switch (m.type) {
      case 'pid':
        this.containerPid = m.pid;
        if (!this.pidD.settled) this.pidD.resolve(m.pid);
        break;
      case 'ready':
        this.readyD.resolve(undefined);
        break;
      case 'timings':
        for (const t of m.timings)
          this.timings.set(t.step, (this.timings.get(t.step) ?? 0) + t.usec);
        break;
      case 'note':
        this.notes.push({ step: m.step, text: m.text });
        break;
      case 'error':
        this.failure ??= stepError(this.plan, m.step, m.errno, m.detail);
        for (const d of [this.pidD, this.readyD, this.startedD] as Deferred<unknown>[]) {
          if (!d.settled) d.reject(this.failure);
        }
        break;
      case 'exec':
        if (!this.readyD.settled) this.readyD.resolve(undefined);
        this.startedD.resolve(undefined);
        break;
      case 'exit':
        if (this.failure !== undefined) {
          this.exitD.reject(this.failure);
        } else {
          if (!this.startedD.settled && !this.readyD.settled) {
            // it died before execve without a report: killed during setup
            const e = new ChrunError(
              'CHRUN_HELPER_FAILED',
              `start container: killed by signal ${m.status.signal ?? '?'} during setup`,
            );
            this.fail(e);
            return;
          }
          // killed while created (waiting on its exec fifo): a plain end, it never ran
          if (!this.startedD.settled)
            this.startedD.reject(
              new ChrunError(
                'CHRUN_STATE_TRANSITION',
                'start container: it ended before it was started',
              ),
            );
          this.exitD.resolve(m.status);
        }
        break;
    }
  }

  pid(): Promise<number> {
    return this.pidD.promise;
  }
  ready(): Promise<void> {
    return this.readyD.promise;
  }
  started(): Promise<void> {
    return this.startedD.promise;
  }
  exited(): Promise<WaitStatus> {
    return this.exitD.promise;
  }

  kill(signal: number): void {
    if (this.exitD.settled) return;
    const b = Buffer.allocUnsafe(4);
    b.writeUInt32LE(signal);
    if (this.sock.writable) this.sock.write(frame(M.KILL, b));
    else if (this.containerPid !== undefined) process.kill(this.containerPid, signal);
  }

  resize(rows: number, cols: number): void {
    const b = Buffer.allocUnsafe(4);
    b.writeUInt16LE(rows, 0);
    b.writeUInt16LE(cols, 2);
    if (this.sock.writable) this.sock.write(frame(M.RESIZE, b));
  }

  detach(): void {
    this.sock.removeAllListeners('close');
    this.sock.on('close', () => undefined);
    this.sock.destroy();
    this.child.unref();
    for (const s of [this.child.stdin, this.child.stdout, this.child.stderr]) s?.destroy();
  }
}

/** Starts `chrun-helper init` with a plan and follows its reports. */
export function spawnInit(plan: Plan, opts: SpawnInitOptions = {}): InitSession {
  return new HelperInitSession(plan, opts);
}
