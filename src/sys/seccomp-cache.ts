import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { ChrunError } from '../util/index.js';
import { helperPath } from './helper-path.js';
import type { SeccompRules } from './plan.js';
import { encodeSeccompRules } from './plan-encoder.js';

/** The kernel's limit on the length of one seccomp program (BPF_MAXINSNS). */
export const BPF_MAX_INSNS = 4096;

/** The error for a program the kernel would refuse for its length, or undefined. */
export function bpfLengthError(bytes: number): ChrunError | undefined {
  const insns = bytes / 8;
  if (insns <= BPF_MAX_INSNS) return undefined;
  return new ChrunError(
    'CHRUN_INVALID_ARGUMENT',
    `compile seccomp profile: the filter is ${insns} BPF instructions, above the kernel's limit of ${BPF_MAX_INSNS} (use fewer rules or argument conditions)`,
    { fields: { op: 'seccomp' } },
  );
}

/**
 * BPF programs per seccomp profile. Building docker's default profile with libseccomp costs
 * milliseconds per container; the helper exports the BPF once (`seccomp-export`) and every
 * later container loads the cached bytes. Keyed by the rules, the architecture and the helper
 * binary (whose libseccomp made the program).
 */
export class SeccompCache {
  private readonly memory = new Map<string, Promise<Buffer>>();

  constructor(
    private readonly dir?: string,
    private readonly helper = helperPath(),
  ) {}

  key(rules: SeccompRules): string {
    const h = createHash('sha256');
    // the rules as JSON: the same digest for the same rules, and native JSON is several
    // times cheaper than encoding 400 rules into the plan's binary form (measured with
    // --explain's "look up the compiled seccomp filter" phase)
    h.update(JSON.stringify(rules, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)));
    let stamp = 'missing';
    try {
      const st = statSync(this.helper);
      stamp = `${st.size}:${st.mtimeMs}`;
    } catch {
      // export will report the missing helper
    }
    h.update(`\0${process.arch}\0${stamp}`);
    return h.digest('hex');
  }

  /** The BPF program for these rules. */
  bpf(rules: SeccompRules): Promise<Buffer> {
    const key = this.key(rules);
    let p = this.memory.get(key);
    if (p === undefined) {
      p = this.load(key, rules);
      this.memory.set(key, p);
      p.catch(() => this.memory.delete(key));
    }
    return p;
  }

  private async load(key: string, rules: SeccompRules): Promise<Buffer> {
    const file = this.dir === undefined ? undefined : path.join(this.dir, `${key}.bpf`);
    if (file !== undefined) {
      // synchronous: a few kilobytes, read on every container's start (through the thread
      // pool it was open, fstat, read and close, four trips)
      let cached: Buffer | undefined;
      try {
        cached = readFileSync(file);
      } catch {
        // not cached yet (or unreadable: exported again below)
      }
      if (
        cached !== undefined &&
        cached.length > 0 &&
        cached.length % 8 === 0 &&
        bpfLengthError(cached.length) === undefined
      )
        return cached;
    }
    const program = await exportBpf(this.helper, rules);
    if (file !== undefined && this.dir !== undefined) {
      await mkdir(this.dir, { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      await writeFile(tmp, program);
      await rename(tmp, file);
    }
    return program;
  }
}

/** Runs `chrun-helper seccomp-export` to compile rules into a BPF program with libseccomp. */
export function exportBpf(helper: string, rules: SeccompRules): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      helper,
      ['seccomp-export'],
      { encoding: 'buffer', maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        if (err !== null) {
          const why = stderr.toString().trim().split('\n')[0] ?? err.message;
          reject(
            new ChrunError(
              'CHRUN_HELPER_FAILED',
              `compile seccomp profile: ${why || err.message}`,
              { cause: err },
            ),
          );
          return;
        }
        if (stdout.length === 0 || stdout.length % 8 !== 0) {
          reject(
            new ChrunError(
              'CHRUN_HELPER_FAILED',
              `compile seccomp profile: ${stdout.length}-byte program`,
            ),
          );
          return;
        }
        const tooLong = bpfLengthError(stdout.length);
        if (tooLong !== undefined) {
          reject(tooLong);
          return;
        }
        resolve(stdout);
      },
    );
    child.stdin?.end(encodeSeccompRules(rules).done());
  });
}
