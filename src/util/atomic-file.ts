import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';

/** fsync a directory so a rename in it survives a crash. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** A unique temporary name next to (or in `tmpDir` on the same file system as) the target. */
export function tempName(dir: string, base: string): string {
  return path.join(dir, `.${base}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/**
 * Writes a file so that readers see either the old or the new content, never a mix, even
 * after kill -9 or a crash: write a temp file in `tmpDir`, fsync, rename, fsync the directory.
 */
export async function writeFileAtomic(
  file: string,
  data: string | Uint8Array,
  options: { tmpDir?: string; mode?: number } = {},
): Promise<void> {
  const tmp = tempName(options.tmpDir ?? path.dirname(file), path.basename(file));
  const fh = await open(tmp, 'wx', options.mode ?? 0o644);
  try {
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await syncDir(path.dirname(file));
}
