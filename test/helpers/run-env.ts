import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import type { ContainerConfig } from '../../src/oci/index.js';
import { chrunBin, repoRoot, runChrun, type CliOptions, type CliResult } from './cli.js';
import { buildImage, busyboxLayer, writeDockerArchive, type LayerSpec } from './image-builder.js';
import { FIXTURE_MTIME } from './images/busybox.js';
import type { LeakCheckOptions } from './leak-check.js';
import { needsRoot } from './requirements.js';

/** The probe (native/probe): the classic chroot escape where the shell cannot do it. */
export const PROBE = path.join(repoRoot, 'native/build/chrun-probe');

/** The busybox image config the run tests use unless they give their own. */
export const BUSYBOX_CONFIG: ContainerConfig = {
  Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
  Cmd: ['sh'],
};

/** A layer with the probe as /bin/probe. */
export function probeLayer(): LayerSpec {
  return {
    entries: [
      { header: { path: 'bin/', type: 'directory', mode: 0o755, mtime: FIXTURE_MTIME } },
      {
        header: { path: 'bin/probe', type: 'file', mode: 0o755, mtime: FIXTURE_MTIME },
        body: readFileSync(PROBE),
      },
    ],
    compression: 'gzip',
  };
}

export interface RunEnv {
  /** The temp directory (chrun-run-*) holding everything. */
  dir: string;
  /** chrun's --root. */
  root: string;
  /** `bin/chrun --root ROOT ARGS`. */
  chrun(args: readonly string[], opts?: Omit<CliOptions, 'root'>): Promise<CliResult>;
  /** What every test of the run tier checks for leaks, beyond mounts, cgroups and processes. */
  leaks: LeakCheckOptions;
  /** Loads another image (a docker archive built from `layers` and `config`) as `name`. */
  load(name: string, layers: readonly LayerSpec[], config?: ContainerConfig): Promise<void>;
  cleanup(): Promise<void>;
}

/**
 * A store with a busybox image (every applet, plus /bin/probe) loaded as `busybox:latest`,
 * built by the image builder from Debian's busybox-static and loaded with `chrun load`.
 */
