import { errnoCode } from './errors.js';

/**
 * True when a process with this pid exists (kill(pid, 0)): EPERM means it exists but is
 * someone else's. For the pid files of leases, partial downloads and locks; a zombie still
 * counts (runtime's isAlive() reads /proc when that matters).
 */
export function processExists(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoCode(err) === 'EPERM';
  }
}
