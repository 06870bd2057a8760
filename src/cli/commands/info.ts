import { Option, type Command } from 'commander';
import { contextFrom } from '../context.js';

export function register(program: Command): void {
  program
    .command('info')
    .description('show where chrun keeps its data and what this host supports')
    .addOption(
      new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'),
    )
    .action(async (opts: { format: string }, cmd: Command) => {
      const ctx = contextFrom(cmd);
      const engine = await ctx.engine();
      const info = await engine.info();
      if (opts.format === 'json') {
        ctx.out(JSON.stringify(info, null, 2));
        return;
      }
      ctx.out(
        [
          `version:      ${info.version}`,
          `storage:      ${info.paths.storage}`,
          `state:        ${info.paths.state}`,
          `kernel:       ${info.kernel}`,
          `cgroups:      ${info.cgroups.mode}`,
          `overlayfs:    ${info.overlay ? 'yes' : 'no'}`,
          `helper:       ${info.helper ?? 'not built (run: npm run build:native)'}`,
          `gunzip:       ${info.gunzip.kind === 'isal' ? `ISA-L (${info.gunzip.library})` : `node:zlib (${info.gunzip.reason})`}`,
        ].join('\n'),
      );
    });
}
