import { accessSync, constants } from 'node:fs';
import path from 'node:path';

/** The absolute path of `name` on PATH, or undefined. */
export function findCommand(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':')) {
    if (dir === '') continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}
