import type { Command } from 'commander';
import { defineImages } from './images.js';
import { defineImport } from './import.js';
import { defineLoad } from './load.js';
import { defineSave } from './save.js';
import { definePrune } from './image-prune.js';
import { defineInspect } from './inspect.js';
import { definePull } from './pull.js';
import { definePush } from './push.js';
import { defineRmi } from './rmi.js';
import { defineTag } from './tag.js';

/** `chrun image SUBCOMMAND`: the image commands under one group, as `docker image`. */
export function register(program: Command): void {
  const image = program.command('image').description('manage images');
  const subs: [string, (c: Command) => Command][] = [
    ['ls', defineImages],
    ['inspect', defineInspect],
    ['pull', definePull],
    ['push', definePush],
    ['rm', defineRmi],
    ['tag', defineTag],
    ['prune', definePrune],
    ['load', defineLoad],
    ['save', defineSave],
    ['import', defineImport],
  ];
  for (const [name, define] of subs) {
    define(image.command(name))
      .exitOverride()
      .configureOutput({ outputError: () => undefined });
  }
}
