import {
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Spec } from '../oci/index.js';
import type { Mount } from '../sys/index.js';
import { ChrunError, errnoCode, processExists, removeTree } from '../util/index.js';
import type { Status } from './status.js';

export type Keep = 'attached' | 'helper' | 'reparent';

/** What chrun remembers about a container between commands. */
export interface ContainerRecord {
  id: string;
  bundle: string;
  rootfs: string;
  /** The status last recorded; the live status also looks at the process (see state.ts). */
  status: Status;
  /** Host pid of the container's init process. */
  pid?: number;
  /** Its start time (field 22 of /proc/PID/stat), to tell it from a reused pid. */
  pidStart?: number;
  /** The helper holding the container (its parent). */
  helperPid?: number;
  created: string;
  /** cgroup directories the container lives in (removed on delete). */
  cgroupPaths?: string[];
  cgroupPlacement?: { cloneInto?: string; procs?: string[] };
  /** Who holds the container: chrun (attached), the helper, or the caller's subreaper. */
  keep?: Keep;
  annotations?: Record<string, string>;
  /** The root's mounts, when the runtime mounted it (an overlay from the snapshotter). */
  rootMounts?: Mount[];
}

const ID = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;

export function validateId(id: string): void {
  if (!ID.test(id)) {
    throw new ChrunError(
      'CHRUN_INVALID_ARGUMENT',
      `container id ${JSON.stringify(id)}: use 1-128 letters, digits, '_', '.', '-', not starting with a symbol`,
    );
  }
}

/**
 * Container records under the engine's state directory: DIR/ID/state.json, written
 * atomically (temp file + rename), one lock file per container for the verbs that change it.
 * The small writes on the path of every container start are synchronous: microseconds each,
 * where a trip through libuv's thread pool costs hundreds on a loaded machine.
 */
export class StateStore {
  constructor(readonly dir: string) {}

  containerDir(id: string): string {
    return path.join(this.dir, id);
  }
  recordPath(id: string): string {
    return path.join(this.dir, id, 'state.json');
  }
  fifoPath(id: string): string {
    return path.join(this.dir, id, 'exec.fifo');
  }
  lockPath(id: string): string {
    return path.join(this.dir, id, 'lock');
  }
  specPath(id: string): string {
    return path.join(this.dir, id, 'config.json');
  }

  /** Keeps the container's spec (exec joins with its namespaces, seccomp and user). */
  writeSpec(id: string, spec: Spec): void {
    writeFileSync(this.specPath(id), JSON.stringify(spec));
  }

  async readSpec(id: string): Promise<Spec> {
    return JSON.parse(await readFile(this.specPath(id), 'utf8')) as Spec;
  }

  /** Creates the container's directory; CHRUN_CONTAINER_EXISTS if the id is taken. */
  claim(id: string): void {
    validateId(id);
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    try {
      mkdirSync(this.containerDir(id), { mode: 0o700 });
    } catch (err) {
      if (errnoCode(err) === 'EEXIST') {
        throw new ChrunError(
          'CHRUN_CONTAINER_EXISTS',
          `create container ${id}: the id is already in use`,
        );
      }
      throw err;
    }
  }

  write(rec: ContainerRecord): void {
    const file = this.recordPath(rec.id);
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(rec));
    renameSync(tmp, file);
  }

  async read(id: string): Promise<ContainerRecord> {
    validateId(id);
    let text: string;
    try {
      text = await readFile(this.recordPath(id), 'utf8');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') {
        throw new ChrunError('CHRUN_CONTAINER_NOT_FOUND', `container ${id}: no such container`);
      }
      throw err;
    }
    try {
      return JSON.parse(text) as ContainerRecord;
    } catch (err) {
      throw new ChrunError('CHRUN_INTERNAL', `read container ${id}: corrupt state record`, {
        cause: err,
      });
    }
  }

  async list(): Promise<string[]> {
    try {
      return (await readdir(this.dir)).filter((n) => ID.test(n)).sort();
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return [];
      throw err;
    }
  }

  remove(id: string): void {
    removeTree(this.containerDir(id));
  }

  /**
   * Takes the container's lock (a file created exclusively, holding our pid; a lock whose
   * holder died is taken over). Resolves to the release function.
   */
  async lock(id: string, timeoutMs = 10_000): Promise<() => void> {
    const file = this.lockPath(id);
    const deadline = Date.now() + timeoutMs;
    for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
      try {
        const fd = openSync(file, 'wx', 0o600);
        writeSync(fd, String(process.pid));
        closeSync(fd);
        return () => {
          try {
            unlinkSync(file);
          } catch {
            // removed with the container
          }
        };
      } catch (err) {
        const code = errnoCode(err);
        if (code === 'ENOENT') {
          throw new ChrunError('CHRUN_CONTAINER_NOT_FOUND', `container ${id}: no such container`);
        }
        if (code !== 'EEXIST') throw err;
      }
      let holder = NaN;
      try {
        holder = Number(readFileSync(file, 'utf8'));
      } catch {
        continue; // released meanwhile
      }
      if (Number.isInteger(holder) && holder > 0 && !processExists(holder)) {
        try {
          unlinkSync(file);
        } catch {
          // someone else took it over
        }
        continue;
      }
      if (Date.now() > deadline) {
        throw new ChrunError('CHRUN_LOCKED', `lock container ${id}: held by process ${holder}`);
      }
      await sleep(delay);
    }
  }
}
