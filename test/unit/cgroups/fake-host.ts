import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  createCgroupManager,
  createFakeCgroupHost,
  type CgroupManager,
  type CgroupManagerOptions,
  type FakeCgroupFs,
  type FakeCgroupOptions,
} from '../../../src/cgroups/index.js';

export interface FakeHost {
  fs: FakeCgroupFs;
  root: string;
  /** The fake's /sys/fs/cgroup. */
  base: string;
  signals: [number, string][];
  manager(cgPath?: string, extra?: Partial<CgroupManagerOptions>): CgroupManager;
  cleanup(): void;
}

/** A fake cgroup host in a temp dir; signals sent by managers are recorded and kill the fake pid. */
export function fakeHost(opts: FakeCgroupOptions): FakeHost {
  const root = mkdtempSync(path.join(os.tmpdir(), 'chrun-fakecg-'));
  const { layout, fs } = createFakeCgroupHost(root, opts);
  const signals: [number, string][] = [];
  return {
    fs,
    root,
    base: path.join(root, 'sys/fs/cgroup'),
    signals,
    manager: (cgPath = '/chrun/c1', extra = {}) =>
      createCgroupManager({
        layout,
        fs,
        path: cgPath,
        signal: (pid, sig) => {
          signals.push([pid, sig]);
          if (sig === 'SIGKILL' || sig === 'SIGTERM') fs.exit(pid);
        },
        timeoutMs: 500,
        ...extra,
      }),
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}
