import { spawnSync } from 'node:child_process';

/**
 * Test preconditions. A test that cannot run here is skipped with the reason, never passed
 * silently. With CHRUN_TEST_STRICT=1 (set by .ci/run) a missing precondition fails the test
 * instead, so CI cannot go green by skipping.
 */
export function skipUnless(ok: boolean, reason: string): string | false {
  if (ok) return false;
  if (process.env.CHRUN_TEST_STRICT === '1') {
    throw new Error(`test precondition not met under CHRUN_TEST_STRICT: ${reason}`);
  }
  return reason;
}

export const isRoot = process.getuid?.() === 0;

/** `{ skip: needsRoot() }` on root-only tests. */
export function needsRoot(): string | false {
  return skipUnless(isRoot, 'needs root (run the suite as root)');
}

const found = new Map<string, boolean>();

/** True when `cmd` is on PATH. */
export function hasCommand(cmd: string): boolean {
  let ok = found.get(cmd);
  if (ok === undefined) {
    ok = spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
    found.set(cmd, ok);
  }
  return ok;
}

/** `{ skip: needsCommands('skopeo', 'umoci') }`, root included when `root` is true. */
export function needsCommands(...cmds: string[]): string | false {
  const missing = cmds.filter((c) => !hasCommand(c));
  return skipUnless(missing.length === 0, `needs ${missing.join(', ')} (installed by .ci/run)`);
}

/** Root and commands together. */
export function needsRootAnd(...cmds: string[]): string | false {
  return needsRoot() || needsCommands(...cmds);
}
