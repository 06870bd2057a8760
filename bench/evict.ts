// Evicts from the page cache what earlier runs set aside in a bench's trash (trash.ts), so
// that no run pays for memory a previous run filled. Run untimed, after `sync`, as a setup
// command: node dist/bench/evict.js TRASH_DIR.
//
// Why: this machine is a VM whose memory is backed by the host only once the guest has
// touched it. While the page cache holds what earlier runs wrote, the memory a run touches
// for the first time comes from pages the host has never backed, and each first touch of a
// page then costs a host fault: touching 256 MiB of new memory took 150-210 ms with an empty
// page cache and 1.18-1.26 s with 11 GB of it held. A pull writes about 400 MB, so after a
// few set-aside runs every subject paid seconds for this, more the more memory it used.
// posix_fadvise(POSIX_FADV_DONTNEED) on the set-aside files gives their clean pages back to
// the guest's free lists, where the next run finds them already backed.
//
// Each top-level entry of the trash is evicted once, then moved into TRASH_DIR/evicted.
import { closeSync, lstatSync, mkdirSync, openSync, readdirSync, renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const POSIX_FADV_DONTNEED = 4;

interface Koffi {
  load(lib: string): { func(decl: string): (...args: unknown[]) => number };
}
const koffi = createRequire(import.meta.url)('koffi') as Koffi;
const fadvise = koffi
  .load('libc.so.6')
  .func('int posix_fadvise(int fd, int64_t offset, int64_t len, int advice)');

function evictTree(p: string): number {
  const st = lstatSync(p);
  if (st.isDirectory()) {
    let n = 0;
    for (const name of readdirSync(p)) n += evictTree(path.join(p, name));
    return n;
  }
  if (!st.isFile() || st.size === 0) return 0;
  const fd = openSync(p, 'r');
  try {
    fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  } finally {
    closeSync(fd);
  }
  return 1;
}

const trash = process.argv[2];
if (trash === undefined) {
  process.stderr.write('usage: evict.js TRASH_DIR\n');
  process.exit(2);
}
const done = path.join(trash, 'evicted');
mkdirSync(done, { recursive: true });
for (const name of readdirSync(trash)) {
  if (name === 'evicted') continue;
  evictTree(path.join(trash, name));
  renameSync(path.join(trash, name), path.join(done, name));
}
