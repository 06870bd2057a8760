import type { Command } from 'commander';
import { contextFrom } from '../context.js';
import { formatError } from '../report.js';

function defineRm(cmd: Command): Command {
  return cmd
    .description('remove one or more stopped containers')
    .argument('<container...>', 'containers (names or IDs)')
    .option('-f, --force', 'kill and remove running containers too')
    .action(async (refs: string[], opts: { force?: boolean }, command: Command) => {
      const ctx = contextFrom(command);
      const engine = await ctx.engine();
      let failure: unknown;
      for (const ref of refs) {
        try {
          await engine.removeContainer(ref, { force: opts.force === true });
          ctx.out(ref);
        } catch (err) {
          // carry on with the others, as docker does; report each failure
          if (failure !== undefined) process.stderr.write(`${formatError(failure)}\n`);
          failure = err;
        }
      }
      if (failure !== undefined) throw failure as Error;
    });
}

export function register(program: Command): void {
  defineRm(program.command('rm'));
}
