import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { detectCgroupLayout, type CgroupLayout } from '../cgroups/index.js';
import { builtHelper, gunzipInfo, type GunzipInfo } from '../sys/index.js';
import { VERSION } from '../util/index.js';
import type { EnginePaths } from './paths.js';

export interface HostInfo {
  version: string;
  paths: EnginePaths;
  kernel: string;
  cgroups: CgroupLayout;
  overlay: boolean;
  helper: string | undefined;
  /** What gunzips layers: ISA-L (libchrun-gunzip.so) or node:zlib. */
  gunzip: GunzipInfo;
}

export async function hostInfo(paths: EnginePaths): Promise<HostInfo> {
  const [cgroups, filesystems] = await Promise.all([
    detectCgroupLayout(),
    readFile('/proc/filesystems', 'utf8').catch(() => ''),
  ]);
  return {
    version: VERSION,
    paths,
    kernel: `${os.type()} ${os.release()} ${os.machine()}`,
    cgroups,
    overlay: /\toverlay$/m.test(filesystems),
    helper: builtHelper(),
    gunzip: gunzipInfo(),
  };
}
