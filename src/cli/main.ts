import { Command, CommanderError, Option } from 'commander';
import { ChrunError, VERSION, errnoCode } from '../util/index.js';
import { commands } from './commands/index.js';
import { EXIT_ENGINE_ERROR, exitCodeOf } from './exit-codes.js';
import { debugDetails, formatError } from './report.js';

import { ExitRequest } from './exit-request.js';

export { ExitRequest };

/**
 * The command `argv` runs when only the root's --root comes before it, else undefined
 * (`chrun --help`, `chrun -v`, no command).
 */
function commandOf(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--root') i++;
    else if (!a.startsWith('--root=')) return a.startsWith('-') ? undefined : a;
  }
  return undefined;
}

/**
 * The CLI's commands. With `argv` naming one of them, only that one is defined: defining
 * every command's options was a few milliseconds of each start-up. The others are there for
 * anything else (help, a mistyped command and its suggestion, a root option).
 */
export function buildProgram(argv?: readonly string[]): Command {
  const program = new Command('chrun')
    .description('A daemonless container engine and OCI runtime')
    .version(VERSION, '-v, --version', 'print the version and exit')
    .helpOption('-h, --help', 'show help')
    .addOption(new Option('--root <dir>', 'keep all storage and state under DIR').env('CHRUN_ROOT'))
    .enablePositionalOptions()
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ outputError: () => undefined });
  program.helpCommand(false);
  const word = argv === undefined ? undefined : commandOf(argv);
  const only = commands.find(([name]) => name === word);
  for (const [, register] of only !== undefined ? [only] : commands) register(program);
  defineHelp(program);
  return program;
}

/**
 * `help [command...]`: commander's own prints the whole help and then fails for a name it
 * does not know; this one says in one line which topic is unknown ("help image nope").
 */
function defineHelp(program: Command): void {
  program
    .command('help')
    .description('show help for a command')
    .argument('[command...]', 'the command (and subcommand)')
    .action((names: string[]) => {
      let cmd = program;
      for (const name of names) {
        const sub = cmd.commands.find((c) => c.name() === name || c.aliases().includes(name));
        if (sub === undefined || sub.name() === 'help') {
          throw new ChrunError(
            'CHRUN_INVALID_ARGUMENT',
            `unknown help topic "${names.join(' ')}" (see 'chrun --help')`,
          );
        }
        cmd = sub;
      }
      cmd.outputHelp();
    });
}

function commanderReason(err: CommanderError): string {
  return err.message.replace(/^error:\s*/, '').split('\n')[0] ?? err.message;
}

/**
 * The exit status of a program killed by SIGPIPE, as a shell reports it. Node ignores
 * SIGPIPE, so a closed reader (`chrun save IMG | head -c10`) shows up as EPIPE on standard
 * output: chrun then stops quietly with the status that docker, tar or cat would have.
 */
export const EXIT_BROKEN_PIPE = 128 + 13;

/** Runs the CLI and resolves to the process exit code. Never throws. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram(argv);
  for (const cmd of program.commands)
    cmd.exitOverride().configureOutput({ outputError: () => undefined });
  watchStdout();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return brokenPipe(stdoutError) ? EXIT_BROKEN_PIPE : 0;
  } catch (err) {
    // Whatever failed once the reader of our output went away failed because of it.
    if (brokenPipe(stdoutError)) return EXIT_BROKEN_PIPE;
    if (err instanceof ExitRequest) return err.exitCode;
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return 0; // --help, --version
      process.stderr.write(`chrun: ${commanderReason(err)} (see 'chrun --help')\n`);
      return EXIT_ENGINE_ERROR;
    }
    process.stderr.write(`${formatError(err)}\n`);
    const details = debugDetails(err);
    if (details !== undefined) process.stderr.write(`${details}\n`);
    return exitCodeOf(err);
  }
}

let stdoutError: unknown;
let watching = false;

/**
 * Keeps the first error of standard output (once, for the life of the process: an error
 * event of a write still in flight may come after main() returned, and must not crash).
 */
function watchStdout(): void {
  if (watching) return;
  watching = true;
  process.stdout.on('error', (err) => {
    stdoutError ??= err;
  });
}

function brokenPipe(err: unknown): boolean {
  return errnoCode(err) === 'EPIPE';
}
