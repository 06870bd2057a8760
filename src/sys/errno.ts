import os from 'node:os';
import { getSystemErrorMap } from 'node:util';

let names: Map<number, string> | undefined;

/** 'ENOENT' for 2, ... (this platform's numbering). */
export function errnoName(errno: number): string {
  if (names === undefined) {
    names = new Map();
    for (const [name, n] of Object.entries(os.constants.errno)) names.set(n, name);
  }
  return names.get(errno) ?? `errno ${errno}`;
}

let texts: Map<number, [string, string]> | undefined;

/** The kernel's wording, lowercase ("no such file or directory"). */
export function errnoText(errno: number): string {
  texts ??= getSystemErrorMap();
  return texts.get(-errno)?.[1] ?? errnoName(errno).toLowerCase();
}
