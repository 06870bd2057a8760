import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mountAll, tryUnmount } from '../sys/index.js';

interface ProbeRecord {
  kernel: string;
  ok: boolean;
  reason?: string;
}

/**
 * Whether an overlay with an upper directory can be mounted on the file system holding
 * `root` (it cannot on some: overlayfs itself as the upper, NFS, no overlay module, no
 * privilege). Tried once by mounting a tiny overlay; the answer is kept in
 * ROOT/overlay-probe.json for this kernel.
 */
export function overlaySupported(root: string): boolean {
  const file = path.join(root, 'overlay-probe.json');
  const kernel = os.release();
  try {
    const rec = JSON.parse(readFileSync(file, 'utf8')) as ProbeRecord;
    if (rec.kernel === kernel) return rec.ok;
  } catch {
    /* not probed yet */
  }
  const rec: ProbeRecord = { kernel, ok: false };
  const dir = path.join(root, `overlay-probe-${process.pid}`);
  try {
    for (const d of ['lower1', 'lower2', 'upper', 'work', 'merged']) {
      mkdirSync(path.join(dir, d), { recursive: true });
    }
    const opt = (d: string) => path.join(dir, d);
    mountAll(
      [
        {
          type: 'overlay',
          source: 'overlay',
          options: [
            `lowerdir=${opt('lower2')}:${opt('lower1')}`,
            `upperdir=${opt('upper')}`,
            `workdir=${opt('work')}`,
          ],
        },
      ],
      opt('merged'),
    );
    tryUnmount(opt('merged'));
    rec.ok = true;
  } catch (err) {
    rec.reason = err instanceof Error ? err.message : String(err);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  try {
    writeFileSync(file, JSON.stringify(rec));
  } catch {
    /* read-only store: probe again next time */
  }
  return rec.ok;
}
