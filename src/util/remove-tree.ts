import { readdirSync, rmdirSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { errnoCode } from './errors.js';

/**
 * Removes a directory tree (or a file) like `rmSync(p, { recursive: true, force: true })`:
 * nothing there is fine, symlinks are removed, never followed. Node's rimraf lstats every
 * entry, tries rmdir on each directory before reading it, and retries; this reads each
 * directory once with the entries' types and removes what it lists, half the system calls.
 * Measured on a container's writable layer (about 20 entries), in a fresh process: 3.4-5 ms
 * against 5.4-11 ms for rmSync (most of it cold code either way).
 */
export function removeTree(p: string): void {
  let entries;
  try {
    entries = readdirSync(p, { withFileTypes: true });
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT') return;
    if (code !== 'ENOTDIR') throw err;
    unlinkOrGone(p);
    return;
  }
  for (const e of entries) {
    const child = path.join(p, e.name);
    if (e.isDirectory()) removeTree(child);
    else unlinkOrGone(child);
  }
  try {
    rmdirSync(p);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
}

function unlinkOrGone(p: string): void {
  try {
    unlinkSync(p);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
}
