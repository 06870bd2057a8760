import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { contextFrom } from '../context.js';
import { humanSize } from '../units.js';

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const answer = await rl.question(question);
    return /^y(es)?$/i.test(answer.trim());
  } catch {
    return false;
  } finally {
    rl.close();
  }
}

export function definePrune(cmd: Command): Command {
  return cmd
    .description('remove unused images and the blobs only they used')
    .option('-a, --all', 'remove every image no container uses, not only dangling ones')
    .option('-f, --force', 'do not ask for confirmation')
    .action(async (opts: { all?: boolean; force?: boolean }, command: Command) => {
      const ctx = contextFrom(command);
      if (opts.force !== true) {
        const what =
          opts.all === true
            ? 'all images without at least one container associated to them'
            : 'all dangling images';
        const ok = await confirm(
          `WARNING! This will remove ${what}.\nAre you sure you want to continue? [y/N] `,
        );
        if (!ok) return;
      }
      const engine = await ctx.engine();
      const r = await engine.images.prune({ all: opts.all === true });
      if (r.deleted.length > 0) {
        const { familiarString, parseReference } = await import('../../oci/index.js');
        const lines = ['Deleted Images:'];
        for (const rec of r.deleted) {
          for (const n of [...rec.tags, ...rec.digests])
            lines.push(`untagged: ${familiarString(parseReference(n, { defaultTag: false }))}`);
          lines.push(`deleted: ${rec.id}`);
        }
        ctx.out(lines.join('\n'));
        ctx.out('');
      }
      ctx.out(`Total reclaimed space: ${humanSize(r.reclaimed, 3)}`);
    });
}
