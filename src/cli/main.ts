import { Command, CommanderError, Option } from 'commander';
import { ChrunError, VERSION } from '../util/index.js';
import { commands } from './commands/index.js';
import { EXIT_ENGINE_ERROR } from './exit-codes.js';
import { ExitRequest } from './exit-request.js';
import { EXIT_BROKEN_PIPE, failureStatus, stdoutBroken, watchStdout } from './outcome.js';

export { ExitRequest, EXIT_BROKEN_PIPE };

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

/** Runs the CLI and resolves to the process exit code. Never throws. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram(argv);
  for (const cmd of program.commands)
    cmd.exitOverride().configureOutput({ outputError: () => undefined });
  watchStdout();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return stdoutBroken() ? EXIT_BROKEN_PIPE : 0;
  } catch (err) {
    if (err instanceof CommanderError && !stdoutBroken()) {
      if (err.exitCode === 0) return 0; // --help, --version
      process.stderr.write(`chrun: ${commanderReason(err)} (see 'chrun --help')\n`);
      return EXIT_ENGINE_ERROR;
    }
    return failureStatus(err);
  }
}
