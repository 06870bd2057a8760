import { Option, type Command } from 'commander';
import { contextFrom } from '../context.js';

/** 1.2kB, 3.4MB, like docker: decimal units. */
export function formatBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return i === 0 ? `${v}B` : `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)}${units[i]!}`;
}

export function register(program: Command): void {
  const system = program.command('system').description('manage chrun');
  system
    .command('df')
    .description('show the disk space used by images, containers and layer snapshots')
    .addOption(
      new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'),
    )
    .action(async (opts: { format: string }, cmd: Command) => {
      const ctx = contextFrom(cmd);
      const df = await (await ctx.engine()).systemDf();
      if (opts.format === 'json') {
        ctx.out(JSON.stringify(df, null, 2));
        return;
      }
      const rows: [string, string, string][] = [
        ['TYPE', 'TOTAL', 'SIZE'],
        ['Images', String(df.images.count), formatBytes(df.images.bytes)],
        ['Containers', String(df.containers.count), formatBytes(df.containers.bytes)],
        ['Snapshots', String(df.snapshots.count), formatBytes(df.snapshots.bytes)],
      ];
      ctx.out(rows.map((r) => `${r[0].padEnd(12)}${r[1].padEnd(8)}${r[2]}`).join('\n'));
    });
}
