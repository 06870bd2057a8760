import type { Command } from 'commander';
import { register as info } from './info.js';
import { register as system } from './system.js';

/** Every CLI command, in the order `chrun --help` lists them. */
export const commands: readonly ((program: Command) => void)[] = [info, system];
