import type { Command } from 'commander';
import type { Engine } from '../engine/index.js';

/** What every command handler needs: the global options and a lazily built engine. */
export interface CliContext {
  readonly root: string | undefined;
  engine(): Promise<Engine>;
  out(text: string): void;
}

export function contextFrom(cmd: Command): CliContext {
  return cliContext(cmd.optsWithGlobals<{ root?: string }>().root);
}

/** The context of a command run with `--root` (or CHRUN_ROOT) `root`. */
export function cliContext(root: string | undefined): CliContext {
  let engine: Engine | undefined;
  return {
    root,
    async engine() {
      if (engine === undefined) {
        const mod = await import('../engine/index.js');
        // zygote: run forks its helper from one started early, while the image and root
        // are prepared (Engine.run); other commands start no helper
        engine = new mod.Engine({ root, zygote: true });
      }
      return engine;
    },
    out(text: string) {
      process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    },
  };
}
