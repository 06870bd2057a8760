// podman as a benchmark peer, set up one way for every bench script: a fresh storage
// (--root/--runroot under the bench's work dir, overlay driver) made before each run and
// reset after it, and runc as the runtime with the lowered ulimits that
// bench/install-peers.sh writes into /etc/containers/containers.conf.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { CommandSubject } from './harness.js';
import type { Trash } from './trash.js';

const CONF = '/etc/containers/containers.conf';
const MARK = '# written by chrun bench/install-peers.sh';

/** Why podman would not run as install-peers.sh sets it up, or undefined when it would. */
export function podmanSetupProblem(): string | undefined {
  try {
    if (readFileSync(CONF, 'utf8').includes(MARK)) return undefined;
    return `${CONF} was not written by bench/install-peers.sh (runc, ulimits)`;
  } catch {
    return `no ${CONF}: run bench/install-peers.sh`;
  }
}

/**
 * A podman subject running `podman GLOBAL... ARGS...` against a fresh storage in
 * `work/podman` each run (one podman subject per work dir). With `trash` (commands that make
 * no containers: pull, load), each run's storage is set aside instead of reset (trash.ts)
 * and the disk synced before the run.
 */
export function podmanSubject(
  name: string,
  work: string,
  args: readonly string[],
  trash?: Trash,
): CommandSubject {
  // Short: podman refuses a runroot longer than 50 characters.
  const root = path.join(work, 'podman');
  const runroot = path.join(work, 'podrun');
  const podman = [
    'podman',
    '--root',
    root,
    '--runroot',
    runroot,
    '--storage-driver',
    'overlay',
    '--runtime',
    'runc',
  ];
  if (trash !== undefined) {
    return {
      name,
      argv: [...podman, ...args],
      setup: trash.clear(root, runroot),
    };
  }
  return {
    name,
    argv: [...podman, ...args],
    setup: [['rm', '-rf', root, runroot]],
    cleanup: [[...podman, 'system', 'reset', '-f']],
  };
}
