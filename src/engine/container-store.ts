import { randomBytes } from 'node:crypto';
import {
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { isAlive, procStat } from '../runtime/index.js';
import { ChrunError, errnoCode, removeTree } from '../util/index.js';
import { randomName } from './names.js';

export type ContainerStatus = 'created' | 'running' | 'exited';

/** What chrun keeps about a container until it is removed (`ps -a`, `rm`, `rmi`). */
export interface ContainerInfo {
  /** 64 hex digits; the short form is the first 12. */
  id: string;
  name: string;
  /** The image as the user named it. */
  image: string;
  /** The image's ID (its config digest). */
  imageId: string;
  /** The command that runs: entrypoint and arguments. */
  command: string[];
  created: string;
  started?: string;
  finished?: string;
  status: ContainerStatus;
  exitCode?: number;
  oomKilled?: boolean;
  /** Why the container did not start, or how it ended when chrun could not see it end. */
  error?: string;
  /** `--rm`: removed as soon as it ends. */
  autoRemove: boolean;
  isolation: 'full' | 'chroot';
  /** Its root in the snapshot store. */
  snapshot: string;
  /** The process holding the attached container; its death ends the container. */
  holder?: { pid: number; start: number | undefined };
}

const ID = /^[0-9a-f]{64}$/;
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

function exists(pid: number | undefined, start: number | undefined): boolean {
  return pid !== undefined && isAlive(pid, start);
}

/** A new container ID; like docker, never one whose short form reads as a number. */
export function newContainerId(): string {
  for (;;) {
    const id = randomBytes(32).toString('hex');
    if (!/^\d+$/.test(id.slice(0, 12))) return id;
  }
}

/** docker's rule for --name. */
function validateName(name: string): void {
  if (!NAME.test(name.replace(/^\//, ''))) {
    throw new ChrunError(
      'CHRUN_INVALID_ARGUMENT',
      `invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`,
    );
  }
}

/**
 * Container records in the storage directory: DIR/ID/container.json (replaced atomically)
 * and DIR/names/NAME, a symlink to the ID, created with symlink(2) so two processes can never
 * take one name. The records outlive reboots, as the containers' writable layers do.
 */
export class ContainerStore {
  readonly names: string;

  constructor(readonly dir: string) {
    this.names = path.join(dir, 'names');
  }

  dirOf(id: string): string {
    return path.join(this.dir, id);
  }

  private file(id: string): string {
    return path.join(this.dir, id, 'container.json');
  }

  /**
   * Records a new container and takes its name (a random one when none is given);
   * CHRUN_CONTAINER_EXISTS when the name is taken.
   */
  create(info: Omit<ContainerInfo, 'name'> & { name?: string }): ContainerInfo {
    mkdirSync(this.names, { recursive: true, mode: 0o700 });
    mkdirSync(this.dirOf(info.id), { mode: 0o700 });
    let name = info.name;
    try {
      if (name !== undefined) {
        validateName(name);
        name = name.replace(/^\//, '');
        this.claimName(name, info.id);
      } else {
        name = this.claimRandomName(info.id);
      }
    } catch (err) {
      rmSync(this.dirOf(info.id), { recursive: true, force: true });
      throw err;
    }
    const full: ContainerInfo = { ...info, name };
    this.write(full);
    return full;
  }

  private claimName(name: string, id: string): void {
    try {
      symlinkSync(id, path.join(this.names, name));
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw err;
      let owner = '';
      try {
        owner = readlinkSync(path.join(this.names, name));
      } catch {
        // released meanwhile
      }
      if (owner !== '' && !ID.test(owner)) owner = '';
      if (owner !== '' && !this.has(owner)) {
        // a name left behind by a container removed halfway: take it over
        unlinkSync(path.join(this.names, name));
        return this.claimName(name, id);
      }
      throw new ChrunError(
        'CHRUN_CONTAINER_EXISTS',
        `the container name "/${name}" is already in use by container "${owner}"; remove (or rename) that container to be able to reuse that name`,
        { fields: { name, id: owner } },
      );
    }
  }

  private claimRandomName(id: string): string {
    for (let attempt = 0; ; attempt++) {
      const name = randomName(attempt >= 10 ? attempt : 0);
      try {
        this.claimName(name, id);
        return name;
      } catch (err) {
        if (attempt > 50 || !(err instanceof ChrunError)) throw err;
      }
    }
  }

  write(info: ContainerInfo): void {
    const file = this.file(info.id);
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(info));
    renameSync(tmp, file);
  }

  /** Merges `patch` into the record of `id`. */
  update(id: string, patch: Partial<ContainerInfo>): ContainerInfo {
    const next = { ...this.read(id), ...patch };
    this.write(next);
    return next;
  }

  has(id: string): boolean {
    try {
      readFileSync(this.file(id));
      return true;
    } catch {
      return false;
    }
  }

  /** The record as written (no liveness check). */
  read(id: string): ContainerInfo {
    try {
      return JSON.parse(readFileSync(this.file(id), 'utf8')) as ContainerInfo;
    } catch (err) {
      if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') {
        throw new ChrunError('CHRUN_CONTAINER_NOT_FOUND', `no such container: ${id}`, {
          fields: { id },
        });
      }
      throw new ChrunError('CHRUN_INTERNAL', `read container ${id}: corrupt record`, {
        cause: err,
      });
    }
  }

  /**
   * The record with its status as it really is: a container whose holding process is gone
   * ended with it (the helper kills an attached container when chrun dies).
   */
  get(id: string): ContainerInfo {
    return this.live(this.read(id));
  }

  private live(info: ContainerInfo): ContainerInfo {
    if (info.status === 'exited' || info.holder === undefined) return info;
    if (exists(info.holder.pid, info.holder.start)) return info;
    return {
      ...info,
      status: 'exited',
      exitCode: info.exitCode ?? 137,
      error: info.error ?? 'chrun ended while the container ran: it was killed',
    };
  }

  /** Every container, oldest first. */
  list(): ContainerInfo[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return [];
      throw err;
    }
    const out: ContainerInfo[] = [];
    for (const id of names) {
      if (!ID.test(id)) continue;
      try {
        out.push(this.get(id));
      } catch {
        // being created or removed right now
      }
    }
    return out.sort((a, b) => a.created.localeCompare(b.created));
  }

  /**
   * The container a user means: a full ID, a name, or a unique ID prefix (as docker looks it
   * up). CHRUN_CONTAINER_NOT_FOUND otherwise.
   */
  find(ref: string): ContainerInfo {
    const key = ref.replace(/^\//, '');
    if (ID.test(key) && this.has(key)) return this.get(key);
    if (NAME.test(key)) {
      try {
        const id = readlinkSync(path.join(this.names, key));
        if (ID.test(id) && this.has(id)) return this.get(id);
      } catch {
        // not a name
      }
    }
    if (/^[0-9a-f]+$/.test(key)) {
      const matches = this.list().filter((c) => c.id.startsWith(key));
      if (matches.length === 1) return matches[0]!;
      if (matches.length > 1) {
        throw new ChrunError(
          'CHRUN_INVALID_ARGUMENT',
          `multiple containers found with provided prefix: ${key}`,
        );
      }
    }
    throw new ChrunError('CHRUN_CONTAINER_NOT_FOUND', `no such container: ${ref}`, {
      fields: { id: ref },
    });
  }

  /** Forgets a container: its record and its name. */
  remove(info: Pick<ContainerInfo, 'id' | 'name'>): void {
    try {
      if (readlinkSync(path.join(this.names, info.name)) === info.id)
        unlinkSync(path.join(this.names, info.name));
    } catch {
      // not held
    }
    removeTree(this.dirOf(info.id));
  }

  /** This process, as the holder of the containers it runs attached. */
  static self(): { pid: number; start: number | undefined } {
    return { pid: process.pid, start: procStat(process.pid)?.start };
  }
}
