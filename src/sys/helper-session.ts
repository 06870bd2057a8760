import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import type { Socket } from 'node:net';
import { ChrunError } from '../util/index.js';
import { helperPath } from './helper-path.js';
import type { Plan } from './plan.js';
import { encodePlan, frame, planFrame } from './plan-encoder.js';
import { M } from './protocol.js';
import { errnoText } from './errno.js';
import { stepError } from './step-error.js';
import {
  FrameSplitter,
  SyncDecoder,
  decodeMessage,
  type HelperMessage,
  type WaitStatus,
} from './sync-decoder.js';

export type StdioSpec = 'inherit' | 'pipe' | 'ignore' | number;

export interface SpawnInitOptions {
  /** The container's stdin, stdout, stderr (with a pty: what the helper relays it to). */
  stdio?: [StdioSpec, StdioSpec, StdioSpec];
  /** The helper binary (default: the built one). */
  helper?: string;
  /**
   * Fork the helper from a resident zygote instead of spawning it (for a process running
   * many containers). Applies to attached containers with inherited or discarded stdio.
   */
  zygote?: boolean;
  /**
   * How long the helper may go without finishing setup (reporting the container ready, or
   * its end) before it is taken for hung, killed, and the run fails. Default 60 s.
   */
  setupTimeoutMs?: number;
}

const DEFAULT_SETUP_TIMEOUT_MS = 60_000;

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
  /**
   * The helper's piped stdout and stderr have been read to their end (they hold the
   * container's output, which may arrive after its exit is reported on the sync channel).
   */
  drained(): Promise<void>;
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

/** How a session reaches its helper: a helper of its own, or a tag on the zygote's socket. */
interface Link {
  readonly helperPid: number | undefined;
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  /** Sends a frame to the helper; false when the channel is closed. */
  send(type: number, payload: Buffer): boolean;
  detach(): void;
  /** Resolves when the piped output streams have been read to their end (see drain). */
  drained(): Promise<void>;
  /** What would be stuck if setup stalled now: 'the helper', or 'the helper zygote'. */
  stuck(): string;
  /** Kills what is stuck. */
  abort(): void;
}

/** Resolves once `r` has been read to its end (or closed); at once for no stream. */
function ended(r: Readable | null): Promise<void> {
  if (r === null) return Promise.resolve();
  return new Promise((resolve) => {
    if (r.readableEnded || r.destroyed) return resolve();
    r.once('end', () => resolve());
    r.once('close', () => resolve());
  });
}

/**
 * Resolves once the helper's pipe `raw` has ended and, when the caller consumes `held` (its
 * copy, flowing: a 'data' listener or a pipe), once `held` has handed the caller its last
 * byte. Data still queued in `held` is delivered on a later tick than the exit, so waiting
 * only for `raw` let wait() resolve before the caller's 'data' listener had seen the output.
 * A `held` nobody reads keeps its data for a later read and is not waited for.
 */
async function drain(raw: Readable | null, held: Readable | null): Promise<void> {
  await ended(raw);
  if (held !== null && held.readableFlowing === true) await ended(held);
}

class HelperInitSession implements InitSession {
  readonly timings = new Map<number, number>();
  readonly notes: { step: number; text: string }[] = [];
  link!: Link;
  private readonly pidD = new Deferred<number>();
  private readonly readyD = new Deferred<undefined>();
  private readonly startedD = new Deferred<undefined>();
  private readonly exitD = new Deferred<WaitStatus>();
  private failure: ChrunError | undefined;
  private containerPid: number | undefined;
  private setupTimer: NodeJS.Timeout | undefined;

  constructor(readonly plan: Plan) {
    // whichever way setup ends, the timer goes
    const stop = () => clearTimeout(this.setupTimer);
    for (const d of [this.readyD, this.startedD, this.exitD] as Deferred<unknown>[])
      d.promise.then(stop, stop);
  }

  /** Fails the session and kills the helper if setup is not over within `ms`. */
  armSetupTimer(ms: number): void {
    this.setupTimer = setTimeout(() => {
      if (this.readyD.settled || this.exitD.settled) return;
      this.fail(
        new ChrunError(
          'CHRUN_HELPER_FAILED',
          `run container: ${this.link.stuck()} made no progress for ${ms / 1000} s during setup (killed)`,
        ),
      );
      this.link.abort();
    }, ms);
    this.setupTimer.unref();
  }

  /** The channel closed: without an exit status, the helper failed. */
  closed(): void {
    if (!this.exitD.settled) {
      this.fail(
        new ChrunError(
          'CHRUN_HELPER_FAILED',
          'run container: the helper ended without reporting an exit status',
        ),
      );
    }
  }

  get lastPid(): number | undefined {
    return this.containerPid;
  }
  get helperPid(): number | undefined {
    return this.link.helperPid;
  }
  get stdin(): Writable | null {
    return this.link.stdin;
  }
  get stdout(): Readable | null {
    return this.link.stdout;
  }
  get stderr(): Readable | null {
    return this.link.stderr;
  }

