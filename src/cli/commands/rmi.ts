import type { Command } from 'commander';
import { contextFrom } from '../context.js';
import { formatError } from '../report.js';

export function defineRmi(cmd: Command): Command {
  return cmd
    .description('remove one or more images')
    .argument('<image...>', 'images (names or IDs)')
    .option('-f, --force', 'remove even if the image has several names or a container uses it')
    .action(async (images: string[], opts: { force?: boolean }, command: Command) => {
      const ctx = contextFrom(command);
      const engine = await ctx.engine();
      let failure: unknown;
      for (const name of images) {
        try {
          const r = await engine.images.remove(name, { force: opts.force === true });
          for (const u of r.untagged) ctx.out(`Untagged: ${u}`);
          for (const d of r.deleted) ctx.out(`Deleted: ${d}`);
        } catch (err) {
          // Carry on with the other images, as docker does; report each failure.
          if (failure !== undefined) process.stderr.write(`${formatError(failure)}\n`);
          failure = err;
        }
      }
      if (failure !== undefined) throw failure as Error;
    });
}

export function register(program: Command): void {
  defineRmi(program.command('rmi'));
}
