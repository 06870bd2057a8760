// Where a bench puts each run's output instead of deleting it between runs.
//
// The root filesystem here is ext4 without a journal. On such a filesystem the kernel's
// inode allocator skips every inode freed in the last 60 s (360 s while its inode table
// block is dirty), checking each one (fs/ext4/ialloc.c, recently_deleted()), so the first
// file creations after an `rm -rf` of a few thousand files cost up to 1 ms each: a pull that
// applies its layers after the previous run's store was deleted took 2-3 s longer (perf
// showed 30% of the machine's time in recently_deleted()). Renaming the previous output
// aside frees no inode; everything set aside is deleted once, after the last run.
//
// What is set aside is evicted from the page cache before the next run (evict.ts): held
// there, it made every later run pay the VM's first-touch cost for its memory.
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const evictScript = fileURLToPath(new URL('./evict.js', import.meta.url));

export class Trash {
  private n = 0;

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  /** A command (not timed: a subject's setup) that renames `target` into the trash. */
  private setAside(...targets: string[]): string[] {
    const base = path.join(this.dir, String(this.n++));
    return [
      'sh',
      '-c',
      'b=$1; shift; i=0; for t; do i=$((i+1)); [ ! -e "$t" ] || mv "$t" "$b.$(date +%s%N).$i"; done',
      'sh',
      base,
      ...targets,
    ];
  }

  /**
   * The untimed setup before a run that writes `targets`: the previous run's output set
   * aside, the disk synced, and what was set aside evicted from the page cache.
   */
  clear(...targets: string[]): string[][] {
    return [this.setAside(...targets), ['sync'], [process.execPath, evictScript, this.dir]];
  }

  empty(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
