import { lstatSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { ChrunError, errnoCode } from '../util/index.js';
import { LowerView, type LowerEntry } from './lower-view.js';

/** Files larger than this are not read (an /etc/passwd is a few kilobytes). */
const MAX_FILE = 4 << 20;
const MAX_LINKS = 40;

type Lookup = (rel: string) => Promise<LowerEntry | undefined>;

function plainLookup(root: string): Lookup {
  return (rel) => {
    const abs = path.join(root, rel);
    try {
      const stat = lstatSync(abs);
      if (stat.isDirectory()) return Promise.resolve({ kind: 'dir', abs, stat });
      if (stat.isSymbolicLink())
        return Promise.resolve({ kind: 'symlink', abs, stat, target: readlinkSync(abs) });
      return Promise.resolve({ kind: stat.isFile() ? 'file' : 'node', abs, stat });
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') return Promise.resolve(undefined);
      throw err;
    }
  };
}

/** Walks `file` component by component, symlinks resolved inside the root (never outside). */
async function resolve(lookup: Lookup, file: string): Promise<LowerEntry | undefined> {
  let todo = file.split('/').filter((p) => p !== '' && p !== '.');
  let done: string[] = [];
  let links = 0;
  while (todo.length > 0) {
    const name = todo.shift()!;
    if (name === '..') {
      done.pop();
      continue;
    }
    const entry = await lookup([...done, name].join('/'));
    if (entry === undefined) return undefined;
    if (entry.kind === 'symlink') {
      if (++links > MAX_LINKS) return undefined;
      const target = entry.target ?? '';
      if (target.startsWith('/')) done = [];
      todo = [...target.split('/').filter((p) => p !== '' && p !== '.'), ...todo];
      continue;
    }
    if (todo.length === 0) return entry;
    if (entry.kind !== 'dir') return undefined;
    done.push(name);
  }
  return undefined;
}

/**
 * Reads a regular file of an image as its container will see it, without mounting anything:
 * `layers` are the snapshot trees, top-most first (overlay form: merged as overlayfs merges
 * them; copy form: one complete tree). Symlinks resolve inside the image's root. Undefined when
 * the path is not a regular file there.
 */
export async function readImageFile(
  layers: readonly string[],
  form: 'overlay' | 'copy',
  file: string,
): Promise<Buffer | undefined> {
  if (layers.length === 0) return undefined;
  const lookup: Lookup =
    form === 'copy' || layers.length === 1
      ? plainLookup(layers[0]!)
      : (
          (view: LowerView): Lookup =>
          (rel) =>
            view.lookup(rel)
        )(new LowerView({ dirs: () => Promise.resolve(layers) }));
  const entry = await resolve(lookup, file);
  if (entry?.kind !== 'file') return undefined;
  if (entry.stat.size > MAX_FILE) {
    throw new ChrunError(
      'CHRUN_UNSUPPORTED',
      `read ${file} of the image: ${entry.stat.size} bytes is more than chrun reads`,
    );
  }
  return readFileSync(entry.abs);
}
