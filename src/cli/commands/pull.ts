import type { Command } from 'commander';
import { contextFrom } from '../context.js';
import { ProgressDisplay } from '../progress.js';
import { addRegistryOptions, registryAccess } from '../registry-options.js';

export function definePull(cmd: Command): Command {
  return addRegistryOptions(
    cmd
      .description('download an image from a registry')
      .argument('<name>', 'image reference, e.g. redis:7 or localhost:5000/app@sha256:...')
      .option('-q, --quiet', 'print only the image reference')
      .option('--platform <os/arch[/variant]>', 'the platform to pull (default: this host)'),
  ).action(
    async (
      name: string,
      opts: { quiet?: boolean; platform?: string; tlsVerify: boolean; authfile?: string },
      command: Command,
    ) => {
      const ctx = contextFrom(command);
      const engine = await ctx.engine();
      const { parsePlatform, parseReference, familiarString } = await import('../../oci/index.js');
      const ref = parseReference(name);
      const platform = opts.platform === undefined ? undefined : parsePlatform(opts.platform);
      const display = opts.quiet === true ? undefined : new ProgressDisplay(process.stdout);
      try {
        const given = parseReference(name, { defaultTag: false });
        if (given.tag === undefined && given.digest === undefined) {
          display?.print('Using default tag: latest');
        }
        display?.print(`${ref.digest ?? ref.tag ?? 'latest'}: Pulling from ${ref.path}`);
        const result = await engine.images.pull(name, {
          ...(platform === undefined ? {} : { platform }),
          ...registryAccess(opts),
          ...(display === undefined ? {} : { onProgress: (e) => display.event(e) }),
        });
        display?.end();
        if (display !== undefined) {
          ctx.out(`Digest: ${result.digest}`);
          ctx.out(
            result.updated
              ? `Status: Downloaded newer image for ${familiarString(ref)}`
              : `Status: Image is up to date for ${familiarString(ref)}`,
          );
        }
        ctx.out(result.reference);
      } finally {
        display?.end();
      }
    },
  );
}

export function register(program: Command): void {
  definePull(program.command('pull'));
}
