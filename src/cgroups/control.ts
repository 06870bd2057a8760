import path from 'node:path';
import { ChrunError, errnoCode, reasonOf } from '../util/index.js';
import type { CgroupFs } from './cgroup-fs.js';
import type { CgroupWrite } from './types.js';

/** A ChrunError for a failed cgroupfs operation: "OP: VERB FILE: REASON". */
export function cgroupError(op: string, verb: string, file: string, err: unknown): ChrunError {
  return new ChrunError('CHRUN_CGROUP_FAILED', `${op}: ${verb} ${file}: ${reasonOf(err)}`, {
    cause: err,
    fields: { path: file, op, code: errnoCode(err) },
  });
}

/** Reads and writes control files of one apply/create pass, recording every write. */
export class ControlFiles {
  readonly writes: CgroupWrite[] = [];
  readonly warnings: string[] = [];

  constructor(readonly fs: CgroupFs) {}

  /** Writes value to dir/name; `what` names the setting for the error ("set memory limit"). */
  write(dir: string, name: string, value: string, what = `set ${name}`): void {
    const file = path.posix.join(dir, name);
    try {
      this.fs.write(file, value);
    } catch (err) {
      throw cgroupError(what, 'write', file, err);
    }
    this.writes.push({ file, value });
  }

  /** Like write, but returns the errno code instead of throwing it. */
  tryWrite(dir: string, name: string, value: string): string | undefined {
    const file = path.posix.join(dir, name);
    try {
      this.fs.write(file, value);
    } catch (err) {
      return errnoCode(err) ?? 'EIO';
    }
    this.writes.push({ file, value });
    return undefined;
  }

  has(dir: string, name: string): boolean {
    return this.fs.exists(path.posix.join(dir, name));
  }

  read(dir: string, name: string): string {
    const file = path.posix.join(dir, name);
    try {
      return this.fs.read(file);
    } catch (err) {
      throw cgroupError(`read ${name}`, 'read', file, err);
    }
  }

  /** A numeric control file; "max" reads as Infinity. */
  readNumber(dir: string, name: string): number {
    return parseCgroupNumber(this.read(dir, name), path.posix.join(dir, name));
  }

  warn(message: string): void {
    if (!this.warnings.includes(message)) this.warnings.push(message);
  }
}

/** A control file's number; "max" (v2's unlimited) is Infinity. */
export function parseCgroupNumber(text: string, file = 'control file'): number {
  const t = text.trim();
  if (t === 'max') return Infinity;
  const n = Number(t);
  if (t === '' || !Number.isFinite(n)) {
    throw new ChrunError('CHRUN_CGROUP_FAILED', `read ${file}: not a number: "${t}"`);
  }
  return n;
}

/** "key value" lines (memory.events, cpu.stat, memory.oom_control) as a map. */
export function parseKeyValues(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key === undefined || key === '' || value === undefined) continue;
    const n = Number(value);
    if (Number.isFinite(n)) out.set(key, n);
  }
  return out;
}

/** v1 reports "unlimited" as a huge page-aligned number (LONG_MAX rounded down to a page). */
export const V1_UNLIMITED = 9223372036854771712;
