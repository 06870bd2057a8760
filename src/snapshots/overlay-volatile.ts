import os from 'node:os';

/**
 * Whether a kernel's overlayfs takes the `volatile` option (Linux 5.10 and later; an older
 * one refuses the mount with EINVAL). `release`: this kernel's unless given (the tests).
 */
export function volatileSupported(release: string = os.release()): boolean {
  const m = /^(\d+)\.(\d+)/.exec(release);
  if (m === null) return false;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  return major > 5 || (major === 5 && minor >= 10);
}