  fail(err: ChrunError): void {
    this.failure ??= err;
    for (const d of [this.pidD, this.readyD, this.startedD, this.exitD] as Deferred<unknown>[]) {
      if (!d.settled) d.reject(this.failure);
    }
  }

  onMessage(m: HelperMessage): void {
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
  drained(): Promise<void> {
    return this.link.drained();
  }

  kill(signal: number): void {
    if (this.exitD.settled) return;
    const b = Buffer.allocUnsafe(4);
    b.writeUInt32LE(signal);
    if (!this.link.send(M.KILL, b) && this.containerPid !== undefined) {
      process.kill(this.containerPid, signal);
    }
  }

  resize(rows: number, cols: number): void {
    const b = Buffer.allocUnsafe(4);
    b.writeUInt16LE(rows, 0);
    b.writeUInt16LE(cols, 2);
    this.link.send(M.RESIZE, b);
  }

  detach(): void {
    this.link.detach();
  }
}

/** A helper process of the session's own: `chrun-helper init`, the plan on fd 3. */
function directLink(session: HelperInitSession, opts: SpawnInitOptions): Link {
  const stdio: StdioOptions = [...(opts.stdio ?? ['inherit', 'inherit', 'inherit']), 'pipe'];
  const helper = opts.helper ?? helperPath();
  const child = spawn(helper, ['init'], { stdio });
  const sock = child.stdio[3] as Socket | null;
  if (sock === null) throw new ChrunError('CHRUN_INTERNAL', 'spawn helper: no sync socket');
  // node resumes (and so drops) unread child output when the child exits: hold it here
  // until the caller reads, which may be after a short-lived container has ended
  const out = hold(child.stdout);
  const err = hold(child.stderr);
  child.on('error', (e) => session.fail(helperError(helper, e)));
  const decoder = new SyncDecoder();
  sock.on('data', (chunk: Buffer) => {
    let msgs: HelperMessage[];
    try {
      msgs = decoder.push(chunk);
    } catch (e) {
      session.fail(e as ChrunError);
      return;
    }
    for (const m of msgs) session.onMessage(m);
  });
  sock.on('error', () => undefined);
  sock.on('close', () => session.closed());
  sock.write(planFrame(session.plan));
  return {
    helperPid: child.pid,
    stdin: child.stdin,
    stdout: out,
    stderr: err,
    drained: async () => {
      await Promise.all([drain(child.stdout, out), drain(child.stderr, err)]);
    },
    send: (type, payload) => {
      if (!sock.writable) return false;
      sock.write(frame(type, payload));
      return true;
    },
    detach: () => {
      sock.removeAllListeners('close');
      sock.on('close', () => undefined);
      sock.destroy();
      child.unref();
      for (const s of [child.stdin, child.stdout, child.stderr]) s?.destroy();
    },
    stuck: () => 'the helper',
    abort: () => {
      child.kill('SIGKILL');
    },
  };
}

function helperError(helper: string, err: Error): ChrunError {
  return new ChrunError(
    (err as NodeJS.ErrnoException).code === 'ENOENT'
      ? 'CHRUN_HELPER_MISSING'
      : 'CHRUN_HELPER_FAILED',
    `start helper ${helper}: ${err.message}`,
    { cause: err },
  );
}

/**
 * `chrun-helper zygote`: one resident helper that forks the host side of each container, so
 * running many containers costs a fork of a small C process each instead of a fork+exec of
 * this Node process (which blocks the event loop until the exec). Used for containers whose
 * stdio is inherited or discarded; it keeps Node alive only while it has containers.
 */
class Zygote {
  private readonly child: ChildProcess;
  private readonly sock: Socket;
  private readonly sessions = new Map<number, HelperInitSession>();
  /** The helper forked for each tag, once the zygote has said. */
  private readonly pids = new Map<number, number>();
  private nextTag = 1;
  private dead: ChrunError | undefined;

