import { cliContext } from './context.js';
import { failureStatus, stdoutBroken, EXIT_BROKEN_PIPE, watchStdout } from './outcome.js';
import { runAttached, type RunFlags } from './run-action.js';

/**
 * The lean path of `chrun run`: bin/chrun loads this entry point (its own bundle,
 * dist/bundle/run.cjs, made by scripts/bundle.mjs) for a command line whose word is `run`,
 * instead of the whole CLI with commander. Its parser reads only what it knows commander
 * would read the same way (commands/run.ts defines the options; the same names here) and
 * gives up on anything else: a flag it does not know, a bad value, --help, a missing image.
 * bin/chrun then runs the full CLI, so every message, help text and exit code is
 * commander's, from one place. Measured (bench/startup.ts): loading commander and defining
 * the program was ~30 ms of a ~140 ms `chrun run`.
 */

/** What `chrun [--root DIR] run [OPTIONS] IMAGE [COMMAND [ARG...]]` asks for. */
export interface LeanRun {
  root: string | undefined;
  image: string;
  command: string[];
  flags: RunFlags;
}

type ListKey =
  'env' | 'envFile' | 'volume' | 'tmpfs' | 'capAdd' | 'capDrop' | 'securityOpt' | 'ulimit';
type ValueKey =
  | 'name'
  | 'entrypoint'
  | 'workdir'
  | 'user'
  | 'hostname'
  | 'memory'
  | 'memorySwap'
  | 'cpus'
  | 'cpuShares'
  | 'pidsLimit';
type ChoiceKey = 'network' | 'isolation' | 'pull';
type BoolKey = 'interactive' | 'tty' | 'rm' | 'readOnly' | 'init' | 'privileged' | 'explain';

type Spec =
  | { kind: 'list'; key: ListKey }
  | { kind: 'value'; key: ValueKey }
  | { kind: 'choice'; key: ChoiceKey; choices: readonly string[] }
  | { kind: 'bool'; key: BoolKey };

const list = (key: ListKey): Spec => ({ kind: 'list', key });
const value = (key: ValueKey): Spec => ({ kind: 'value', key });
const bool = (key: BoolKey): Spec => ({ kind: 'bool', key });
const choice = (key: ChoiceKey, choices: readonly string[]): Spec => ({
  kind: 'choice',
  key,
  choices,
});

/** commands/run.ts's options, by every name commander accepts for them. */
const OPTIONS = new Map<string, Spec>([
  ['-i', bool('interactive')],
  ['--interactive', bool('interactive')],
  ['-t', bool('tty')],
  ['--tty', bool('tty')],
  ['--rm', bool('rm')],
  ['--name', value('name')],
  ['-e', list('env')],
  ['--env', list('env')],
  ['--env-file', list('envFile')],
  ['--entrypoint', value('entrypoint')],
  ['-w', value('workdir')],
  ['--workdir', value('workdir')],
  ['-u', value('user')],
  ['--user', value('user')],
  ['-h', value('hostname')],
  ['--hostname', value('hostname')],
  ['-v', list('volume')],
  ['--volume', list('volume')],
  ['--tmpfs', list('tmpfs')],
  ['--read-only', bool('readOnly')],
  ['--init', bool('init')],
  ['--network', choice('network', ['none', 'host'])],
  ['--isolation', choice('isolation', ['full', 'chroot'])],
  ['--privileged', bool('privileged')],
  ['--cap-add', list('capAdd')],
  ['--cap-drop', list('capDrop')],
  ['--security-opt', list('securityOpt')],
  ['-m', value('memory')],
  ['--memory', value('memory')],
  ['--memory-swap', value('memorySwap')],
  ['--cpus', value('cpus')],
  ['--cpu-shares', value('cpuShares')],
  ['--pids-limit', value('pidsLimit')],
  ['--ulimit', list('ulimit')],
  ['--pull', choice('pull', ['missing', 'always', 'never'])],
  ['--explain', bool('explain')],
]);

/** Sets one option's value; false when commander would reject it (a choice not offered). */
function assign(flags: RunFlags, spec: Spec, v: string | undefined): boolean {
  switch (spec.kind) {
    case 'bool':
      flags[spec.key] = true;
      return true;
    case 'list':
      flags[spec.key] = [...flags[spec.key], v!];
      return true;
    case 'value':
      flags[spec.key] = v!;
      return true;
    case 'choice':
      if (!spec.choices.includes(v!)) return false;
      (flags as unknown as Record<string, string>)[spec.key] = v!;
      return true;
  }
}

/**
 * The run `argv` asks for, read as commander reads it (options before the image, everything
 * after it the command; `-it`, `-eX=1`, `--name=x`; the last of a repeated value wins), or
 * undefined when it is anything this parser leaves to commander.
 */
export function parseRunArgv(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): LeanRun | undefined {
  let i = 0;
  let root: string | undefined;
  // the program's options: only --root (-v, -h and any other go to commander)
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--root') {
      root = argv[++i];
      if (root === undefined) return undefined;
    } else if (a.startsWith('--root=')) root = a.slice('--root='.length);
    else break;
  }
  if (argv[i++] !== 'run') return undefined;
  root ??= env.CHRUN_ROOT;
  const flags: RunFlags = {
    env: [],
    envFile: [],
    volume: [],
    tmpfs: [],
    capAdd: [],
    capDrop: [],
    securityOpt: [],
    ulimit: [],
    isolation: 'full',
    pull: 'missing',
  };
  let group: string | undefined; // the rest of a group of short options, like -it
  while (group !== undefined || i < argv.length) {
    const a = group ?? argv[i++]!;
    group = undefined;
    if (a.length < 2 || !a.startsWith('-')) {
      // the image: the rest is the container's command, options included
      return { root, image: a, command: argv.slice(i), flags };
    }
    const spec = OPTIONS.get(a);
    if (spec !== undefined) {
      let v: string | undefined;
      if (spec.kind !== 'bool') {
        v = argv[i++];
        if (v === undefined) return undefined;
      }
      if (!assign(flags, spec, v)) return undefined;
      continue;
    }
    if (a[1] !== '-' && a.length > 2) {
      const short = OPTIONS.get(a.slice(0, 2));
      if (short === undefined) return undefined;
      if (short.kind === 'bool') {
        assign(flags, short, undefined);
        group = `-${a.slice(2)}`;
      } else if (!assign(flags, short, a.slice(2))) return undefined;
      continue;
    }
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 2) {
      const long = OPTIONS.get(a.slice(0, eq));
      if (long === undefined || long.kind === 'bool') return undefined;
      if (!assign(flags, long, a.slice(eq + 1))) return undefined;
      continue;
    }
    return undefined; // --, --help, an unknown option
  }
  return undefined; // no image
}

/**
 * Runs `chrun run` when `argv` is one the lean parser reads, resolving to the exit status;
 * undefined for bin/chrun to run the full CLI instead.
 */
export function main(argv: readonly string[]): Promise<number> | undefined {
  const run = parseRunArgv(argv);
  if (run === undefined) return undefined;
  watchStdout();
  return runAttached(cliContext(run.root), run.image, run.command, run.flags).then(
    () => (stdoutBroken() ? EXIT_BROKEN_PIPE : 0),
    failureStatus,
  );
}
