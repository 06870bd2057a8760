import { spawn } from 'node:child_process';
import { interleave, summarize, type Stats } from './stats.js';

/** A command line, run without a shell; its stdout and stderr are not timed output. */
export interface CommandSubject {
  name: string;
  argv: readonly string[];
  /** Added to (or, with undefined, removed from) the environment. */
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Keep NODE_EXTRA_CA_CERTS (removed by default: it adds 50-150 ms to every node start). */
  keepNodeExtraCaCerts?: boolean;
  /** Commands run before and after each run, not timed (e.g. creating a bundle). */
  setup?: readonly (readonly string[])[];
  cleanup?: readonly (readonly string[])[];
  /** Exit status that counts as success (default 0); anything else stops the bench. */
  expectStatus?: number;
}

/** An in-process function (library benchmarks); each call is one run. */
export interface FunctionSubject {
  name: string;
  fn: () => unknown;
  setup?: () => unknown;
  cleanup?: () => unknown;
}

export type Subject = CommandSubject | FunctionSubject;

export interface BenchOptions {
  /** Measured runs per subject. */
  runs: number;
  /** Unmeasured runs per subject first (interleaved the same way). */
  warmup: number;
  /** The subject whose median the others are compared to (default: the first). */
  baseline?: string;
  /** Called after each run (progress output); `warmup` runs are not measured. */
  onRun?: (subject: string, ms: number, warmup: boolean) => void;
  /** Monotonic clock in nanoseconds (a fake one in tests). */
  now?: () => bigint;
}

export interface SubjectResult extends Stats {
  name: string;
  /** This median divided by the baseline's median. */
  ratio: number;
  /** Every measured run in the order it ran (ms). */
  samples: number[];
}

export interface BenchResult {
  baseline: string;
  runs: number;
  warmup: number;
  subjects: SubjectResult[];
}

function isCommand(s: Subject): s is CommandSubject {
  return 'argv' in s;
}

function childEnv(s: CommandSubject): NodeJS.ProcessEnv {
  const drop = new Set(Object.keys(s.env ?? {}).filter((k) => s.env?.[k] === undefined));
  if (!s.keepNodeExtraCaCerts) drop.add('NODE_EXTRA_CA_CERTS');
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries({ ...process.env, ...s.env })) {
    if (v !== undefined && !drop.has(k)) env[k] = v;
  }
  return env;
}

const hrtime = (): bigint => process.hrtime.bigint();

/** A command of a subject that did not exit as expected. */
export class CommandFailed extends Error {
  override name = 'CommandFailed';
  constructor(
    readonly argv: readonly string[],
    readonly why: string,
    readonly stderr: string,
  ) {
    super(`bench: '${argv.join(' ')}' failed (${why})${stderr ? `: ${stderr}` : ''}`);
  }
}

/** Runs argv to completion; resolves the time from spawn to exit, or rejects with stderr. */
function runCommand(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  cwd: string | undefined,
  expect: number,
  now: () => bigint,
): Promise<bigint> {
  const [file, ...args] = argv;
  if (file === undefined) return Promise.reject(new Error('bench: empty command line'));
  return new Promise((resolve, reject) => {
    const start = now();
    const child = spawn(file, args, { env, cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    const err: Buffer[] = [];
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.once('error', (e) => reject(new CommandFailed(argv, e.message, '')));
    child.once('close', (code, signal) => {
      const elapsed = now() - start;
      if (code === expect) resolve(elapsed);
      else {
        const why = signal ?? `status ${code}`;
        reject(new CommandFailed(argv, why, Buffer.concat(err).toString().trim()));
      }
    });
  });
}

/** One run of a subject: setup, the timed part, cleanup. Returns the timed part in ns. */
async function once(s: Subject, now: () => bigint): Promise<bigint> {
  if (!isCommand(s)) {
    await s.setup?.();
    const start = now();
    await s.fn();
    const elapsed = now() - start;
    await s.cleanup?.();
    return elapsed;
  }
  const env = childEnv(s);
  for (const cmd of s.setup ?? []) await runCommand(cmd, env, s.cwd, 0, now);
  const elapsed = await runCommand(s.argv, env, s.cwd, s.expectStatus ?? 0, now);
  for (const cmd of s.cleanup ?? []) await runCommand(cmd, env, s.cwd, 0, now);
  return elapsed;
}

/**
 * Runs a subject once, untimed, to see that it works here; returns why not (the last line
 * of its error), or undefined. Bench scripts leave out a peer that fails this, saying why.
 */
export async function probe(s: Subject): Promise<string | undefined> {
  try {
    await once(s, hrtime);
    return undefined;
  } catch (err) {
    if (!(err instanceof CommandFailed)) return (err as Error).message;
    return err.stderr.split('\n').at(-1) || err.why;
  }
}

/**
 * Runs the subjects side by side in one process: `warmup` unmeasured runs each, then `runs`
 * measured runs each, interleaved round-robin (see interleave), and compares every median
 * with the baseline's.
 */
export async function runBench(
  subjects: readonly Subject[],
  opts: BenchOptions,
): Promise<BenchResult> {
  if (subjects.length === 0) throw new Error('bench: no subjects');
  if (!Number.isInteger(opts.runs) || opts.runs < 1)
    throw new Error(`bench: runs must be a positive integer, not ${opts.runs}`);
  if (!Number.isInteger(opts.warmup) || opts.warmup < 0) {
    throw new Error(`bench: warmup must be a non-negative integer, not ${opts.warmup}`);
  }
  const names = new Set(subjects.map((s) => s.name));
  if (names.size !== subjects.length) throw new Error('bench: subject names must be unique');
  const baseline = opts.baseline ?? subjects[0]!.name;
  if (!names.has(baseline))
    throw new Error(`bench: no subject named '${baseline}' to compare with`);
  const now = opts.now ?? hrtime;

  for (const i of interleave(subjects.length, opts.warmup)) {
    const s = subjects[i]!;
    const ms = Number(await once(s, now)) / 1e6;
    opts.onRun?.(s.name, ms, true);
  }
  const samples: number[][] = subjects.map(() => []);
  for (const i of interleave(subjects.length, opts.runs)) {
    const s = subjects[i]!;
    const ms = Number(await once(s, now)) / 1e6;
    samples[i]!.push(ms);
    opts.onRun?.(s.name, ms, false);
  }
  const stats = subjects.map((s, i) => ({
    name: s.name,
    ...summarize(samples[i]!),
    samples: samples[i]!,
  }));
  const base = stats.find((s) => s.name === baseline)!;
  return {
    baseline,
    runs: opts.runs,
    warmup: opts.warmup,
    subjects: stats.map((s) => ({ ...s, ratio: s.median / base.median })),
  };
}

const ms = (x: number): string => x.toFixed(x < 1 ? 3 : x < 10 ? 2 : 1);

/** The result as an aligned text table, times in ms, ratio of medians to the baseline. */
export function formatTable(r: BenchResult): string {
  const head = ['subject', 'min', 'median', 'max', 'mean', `× ${r.baseline}`];
  const rows = r.subjects.map((s) => [
    s.name,
    ms(s.min),
    ms(s.median),
    ms(s.max),
    ms(s.mean),
    s.ratio.toFixed(2),
  ]);
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)));
  const line = (cells: string[]): string =>
    cells
      .map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)))
      .join('  ');
  return [
    `${r.runs} runs each after ${r.warmup} warm-up, interleaved; times in ms`,
    line(head),
    ...rows.map(line),
  ].join('\n');
}
