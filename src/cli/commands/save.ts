import { Option, type Command } from 'commander';
import { contextFrom } from '../context.js';
import { ChrunError } from '../../util/index.js';

export function defineSave(cmd: Command): Command {
  return cmd
    .description('save images to a tar archive (to standard output unless -o)')
    .argument('<image...>', 'images (names or IDs)')
    .option('-o, --output <file>', 'write to FILE instead of standard output')
    .addOption(
      new Option('--format <format>', 'archive format')
        .choices(['docker-archive', 'oci-archive'])
        .default('docker-archive'),
    )
    .action(
      async (
        images: string[],
        opts: { output?: string; format: 'docker-archive' | 'oci-archive' },
        command: Command,
      ) => {
        const ctx = contextFrom(command);
        if (opts.output === undefined && process.stdout.isTTY) {
          throw new ChrunError(
            'CHRUN_INVALID_ARGUMENT',
            'save: refusing to write an archive to a terminal (use -o FILE or redirect)',
          );
        }
        const engine = await ctx.engine();
        await engine.images.save(images, opts.output ?? process.stdout, { format: opts.format });
      },
    );
}

export function register(program: Command): void {
  defineSave(program.command('save'));
}
