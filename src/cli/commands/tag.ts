import type { Command } from 'commander';
import { contextFrom } from '../context.js';

export function defineTag(cmd: Command): Command {
  return cmd
    .description('give an image another name')
    .argument('<source>', 'the image (name or ID)')
    .argument('<target>', 'the new name, e.g. localhost:5000/app:1')
    .action(async (source: string, target: string, _opts: object, command: Command) => {
      const engine = await contextFrom(command).engine();
      await engine.images.tag(source, target);
    });
}

export function register(program: Command): void {
  defineTag(program.command('tag'));
}