export async function runEnv(config: ContainerConfig = BUSYBOX_CONFIG): Promise<RunEnv> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chrun-run-'));
  const root = path.join(dir, 'root');
  const chrun = (args: readonly string[], opts: Omit<CliOptions, 'root'> = {}) =>
    runChrun(args, { ...opts, root });
  const load = async (
    name: string,
    layers: readonly LayerSpec[],
    cfg: ContainerConfig = BUSYBOX_CONFIG,
  ): Promise<void> => {
    const image = await buildImage({ layers, config: cfg });
    const file = path.join(dir, `${name.replace(/[/:]/g, '_')}.tar`);
    await writeDockerArchive(file, image, [name]);
    const r = await chrun(['load', '-i', file]);
    if (r.code !== 0) throw new Error(`chrun load ${name}: ${r.stderr}`);
    await rm(file);
  };
  try {
    await load('busybox:latest', [busyboxLayer({ applets: 'all' }), probeLayer()], config);
    // one container first: the state and record directories exist, the seccomp filter is cached
    const r = await chrun(['run', '--rm', 'busybox', 'true']);
    if (r.code !== 0) throw new Error(`chrun run: ${r.stderr}`);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    dir,
    root,
    chrun,
    load,
    leaks: {
      files: [
        { path: path.join(root, 'containers'), depth: 2 },
        { path: path.join(root, 'snapshots', 'containers') },
        { path: path.join(root, 'run'), depth: 3 },
        { path: os.tmpdir(), match: /^chrun-/ },
      ],
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/**
 * One RunEnv for a whole test file: made before its tests (then `setup` runs on it) and
 * cleaned up after them, as root (`opts.skip` says why not otherwise). `env` stands for it
 * once made; `opts` are the tests' options, with the env's leak checks.
 *
 *   const { env, opts } = fileRunEnv();
 */
export function fileRunEnv(setup?: (env: RunEnv) => Promise<void>): {
  env: RunEnv;
  opts: { skip: string | false; leaks: LeakCheckOptions };
} {
  const skip = needsRoot();
  const leaks: LeakCheckOptions = { files: [] };
  let made: RunEnv | undefined;
  before(async () => {
    if (skip) return;
    made = await runEnv();
    leaks.files = made.leaks.files;
    await setup?.(made);
  });
  after(async () => {
    await made?.cleanup();
  });
  const get = (): RunEnv => {
    if (made === undefined) throw new Error('fileRunEnv: used outside the tests of its file');
    return made;
  };
  const env: RunEnv = {
    get dir() {
      return get().dir;
    },
    get root() {
      return get().root;
    },
    get leaks() {
      return get().leaks;
    },
    chrun: (args, o) => get().chrun(args, o),
    load: (name, layers, config) => get().load(name, layers, config),
    cleanup: () => get().cleanup(),
  };
  return { env, opts: { skip, leaks } };
}

/** A running `bin/chrun` whose output is collected, for tests that signal or kill it. */
export interface LiveChrun {
  pid: number;
  /** Resolves when `text` has appeared on stdout. */
  waitFor(text: string | RegExp, timeoutMs?: number): Promise<void>;
  write(text: string): void;
  /** Writes a control line to the pty driver (fd 3), e.g. "resize 30 100". */
  control(line: string): void;
  done: Promise<CliResult>;
  /** SIGKILL (a failed test's cleanup; the helper then removes the container). */
  kill(): Promise<void>;
}

function live(
  argv: readonly string[],
  file: string,
  opts: { stdin?: boolean; control?: boolean } = {},
): LiveChrun {
  const child = spawn(file, argv, {
    stdio: ['pipe', 'pipe', 'pipe', opts.control === true ? 'pipe' : 'ignore'],
  });
  const out = child.stdout!;
  const err = child.stderr!;
  const input = child.stdin!;
  let stdout = '';
  let stderr = '';
  const waiters: { test: (s: string) => boolean; resolve: () => void }[] = [];
  out.on('data', (d: Buffer) => {
    stdout += d.toString();
    for (const w of [...waiters]) {
      if (w.test(stdout)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  });
  err.on('data', (d: Buffer) => (stderr += d.toString()));
  if (opts.stdin !== true) input.end();
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return {
    pid: child.pid!,
    waitFor: (text, timeoutMs = 20_000) =>
      new Promise((resolve, reject) => {
        const test = (s: string): boolean =>
          typeof text === 'string' ? s.includes(text) : text.test(s);
        if (test(stdout)) return resolve();
        const timer = setTimeout(
          () =>
            reject(
              new Error(
                `timed out waiting for ${String(text)}; stdout: ${stdout}; stderr: ${stderr}`,
              ),
            ),
          timeoutMs,
        );
        waiters.push({
          test,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
        void done.then(() => {
          clearTimeout(timer);
          if (!test(stdout))
            reject(new Error(`ended before ${String(text)}; stdout: ${stdout}; stderr: ${stderr}`));
        });
      }),
    write: (text) => input.write(text),
    control: (line) => (child.stdio[3] as NodeJS.WritableStream).write(`${line}\n`),
    done,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await done.catch(() => undefined);
    },
  };
}

/** `bin/chrun --root ROOT ARGS` left running. */
export function startChrun(env: RunEnv, args: readonly string[], stdin = false): LiveChrun {
  return live(['--root', env.root, ...args], chrunBin, { stdin });
}

/** `bin/chrun --root ROOT ARGS` on a terminal of ROWS x COLS (test/helpers/pty-drive.py). */
export function startChrunOnPty(
  env: RunEnv,
  args: readonly string[],
  size: { rows: number; cols: number } = { rows: 24, cols: 80 },
): LiveChrun {
  return live(
    [
      path.join(repoRoot, 'test/helpers/pty-drive.py'),
      String(size.rows),
      String(size.cols),
      chrunBin,
      '--root',
      env.root,
      ...args,
    ],
    'python3',
    { stdin: true, control: true },
  );
}
