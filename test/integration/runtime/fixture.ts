import { mkdtemp, rm } from 'node:fs/promises';
import { after, before } from 'node:test';
import os from 'node:os';
import path from 'node:path';
import type { Spec } from '../../../src/oci/index.js';
import { Runtime, type RunOptions } from '../../../src/runtime/index.js';
import { busyboxBundle, defaultSpec } from '../../helpers/busybox-bundle.js';
import { needsRoot } from '../../helpers/requirements.js';

export interface Fixture {
  dir: string;
  bundle: string;
  stateDir: string;
  rt: Runtime;
  cleanup(): Promise<void>;
}

/** A temp dir with a busybox bundle and a runtime whose state lives there too. */
export async function fixture(spec: Spec = defaultSpec(['true'])): Promise<Fixture> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chrun-rt-'));
  const bundle = path.join(dir, 'bundle');
  await busyboxBundle(bundle, spec);
  const stateDir = path.join(dir, 'state');
  const rt = new Runtime({ stateDir, seccompCacheDir: path.join(dir, 'seccomp') });
  return {
    dir,
    bundle,
    stateDir,
    rt,
    // a test that failed half-way may have left containers: their cgroups would fail the
    // leak checks of every later run, so remove them before the directory
    cleanup: async () => {
      for (const id of await rt.list()) await rt.delete(id, { force: true }).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Runs a command in the fixture's bundle (spec changed by `edit`) and collects its output. */
export async function runIn(
  f: Fixture,
  args: string[],
  edit: (s: Spec) => void = () => undefined,
  opts: RunOptions = {},
): Promise<{
  stdout: string;
  stderr: string;
  exitCode: number;
  signal: string | null;
  oomKilled: boolean;
}> {
  const spec = defaultSpec(args);
  edit(spec);
  const p = await f.rt.run(`t${Math.random().toString(36).slice(2, 10)}`, f.bundle, {
    spec,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...opts,
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  p.stdout?.on('data', (d: Buffer) => out.push(d));
  p.stderr?.on('data', (d: Buffer) => err.push(d));
  const st = await p.wait();
  await Promise.all(
    [p.stdout, p.stderr].map((s) =>
      s === null || s.readableEnded
        ? Promise.resolve()
        : new Promise<void>((r) => s.once('close', () => r())),
    ),
  );
  return {
    stdout: Buffer.concat(out).toString(),
    stderr: Buffer.concat(err).toString(),
    exitCode: st.exitCode,
    signal: st.signal,
    oomKilled: st.oomKilled,
  };
}

/**
 * One fixture for a whole test file, made before its tests and cleaned up after them (as
 * root; `skip` says why not otherwise). `f` stands for it once made:
 *
 *   const { f, skip } = fileFixture();
 */
export function fileFixture(spec?: Spec): { f: Fixture; skip: string | false } {
  const skip = needsRoot();
  let made: Fixture | undefined;
  before(async () => {
    if (!skip) made = await fixture(spec);
  });
  after(async () => {
    await made?.cleanup();
  });
  const get = (): Fixture => {
    if (made === undefined) throw new Error('fileFixture: used outside the tests of its file');
    return made;
  };
  const f: Fixture = {
    get dir() {
      return get().dir;
    },
    get bundle() {
      return get().bundle;
    },
    get stateDir() {
      return get().stateDir;
    },
    get rt() {
      return get().rt;
    },
    cleanup: () => get().cleanup(),
  };
  return { f, skip };
}
