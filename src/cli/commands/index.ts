import type { Command } from 'commander';
import { register as image } from './image.js';
import { register as images } from './images.js';
import { register as importImage } from './import.js';
import { register as info } from './info.js';
import { register as load } from './load.js';
import { register as inspect } from './inspect.js';
import { register as login } from './login.js';
import { register as logout } from './logout.js';
import { register as pull } from './pull.js';
import { register as push } from './push.js';
import { register as ps } from './ps.js';
import { register as rm } from './rm.js';
import { register as rmi } from './rmi.js';
import { register as run } from './run.js';
import { register as save } from './save.js';
import { register as system } from './system.js';
import { register as tag } from './tag.js';

/** Every CLI command by name, in the order `chrun --help` lists them. */
export const commands: readonly (readonly [string, (program: Command) => void])[] = [
  ['run', run],
  ['ps', ps],
  ['rm', rm],
  ['pull', pull],
  ['push', push],
  ['images', images],
  ['image', image],
  ['inspect', inspect],
  ['rmi', rmi],
  ['tag', tag],
  ['load', load],
  ['save', save],
  ['import', importImage],
  ['login', login],
  ['logout', logout],
  ['info', info],
  ['system', system],
];
