import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** A fresh temp directory, removed by the returned cleanup (also when it holds read-only dirs). */
export async function tempDir(
  prefix = 'chrun-test-',
): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  return {
    path: dir,
    cleanup: () => rm(dir, { recursive: true, force: true, maxRetries: 3 }),
  };
}
