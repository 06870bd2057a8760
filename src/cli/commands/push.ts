import type { Command } from 'commander';
import { contextFrom } from '../context.js';
import { parseBytes } from '../options.js';
import { ProgressDisplay } from '../progress.js';
import { addRegistryOptions, registryAccess } from '../registry-options.js';

export function definePush(cmd: Command): Command {
  return addRegistryOptions(
    cmd
      .description('upload an image to a registry')
      .argument('<image>', 'the local image (name or ID)')
      .argument('[destination]', 'where to push it (default: the image name)')
      .option('-q, --quiet', 'print nothing but errors'),
  )
    .option(
      '--chunk-size <bytes>',
      'upload blobs in chunks of this size (default: one request per blob)',
      parseBytes,
    )
    .option('--no-mount', 'do not try cross-repository blob mounts')
    .action(
      async (
        image: string,
        destination: string | undefined,
        opts: {
          quiet?: boolean;
          tlsVerify: boolean;
          authfile?: string;
          chunkSize?: number;
          mount: boolean;
        },
        command: Command,
      ) => {
        const ctx = contextFrom(command);
        const engine = await ctx.engine();
        const { parseReference, referenceName } = await import('../../oci/index.js');
        const display =
          opts.quiet === true
            ? undefined
            : new ProgressDisplay(process.stdout, process.stdout.isTTY, 'push');
        try {
          display?.print(
            `The push refers to repository [${referenceName(parseReference(destination ?? image))}]`,
          );
          await engine.images.push(image, destination, {
            ...registryAccess(opts),
            mount: opts.mount,
            ...(opts.chunkSize === undefined ? {} : { chunkSize: opts.chunkSize }),
            ...(display === undefined ? {} : { onProgress: (e) => display.event(e) }),
          });
        } finally {
          display?.end();
        }
      },
    );
}

export function register(program: Command): void {
  definePush(program.command('push'));
}
