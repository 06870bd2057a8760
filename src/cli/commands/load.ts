import type { Command } from 'commander';
import { contextFrom } from '../context.js';
import { ChrunError } from '../../util/index.js';

export function defineLoad(cmd: Command): Command {
  return cmd
    .description('load images from a docker-archive or OCI archive (or OCI layout directory)')
    .option(
      '-i, --input <file>',
      'read from FILE (a tar, gzip or zstd; or a directory) instead of standard input',
    )
    .option('-q, --quiet', 'print only the loaded names')
    .option('--platform <os/arch[/variant]>', 'the platform to take from a multi-platform archive')
    .action(
      async (opts: { input?: string; quiet?: boolean; platform?: string }, command: Command) => {
        const ctx = contextFrom(command);
        if (opts.input === undefined && process.stdin.isTTY) {
          throw new ChrunError(
            'CHRUN_INVALID_ARGUMENT',
            'load: give an archive with -i FILE or on standard input',
          );
        }
        const engine = await ctx.engine();
        const { parsePlatform, familiarString, parseReference } =
          await import('../../oci/index.js');
        const loaded = await engine.images.load(
          opts.input ?? process.stdin,
          opts.platform === undefined ? {} : { platform: parsePlatform(opts.platform) },
        );
        for (const image of loaded) {
          if (image.names.length === 0) ctx.out(`Loaded image ID: ${image.record.id}`);
          for (const n of image.names)
            ctx.out(`Loaded image: ${familiarString(parseReference(n))}`);
        }
      },
    );
}

export function register(program: Command): void {
  defineLoad(program.command('load'));
}
