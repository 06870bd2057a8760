import { libc, sysError } from './libc.js';

const LOCK_SH = 1;
const LOCK_EX = 2;
const LOCK_NB = 4;
const EWOULDBLOCK = 11;
const EINTR = 4;

/**
 * flock(2) without waiting (a blocking call would stop the event loop): true when the lock
 * on open file `fd` is taken, false when another open file holds a conflicting one. The lock
 * goes when the file is closed, by the process or by its death (kill -9 included), so it can
 * never be left stale.
 */
export function tryFlock(fd: number, mode: 'shared' | 'exclusive'): boolean {
  const c = libc();
  for (;;) {
    if (c.flock(fd, (mode === 'shared' ? LOCK_SH : LOCK_EX) | LOCK_NB) === 0) return true;
    const errno = c.errno();
    if (errno === EWOULDBLOCK) return false;
    if (errno !== EINTR) throw sysError('flock', errno);
  }
}
