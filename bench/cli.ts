import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { formatTable, runBench, type BenchResult, type Subject } from './harness.js';

export interface BenchArgs {
  runs: number;
  warmup: number;
  /** Write the result as JSON to this file, or to stdout (instead of the table) for `-`. */
  json?: string;
  /** Only subjects whose name matches (the baseline always runs). */
  only?: RegExp;
  baseline?: string;
  lock: boolean;
  quiet: boolean;
  help: boolean;
}

export const BENCH_USAGE = `options:
  --runs N         measured runs per subject
  --warmup N       unmeasured runs per subject first
  --baseline NAME  the subject the others are compared with
  --only REGEX     only the subjects whose name matches (and the baseline)
  --json FILE      also write the result as JSON to FILE ('-': JSON on stdout, no table)
  --no-lock        do not take the machine-wide test lock while running
  --quiet          no progress on stderr
  --help`;

function count(flag: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < min) {
    throw new Error(`--${flag} takes an integer >= ${min}, not '${value}'`);
  }
  return Number(value);
}

/** Parses a bench script's arguments; throws a one-line Error on bad input. */
export function parseBenchArgs(
  argv: readonly string[],
  defaults: { runs: number; warmup: number },
): BenchArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        runs: { type: 'string' },
        warmup: { type: 'string' },
        json: { type: 'string' },
        only: { type: 'string' },
        baseline: { type: 'string' },
        'no-lock': { type: 'boolean' },
        quiet: { type: 'boolean' },
        help: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new Error((err as Error).message.split('\n')[0]);
  }
  let only: RegExp | undefined;
  if (values.only !== undefined) {
    try {
      only = new RegExp(values.only);
    } catch {
      throw new Error(`--only takes a regular expression, not '${values.only}'`);
    }
  }
  return {
    runs: count('runs', values.runs, defaults.runs, 1),
    warmup: count('warmup', values.warmup, defaults.warmup, 0),
    json: values.json,
    only,
    baseline: values.baseline,
    lock: !values['no-lock'],
    quiet: values.quiet ?? false,
    help: values.help ?? false,
  };
}

/** What a bench script prepares: its subjects, the peers it had to leave out, and a cleanup. */
export interface Prepared {
  subjects: Subject[];
  skipped?: { name: string; reason: string }[];
  dispose?: () => unknown;
}

export interface BenchScript {
  title: string;
  defaults: { runs: number; warmup: number; baseline?: string };
  prepare: (args: BenchArgs) => Promise<Prepared>;
}

/** The lock scripts/run-tests.mjs holds around root test tiers. */
const TEST_LOCK = '/run/lock/chrun-tests.lock';

/**
 * Containers started by a bench are mounts, cgroups and processes that a root test running
 * at the same time would report as its leaks, so as root a bench runs under the test lock:
 * the script re-executes itself under flock(1). Returns true when it did (and has exited).
 */
function underTestLock(args: BenchArgs, argv: readonly string[]): boolean {
  if (!args.lock || process.getuid?.() !== 0 || process.env.CHRUN_BENCH_LOCKED === '1')
    return false;
  if (spawnSync('flock', ['--version'], { stdio: 'ignore' }).status !== 0) return false;
  mkdirSync('/run/lock', { recursive: true });
  if (!args.quiet)
    process.stderr.write(`bench: taking ${TEST_LOCK} (tests elsewhere wait meanwhile)\n`);
  const res = spawnSync('flock', [TEST_LOCK, process.execPath, process.argv[1]!, ...argv], {
    stdio: 'inherit',
    env: { ...process.env, CHRUN_BENCH_LOCKED: '1' },
  });
  process.exitCode = res.status ?? 1;
  return true;
}

/** The entry point of a bench script: arguments, lock, prepare, run, print, clean up. */
export async function benchMain(
  script: BenchScript,
  argv = process.argv.slice(2),
): Promise<BenchResult | undefined> {
  let args: BenchArgs;
  try {
    args = parseBenchArgs(argv, script.defaults);
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n`);
    process.exitCode = 2;
    return undefined;
  }
  if (args.help) {
    process.stdout.write(`${script.title}\n\n${BENCH_USAGE}\n`);
    return undefined;
  }
  if (underTestLock(args, argv)) return undefined;
  const log = (line: string): void => {
    if (!args.quiet) process.stderr.write(`${line}\n`);
  };
  let prepared: Prepared | undefined;
  try {
    prepared = await script.prepare(args);
    const names = prepared.subjects.map((s) => s.name);
    let baseline = args.baseline ?? script.defaults.baseline ?? names[0];
    if (args.baseline === undefined && baseline !== undefined && !names.includes(baseline)) {
      log(`bench: baseline ${baseline} is not available; comparing with ${names[0] ?? 'nothing'}`);
      baseline = names[0];
    }
    const subjects = prepared.subjects.filter(
      (s) => s.name === baseline || !args.only || args.only.test(s.name),
    );
    for (const s of prepared.skipped ?? []) log(`bench: skipped ${s.name}: ${s.reason}`);
    log(`bench: ${script.title}: ${subjects.map((s) => s.name).join(', ')}`);
    let done = 0;
    const total = subjects.length * (args.runs + args.warmup);
    const progress = !args.quiet && process.stderr.isTTY;
    const result = await runBench(subjects, {
      runs: args.runs,
      warmup: args.warmup,
      baseline,
      onRun: () => {
        done++;
        if (progress) process.stderr.write(`\r${done}/${total} runs`);
      },
    });
    if (progress) process.stderr.write('\r\x1b[K');
    const json = `${JSON.stringify(
      {
        title: script.title,
        date: new Date().toISOString(),
        skipped: prepared.skipped ?? [],
        ...result,
      },
      null,
      2,
    )}\n`;
    if (args.json === '-') process.stdout.write(json);
    else {
      process.stdout.write(`${script.title}\n${formatTable(result)}\n`);
      if (args.json !== undefined) writeFileSync(args.json, json);
    }
    return result;
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n`);
    process.exitCode = 1;
    return undefined;
  } finally {
    await prepared?.dispose?.();
  }
}
