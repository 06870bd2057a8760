import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import net from 'node:net';
import { ChrunError, describeError } from '../util/index.js';

/**
 * Inter-process locks on Linux abstract Unix sockets. Binding an abstract socket name is
 * exclusive, and the kernel frees the name when the holder closes it or dies (kill -9
 * included), so a lock can never be left stale and no lock file needs cleaning up. Node has
 * no flock(2); a lock file with a pid needs stale-lock breaking, which races. Waiters connect
 * to the holder's socket and are woken when it goes away, instead of polling.
 *
 * The names live in the network namespace of the process: every chrun process sharing a
 * store must share the network namespace (a containerized chrun would need --net=host).
 */
export interface Lock {
  readonly name: string;
  release(): Promise<void>;
}

/** Abstract socket names are at most 107 bytes after the leading NUL. */
const MAX_NAME = 100;

/** A short, stable key for a directory (its device and inode), so bind mounts agree. */
export function lockScope(dir: string): string {
  const st = statSync(dir, { bigint: true });
  return createHash('sha256').update(`${st.dev}:${st.ino}`).digest('hex').slice(0, 16);
}

function socketName(name: string): string {
  const full = `chrun/${name}`;
  if (Buffer.byteLength(full) > MAX_NAME) {
    throw new ChrunError('CHRUN_INTERNAL', `lock name too long: ${name}`);
  }
  return `\0${full}`;
}

class SocketLock implements Lock {
  private readonly sockets = new Set<net.Socket>();
  private released = false;

  constructor(
    readonly name: string,
    private readonly server: net.Server,
  ) {
    server.on('connection', (s) => {
      // Waiters only watch for the close; keep them from holding the loop open.
      s.unref();
      s.on('error', () => undefined);
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  release(): Promise<void> {
    if (this.released) return Promise.resolve();
    this.released = true;
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      for (const s of this.sockets) s.destroy();
    });
  }
}

function tryBind(name: string): Promise<net.Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    const onError = (err: NodeJS.ErrnoException): void => {
      if (err.code === 'EADDRINUSE') resolve(undefined);
      else
        reject(
          new ChrunError('CHRUN_INTERNAL', `lock ${name}: ${describeError(err)}`, { cause: err }),
        );
    };
    server.once('error', onError);
    server.listen({ path: socketName(name), exclusive: true }, () => {
      server.off('error', onError);
      server.unref();
      resolve(server);
    });
  });
}

/** Waits until the current holder of `name` goes away (or a short while has passed). */
function waitForRelease(name: string, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const sock = net.connect({ path: socketName(name) });
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', finish);
      sock.destroy();
      resolve();
    };
    // A safety net: retry now and then even if no close is seen.
    const timer = setTimeout(finish, 2000);
    sock.on('error', finish);
    sock.on('close', finish);
    signal?.addEventListener('abort', finish, { once: true });
  });
}

/** Takes the lock if it is free; undefined when another holder has it. */
export async function tryLock(name: string): Promise<Lock | undefined> {
  const server = await tryBind(name);
  return server === undefined ? undefined : new SocketLock(name, server);
}

export interface LockOptions {
  signal?: AbortSignal;
  /** Called once when the lock is busy and we start waiting. */
  onWait?: () => void;
}

/** Takes the lock, waiting for other holders (in this or other processes) to release it. */
export async function acquireLock(name: string, options: LockOptions = {}): Promise<Lock> {
  let waited = false;
  for (;;) {
    options.signal?.throwIfAborted();
    const lock = await tryLock(name);
    if (lock !== undefined) return lock;
    if (!waited) {
      waited = true;
      options.onWait?.();
    }
    await waitForRelease(name, options.signal);
    // Spread the herd of waiters a little.
    await new Promise((r) => setTimeout(r, Math.random() * 5));
  }
}

/** Runs `fn` while holding the lock. */
export async function withLock<T>(
  name: string,
  fn: () => Promise<T>,
  options: LockOptions = {},
): Promise<T> {
  const lock = await acquireLock(name, options);
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}
