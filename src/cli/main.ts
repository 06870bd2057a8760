import { Command, CommanderError, Option } from 'commander';
import { VERSION } from '../util/index.js';
import { commands } from './commands/index.js';
import { EXIT_ENGINE_ERROR, exitCodeOf } from './exit-codes.js';
import { debugDetails, formatError } from './report.js';

/** Thrown by a command to end the CLI with a given exit code (e.g. the container's). */
export class ExitRequest extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
  }
}

export function buildProgram(): Command {
  const program = new Command('chrun')
    .description('A daemonless container engine and OCI runtime')
    .version(VERSION, '-v, --version', 'print the version and exit')
    .helpOption('-h, --help', 'show help')
    .addOption(new Option('--root <dir>', 'keep all storage and state under DIR').env('CHRUN_ROOT'))
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ outputError: () => undefined });
  program.helpCommand('help [command]', 'show help for a command');
  for (const register of commands) register(program);
  return program;
}

function commanderReason(err: CommanderError): string {
  return err.message.replace(/^error:\s*/, '').split('\n')[0] ?? err.message;
}

/** Runs the CLI and resolves to the process exit code. Never throws. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  for (const cmd of program.commands)
    cmd.exitOverride().configureOutput({ outputError: () => undefined });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (err) {
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
