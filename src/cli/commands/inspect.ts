import type { Command } from 'commander';
import { contextFrom } from '../context.js';
import { formatError } from '../report.js';
import { compileTemplate } from '../template.js';

export function defineInspect(cmd: Command): Command {
  return cmd
    .description('show the details of images as JSON')
    .argument('<image...>', 'images (names or IDs)')
    .option('-f, --format <template>', "a Go-style template, e.g. '{{.Id}}' or '{{json .Config}}'")
    .action(async (images: string[], opts: { format?: string }, command: Command) => {
      const ctx = contextFrom(command);
      // A bad template is refused before any image is looked up.
      const format = opts.format === undefined ? undefined : compileTemplate(opts.format);
      const engine = await ctx.engine();
      const found: unknown[] = [];
      let failure: unknown;
      for (const name of images) {
        try {
          found.push(await engine.images.inspect(name));
        } catch (err) {
          if (failure !== undefined) process.stderr.write(`${formatError(failure)}\n`);
          failure = err;
        }
      }
      if (format !== undefined) {
        for (const item of found) ctx.out(format(item));
      } else if (found.length > 0 || failure === undefined) {
        ctx.out(JSON.stringify(found, null, 4));
      }
      if (failure !== undefined) throw failure as Error;
    });
}

export function register(program: Command): void {
  defineInspect(program.command('inspect'));
}
