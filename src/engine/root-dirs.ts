import { lstatSync, mkdirSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { ChrunError, errnoCode } from '../util/index.js';

/**
 * mkdir -p of a container path inside a root mounted on the host, resolving symlinks as the
 * container would (inside the root, never out of it): the working directory of a chroot
 * container. Returns the host path made or found.
 */
export function mkdirInRoot(root: string, containerPath: string, mode = 0o755): string {
  let todo = containerPath.split('/').filter((p) => p !== '' && p !== '.');
  let done: string[] = [];
  for (let links = 0; todo.length > 0;) {
    const name = todo.shift()!;
    if (name === '..') {
      done.pop();
      continue;
    }
    const host = path.join(root, ...done, name);
    let st;
    try {
      st = lstatSync(host);
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err;
      mkdirSync(host, { mode });
      done.push(name);
      continue;
    }
    if (st.isSymbolicLink()) {
      if (++links > 40) {
        throw new ChrunError(
          'CHRUN_INVALID_ARGUMENT',
          `create ${containerPath}: too many symlinks`,
        );
      }
      const target = readlinkSync(host);
      if (target.startsWith('/')) done = [];
      todo = [...target.split('/').filter((p) => p !== '' && p !== '.'), ...todo];
      continue;
    }
    if (!st.isDirectory()) {
      throw new ChrunError(
        'CHRUN_INVALID_ARGUMENT',
        `create working directory ${containerPath}: /${[...done, name].join('/')} is not a directory`,
      );
    }
    done.push(name);
  }
  return path.join(root, ...done);
}
