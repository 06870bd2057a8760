import { isatty } from 'node:tty';
import { Option, type Command } from 'commander';
import type { Container, ContainerRunOptions } from '../../engine/index.js';
import { formatExplain } from '../../runtime/index.js';
import { contextFrom } from '../context.js';
import { ExitRequest } from '../exit-request.js';
import { ProgressDisplay } from '../progress.js';

const many = (v: string, acc: string[]): string[] => [...acc, v];

interface RunFlags {
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

function defineRun(cmd: Command): Command {
  return cmd
    .description('run a command in a new container')
    .helpOption('--help', 'show help')
    .argument('<image>', 'the image (pulled when missing)')
    .argument('[command...]', "the command and its arguments (default: the image's)")
    .passThroughOptions()
    .option('-i, --interactive', "keep the container's standard input open")
    .option('-t, --tty', 'give the container a terminal')
    .option('--rm', 'remove the container when it ends')
    .option('--name <name>', 'a name for the container')
    .option('-e, --env <NAME[=value]>', 'set an environment variable', many, [])
    .option('--env-file <file>', 'read environment variables from a file', many, [])
    .option('--entrypoint <command>', "replace the image's entrypoint ('' clears it)")
    .option('-w, --workdir <dir>', 'the working directory (created if missing)')
    .option('-u, --user <user[:group]>', 'the user (name or uid, and group)')
    .option('-h, --hostname <name>', "the container's hostname")
    .option('-v, --volume <host:container[:ro]>', 'bind-mount a host directory', many, [])
    .option('--tmpfs <path[:options]>', 'mount a tmpfs', many, [])
    .option('--read-only', 'mount the root file system read-only')
    .option('--init', 'run a tiny init as PID 1 that forwards signals and reaps zombies')
    .addOption(
      new Option(
        '--network <mode>',
        'none: a network namespace of its own with only lo (the default, until chrun has bridge networks); host: the host network',
      ).choices(['none', 'host']),
    )
    .addOption(
      new Option(
        '--isolation <level>',
        'full: namespaces, pivot_root, capabilities, seccomp, cgroups; chroot: a chrooted process and nothing else (NOT a security boundary)',
      )
        .choices(['full', 'chroot'])
        .default('full'),
    )
    .option('--privileged', 'all capabilities and devices, no seccomp, nothing masked')
    .option('--cap-add <cap>', 'add a capability', many, [])
    .option('--cap-drop <cap>', "drop a capability ('ALL' for all)", many, [])
    .option(
      '--security-opt <opt>',
      'seccomp=unconfined|PROFILE.json, no-new-privileges[=true|false]',
      many,
      [],
    )
    .option('-m, --memory <bytes>', 'memory limit (e.g. 512m)')
    .option('--memory-swap <bytes>', 'memory plus swap limit (-1: unlimited swap)')
    .option('--cpus <number>', 'CPUs the container may use (e.g. 1.5)')
    .option('--cpu-shares <weight>', 'relative CPU weight')
    .option('--pids-limit <n>', 'maximum number of processes (-1: unlimited)')
    .option('--ulimit <name=soft[:hard]>', 'a resource limit', many, [])
    .addOption(
      new Option('--pull <when>', 'pull the image before running')
        .choices(['missing', 'always', 'never'])
        .default('missing'),
    )
    .option(
      '--explain',
      'print each isolation step taken, with its duration in microseconds, on stderr',
    )
    .action(async (image: string, command: string[], f: RunFlags, c: Command) => {
      const ctx = contextFrom(c);
      const engine = await ctx.engine();
      const tty = f.tty === true;
      // this process never reads its stdin: the helper relays it (and makes the terminal raw)
      if (tty && f.interactive === true && !isatty(0))
        throw new Error('the input device is not a TTY');
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
    });
}

export function register(program: Command): void {
  defineRun(program.command('run'));
}
