import { Option, type Command } from 'commander';
import type { ContainerInfo } from '../../engine/index.js';
import { contextFrom } from '../context.js';
import { humanDuration, since, table } from '../units.js';

/** docker's STATUS column: "Up 5 minutes", "Exited (0) 2 hours ago", "Created". */
function statusText(c: ContainerInfo, now = Date.now()): string {
  if (c.status === 'running') {
    const t = Date.parse(c.started ?? c.created);
    return `Up ${humanDuration(Math.max(0, now - t))}`;
  }
  if (c.status === 'exited')
    return `Exited (${c.exitCode ?? 0}) ${since(c.finished ?? c.started ?? c.created, now)}`;
  return 'Created';
}

function quoted(command: readonly string[]): string {
  const text = command.join(' ');
  return `"${text.length > 20 ? `${text.slice(0, 19)}…` : text}"`;
}

function definePs(cmd: Command): Command {
  return cmd
    .description('list containers')
    .option('-a, --all', 'show all containers (default: only running ones)')
    .option('-q, --quiet', 'print only container IDs')
    .option('--no-trunc', 'do not truncate IDs and commands')
    .addOption(
      new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'),
    )
    .action(
      async (
        opts: { all?: boolean; quiet?: boolean; trunc: boolean; format: string },
        command: Command,
      ) => {
        const ctx = contextFrom(command);
        const engine = await ctx.engine();
        const rows = engine.listContainers({ all: opts.all === true }).reverse();
        const id = (c: ContainerInfo): string => (opts.trunc ? c.id.slice(0, 12) : c.id);
        if (opts.quiet === true) {
          if (rows.length > 0) ctx.out(rows.map(id).join('\n'));
          return;
        }
        if (opts.format === 'json') {
          for (const c of rows) {
            ctx.out(
              JSON.stringify({
                ID: id(c),
                Image: c.image,
                Command: c.command.join(' '),
                CreatedAt: c.created,
                Status: statusText(c),
                State: c.status,
                ExitCode: c.exitCode ?? null,
                Names: c.name,
              }),
            );
          }
          return;
        }
        ctx.out(
          table(
            ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'NAMES'],
            rows.map((c) => [
              id(c),
              c.image,
              opts.trunc ? quoted(c.command) : `"${c.command.join(' ')}"`,
              since(c.created),
              statusText(c),
              c.name,
            ]),
          ),
        );
      },
    );
}

export function register(program: Command): void {
  definePs(program.command('ps'));
}
