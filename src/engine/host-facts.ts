import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  boundingSetFromStatus,
  parseProcLimits,
  seccompNativeArch,
  type LinuxDevice,
} from '../oci/index.js';
import { splitdev } from '../sys/index.js';
import type { HostFacts } from './container-spec.js';

let cached: HostFacts | undefined;

/** What container specs need to know about this host and this process; read once. */
export function hostFacts(): HostFacts {
  if (cached !== undefined) return cached;
  const capabilities = boundingSetFromStatus(readFileSync('/proc/self/status', 'utf8'));
  cached = {
    capabilities,
    kernel: os.release(),
    arch: seccompNativeArch(),
    cpus: os.availableParallelism(),
    hostname: os.hostname(),
    limits: parseProcLimits(readFileSync('/proc/self/limits', 'utf8')),
    canRaise: capabilities.includes('CAP_SYS_RESOURCE'),
  };
  return cached;
}

/** The host's device nodes under /dev (for --privileged), as OCI devices. */
export function hostDevices(dir = '/dev'): LinuxDevice[] {
  const out: LinuxDevice[] = [];
  const walk = (d: string): void => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const name of names) {
      const p = path.join(d, name);
      if (p === '/dev/pts' || p === '/dev/shm' || p === '/dev/mqueue' || p === '/dev/console')
        continue;
      let st;
      try {
        st = lstatSync(p);
      } catch {
        continue;
      }
      if (st.isDirectory()) {
        walk(p);
        continue;
      }
      if (!st.isCharacterDevice() && !st.isBlockDevice()) continue;
      const { major, minor } = splitdev(st.rdev);
      out.push({
        path: p,
        type: st.isCharacterDevice() ? 'c' : 'b',
        major,
        minor,
        fileMode: st.mode & 0o777,
        uid: st.uid,
        gid: st.gid,
      });
    }
  };
  walk(dir);
  return out;
}