  constructor(private readonly helper: string) {
    this.child = spawn(helper, ['zygote'], { stdio: ['inherit', 'inherit', 'inherit', 'pipe'] });
    const sock = this.child.stdio[3] as Socket | null;
    if (sock === null) throw new ChrunError('CHRUN_INTERNAL', 'spawn zygote: no socket');
    this.sock = sock;
    const frames = new FrameSplitter();
    const dieAll = (e: ChrunError): void => {
      this.dead ??= e;
      this.pids.clear();
      for (const s of this.sessions.values()) s.fail(e);
      this.sessions.clear();
      zygotes.delete(this.helper);
    };
    this.child.on('error', (e) => dieAll(helperError(helper, e)));
    sock.on('data', (chunk: Buffer) => {
      let list;
      try {
        list = frames.push(chunk);
      } catch (e) {
        dieAll(e as ChrunError);
        return;
      }
      for (const f of list) {
        const s = this.sessions.get(f.aux);
        if (s === undefined) continue;
        if (f.type === M.GONE) {
          this.sessions.delete(f.aux);
          this.pids.delete(f.aux);
          s.closed();
          this.refs();
          continue;
        }
        if (f.type === M.SPAWNED) {
          const v = f.payload.length >= 4 ? f.payload.readInt32LE(0) : -22;
          if (v > 0) {
            this.pids.set(f.aux, v);
          } else {
            this.sessions.delete(f.aux);
            s.fail(
              new ChrunError(
                'CHRUN_HELPER_FAILED',
                `run container: the helper zygote could not start a helper: ${errnoText(-v)}`,
              ),
            );
            this.refs();
          }
          continue;
        }
        let m: HelperMessage | undefined;
        try {
          m = decodeMessage(f.type, f.aux, f.payload);
        } catch (e) {
          s.fail(e as ChrunError);
          continue;
        }
        if (m !== undefined) s.onMessage(m);
      }
    });
    sock.on('error', () => undefined);
    sock.on('close', () =>
      dieAll(new ChrunError('CHRUN_HELPER_FAILED', 'run container: the helper zygote ended')),
    );
    this.dieAll = dieAll;
    this.refs();
  }

  private readonly dieAll: (e: ChrunError) => void;

  close(): void {
    this.sock.destroy();
    this.child.unref();
  }

  /** Keeps this Node process alive while containers run, not longer. */
  private refs(): void {
    if (this.sessions.size > 0) {
      this.child.ref();
      this.sock.ref();
    } else {
      this.child.unref();
      this.sock.unref();
    }
  }

  start(session: HelperInitSession, stdio: readonly StdioSpec[]): Link {
    if (this.dead !== undefined) throw this.dead;
    let tag = this.nextTag;
    while (this.sessions.has(tag)) tag = (tag % 0xffff) + 1;
    this.nextTag = (tag % 0xffff) + 1;
    this.sessions.set(tag, session);
    this.refs();
    const head = Buffer.from(stdio.map((s) => (s === 'ignore' ? 1 : 0)).concat([0]));
    this.sock.write(frame(M.SPAWN, Buffer.concat([head, encodePlan(session.plan)]), tag));
    const send = (type: number, payload: Buffer): boolean => {
      if (!this.sessions.has(tag)) return false;
      this.sock.write(frame(type, payload, tag));
      return true;
    };
    return {
      helperPid: this.child.pid,
      stdin: null,
      stdout: null,
      stderr: null,
      drained: () => Promise.resolve(),
      send,
      detach: () => {
        this.sessions.delete(tag);
        this.refs();
      },
      stuck: () => (this.pids.has(tag) ? 'the helper' : 'the helper zygote'),
      abort: () => {
        const pid = this.pids.get(tag);
        if (pid !== undefined) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            /* gone meanwhile */
          }
          return;
        }
        // The zygote never answered the spawn: it is stuck, and so is every later spawn.
        this.child.kill('SIGKILL');
        this.dieAll(
          new ChrunError(
            'CHRUN_HELPER_FAILED',
            'run container: the helper zygote stopped answering',
          ),
        );
      },
    };
  }
}

const zygotes = new Map<string, Zygote>();

/** The resident zygote of this helper binary, started if there is none yet. */
function zygoteOf(helper: string): Zygote {
  let z = zygotes.get(helper);
  if (z === undefined) {
    z = new Zygote(helper);
    zygotes.set(helper, z);
  }
  return z;
}

/**
 * Starts the zygote now, so its spawn (a fork and exec of a large Node process, milliseconds)
 * overlaps with the work before the first container instead of delaying it.
 */
export function warmZygote(helper: string = helperPath()): void {
  zygoteOf(helper);
}

/** Ends the resident zygotes (their running containers are killed, as if chrun died). */
export function closeZygotes(): void {
  for (const z of zygotes.values()) z.close();
  zygotes.clear();
}

/** True when the zygote can serve these options (no pipes to hand over, no pty relay). */
function zygoteCan(plan: Plan, opts: SpawnInitOptions): boolean {
  const stdio = opts.stdio ?? ['inherit', 'inherit', 'inherit'];
  return (
    opts.zygote === true &&
    stdio.every((s) => s === 'inherit' || s === 'ignore') &&
    plan.every((s) => s.op !== 'pty' && !(s.op === 'clone' && !s.attached))
  );
}

/** Starts `chrun-helper init` with a plan and follows its reports. */
export function spawnInit(plan: Plan, opts: SpawnInitOptions = {}): InitSession {
  const session = new HelperInitSession(plan);
  if (zygoteCan(plan, opts)) {
    session.link = zygoteOf(opts.helper ?? helperPath()).start(
      session,
      opts.stdio ?? ['inherit', 'inherit', 'inherit'],
    );
  } else {
    session.link = directLink(session, opts);
  }
  session.armSetupTimer(opts.setupTimeoutMs ?? DEFAULT_SETUP_TIMEOUT_MS);
  return session;
}
