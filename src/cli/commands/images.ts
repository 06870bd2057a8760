import { Option, type Command } from 'commander';
import { contextFrom } from '../context.js';
import { humanSize, since, table } from '../units.js';

export function defineImages(cmd: Command): Command {
  return cmd
    .description('list images')
    .argument('[repository]', 'only images of this repository (optionally with :tag)')
    .option('-q, --quiet', 'print only image IDs')
    .option(
      '-a, --all',
      'show all images (the same as the default: chrun keeps no intermediate images)',
    )
    .option('--digests', 'show manifest digests')
    .option('--no-trunc', 'do not truncate IDs')
    .addOption(
      new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'),
    )
    .action(
      async (
        repository: string | undefined,
        opts: { quiet?: boolean; digests?: boolean; trunc: boolean; format: string },
        command: Command,
      ) => {
        const ctx = contextFrom(command);
        const engine = await ctx.engine();
        let rows = await engine.images.list();
        if (repository !== undefined) {
          const { parseReference, familiarName } = await import('../../oci/index.js');
          const ref = parseReference(repository, { defaultTag: false });
          const repo = familiarName(ref);
          rows = rows.filter(
            (r) => r.Repository === repo && (ref.tag === undefined || r.Tag === ref.tag),
          );
        }
        const id = (d: string): string => (opts.trunc ? d.slice(7, 19) : d);
        if (opts.quiet === true) {
          const ids = [...new Set(rows.map((r) => id(r.ID)))];
          if (ids.length > 0) ctx.out(ids.join('\n'));
          return;
        }
        if (opts.format === 'json') {
          const lines = rows.map((r) =>
            JSON.stringify({
              Containers: 'N/A',
              CreatedAt: r.CreatedAt ?? '',
              CreatedSince: since(r.CreatedAt),
              Digest: r.Digest,
              ID: id(r.ID),
              Repository: r.Repository,
              Size: humanSize(r.Size, 3),
              Tag: r.Tag,
              VirtualSize: humanSize(r.Size, 3),
            }),
          );
          if (lines.length > 0) ctx.out(lines.join('\n'));
          return;
        }
        const header = [
          'REPOSITORY',
          'TAG',
          ...(opts.digests === true ? ['DIGEST'] : []),
          'IMAGE ID',
          'CREATED',
          'SIZE',
        ];
        ctx.out(
          table(
            header,
            rows.map((r) => [
              r.Repository,
              r.Tag,
              ...(opts.digests === true ? [r.Digest] : []),
              id(r.ID),
              since(r.CreatedAt),
              humanSize(r.Size, 3),
            ]),
          ),
        );
      },
    );
}

export function register(program: Command): void {
  defineImages(program.command('images'));
}
