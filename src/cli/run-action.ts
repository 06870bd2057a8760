import { createRequire } from 'node:module';
import type { Container, ContainerRunOptions } from '../engine/index.js';
import { formatExplain } from '../runtime/index.js';
import type { CliContext } from './context.js';
import { ExitRequest } from './exit-request.js';
import { ProgressDisplay } from './progress.js';

/** `chrun run`'s options, as commander (commands/run.ts) or the lean parser (lean-run.ts) read them. */
export interface RunFlags {
  interactive?: boolean;
  tty?: boolean;
  rm?: boolean;
  name?: string;
  env: string[];
  envFile: string[];
  entrypoint?: string;
  workdir?: string;
  user?: string;
  hostname?: string;
  volume: string[];
  tmpfs: string[];
  readOnly?: boolean;
  init?: boolean;
  network?: 'none' | 'host';
  isolation: 'full' | 'chroot';
  privileged?: boolean;
  capAdd: string[];
  capDrop: string[];
  securityOpt: string[];
  memory?: string;
  memorySwap?: string;
  cpus?: string;
  cpuShares?: string;
  pidsLimit?: string;
  ulimit: string[];
  pull: 'missing' | 'always' | 'never';
  explain?: boolean;
}

/** Signals chrun passes on to the container (SIGWINCH becomes a resize with a terminal). */
const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as const;

/**
 * Runs a container attached to this process's stdio and throws ExitRequest with its exit
 * status (the action of `chrun run`, whichever parser read the flags).
 */
export async function runAttached(
  ctx: CliContext,
  image: string,
  command: string[],
  f: RunFlags,
): Promise<never> {
  const engine = await ctx.engine();
  const tty = f.tty === true;
  // node:tty only with -t (measured: ~1.3 ms of a cold start that has no use for it); by
  // require: bin/chrun runs the bundle as a script, which has no dynamic import()
  const isatty = tty
    ? (createRequire(import.meta.url)('node:tty') as typeof import('node:tty')).isatty
    : () => false;
  // this process never reads its stdin: the helper relays it (and makes the terminal raw)
  if (tty && f.interactive === true && !isatty(0)) throw new Error('the input device is not a TTY');
  const termOut = tty && isatty(1);
  const options: ContainerRunOptions = {
    ...(command.length > 0 ? { command } : {}),
    ...(f.name !== undefined ? { name: f.name } : {}),
    ...(f.entrypoint !== undefined ? { entrypoint: f.entrypoint } : {}),
    ...(f.workdir !== undefined ? { workdir: f.workdir } : {}),
    ...(f.user !== undefined ? { user: f.user } : {}),
    ...(f.hostname !== undefined ? { hostname: f.hostname } : {}),
    env: f.env,
    envFile: f.envFile,
    remove: f.rm === true,
    volumes: f.volume,
    tmpfs: f.tmpfs,
    readOnly: f.readOnly === true,
    init: f.init === true,
    ...(f.network !== undefined ? { network: f.network } : {}),
    isolation: f.isolation,
    privileged: f.privileged === true,
    capAdd: f.capAdd,
    capDrop: f.capDrop,
    securityOpt: f.securityOpt,
    ...(f.memory !== undefined ? { memory: f.memory } : {}),
    ...(f.memorySwap !== undefined ? { memorySwap: f.memorySwap } : {}),
    ...(f.cpus !== undefined ? { cpus: f.cpus } : {}),
    ...(f.cpuShares !== undefined ? { cpuShares: f.cpuShares } : {}),
    ...(f.pidsLimit !== undefined ? { pidsLimit: f.pidsLimit } : {}),
    ulimits: f.ulimit,
    tty,
    ...(termOut
      ? { consoleSize: { rows: process.stdout.rows, cols: process.stdout.columns } }
      : {}),
    stdio: [f.interactive === true ? 'inherit' : 'ignore', 'inherit', 'inherit'],
    pull: f.pull,
    onPullStart: (name) => process.stderr.write(`Unable to find image '${name}' locally\n`),
  };
  if (f.pull !== 'never') {
    let display: ProgressDisplay | undefined;
    options.onPull = (e) => (display ??= new ProgressDisplay(process.stderr)).event(e);
  }
  // the container's stdio is this process's: signals go to the container (those that
  // come before it runs, once it does), window size changes to its terminal
  let container: Container | undefined;
  const early: NodeJS.Signals[] = [];
  const forward = (sig: NodeJS.Signals): void => {
    if (container === undefined) early.push(sig);
    else container.kill(sig);
  };
  const resize = (): void => {
    const [cols, rows] = process.stdout.getWindowSize();
    container?.resize(rows, cols);
  };
  for (const sig of FORWARDED) process.on(sig, forward);
  if (termOut) process.on('SIGWINCH', resize);
  let exitCode: number;
  try {
    container = await engine.run(image, options);
    for (const sig of early) container.kill(sig);
    if (f.explain === true) process.stderr.write(`${formatExplain(container.explain())}\n`);
    const exit = await container.wait();
    if (exit.oomKilled) process.stderr.write('container killed: out of memory\n');
    exitCode = exit.exitCode;
  } finally {
    for (const sig of FORWARDED) process.off(sig, forward);
    process.off('SIGWINCH', resize);
  }
  throw new ExitRequest(exitCode);
}
