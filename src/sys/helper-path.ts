import { existsSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../util/index.js';

/** The built C helper: $CHRUN_HELPER, or native/build/chrun-helper in the package. */
export function helperPath(): string {
  const fromEnv = process.env.CHRUN_HELPER;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  return path.join(packageRoot(), 'native', 'build', 'chrun-helper');
}

/** The helper's path if it has been built, else undefined. */
export function builtHelper(): string | undefined {
  const p = helperPath();
  return existsSync(p) ? p : undefined;
}
