import type { Command } from 'commander';
import { contextFrom } from '../context.js';

export function defineImport(cmd: Command): Command {
  return cmd
    .description('create an image from a root file system tarball (such as docker export writes)')
    .argument('<file>', 'the tarball (uncompressed, gzip or zstd), or - for standard input')
    .argument('[reference]', 'name for the image, e.g. myimage:1')
    .option(
      '-c, --change <instruction>',
      'apply a Dockerfile instruction (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR, STOPSIGNAL)',
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .option('-m, --message <text>', 'commit message for the history')
    .option('--platform <os/arch[/variant]>', 'the platform the image is for (default: this host)')
    .action(
      async (
        file: string,
        reference: string | undefined,
        opts: { change: string[]; message?: string; platform?: string },
        command: Command,
      ) => {
        const ctx = contextFrom(command);
        const engine = await ctx.engine();
        const { parsePlatform } = await import('../../oci/index.js');
        const record = await engine.images.import(file === '-' ? process.stdin : file, reference, {
          changes: opts.change,
          ...(opts.message === undefined ? {} : { message: opts.message }),
          ...(opts.platform === undefined ? {} : { platform: parsePlatform(opts.platform) }),
        });
        ctx.out(record.id);
      },
    );
}

export function register(program: Command): void {
  defineImport(program.command('import'));
}
