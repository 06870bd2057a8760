import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { access, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { parseBenchArgs } from '../../../bench/cli.js';
import {
  formatTable,
  probe,
  runBench,
  type FunctionSubject,
  type SubjectResult,
} from '../../../bench/harness.js';
import { interleave, summarize } from '../../../bench/stats.js';
import { repoRoot } from '../../helpers/cli.js';
import { tempDir } from '../../helpers/temp.js';

const run = promisify(execFile);

test('summarize: min, median (odd and even counts), max, mean, stddev', () => {
  assert.deepEqual(summarize([5, 1, 3]), {
    runs: 3,
    min: 1,
    median: 3,
    max: 5,
    mean: 3,
    stddev: 2,
  });
  const even = summarize([4, 1, 10, 2]);
  assert.equal(even.median, 3);
  assert.equal(even.mean, 4.25);
  assert.equal(summarize([7]).stddev, 0);
  assert.throws(() => summarize([]), /no samples/);
});

test('interleave: round-robin, each round starting one subject later', () => {
  assert.deepEqual(interleave(3, 3), [0, 1, 2, 1, 2, 0, 2, 0, 1]);
  assert.deepEqual(interleave(2, 0), []);
  const order = interleave(4, 8);
  for (let s = 0; s < 4; s++) assert.equal(order.filter((x) => x === s).length, 8);
  // Across the rounds, every subject follows each other subject equally often.
  const follows = new Map<string, number>();
  for (let r = 0; r < 8; r++) {
    const round = order.slice(r * 4, r * 4 + 4);
    for (let i = 1; i < 4; i++) {
      const k = `${round[i - 1]!}>${round[i]!}`;
      follows.set(k, (follows.get(k) ?? 0) + 1);
    }
  }
  assert.ok([...follows.values()].every((n) => n === follows.get('0>1')));
});

/** Fake subjects on a fake clock: each run "takes" the next of its durations (ms). */
function fakes(durations: Record<string, number[]>) {
  let clock = 0n;
  const calls: string[] = [];
  const subjects: FunctionSubject[] = Object.entries(durations).map(([name, list]) => {
    let i = 0;
    return {
      name,
      setup: () => {
        calls.push(`${name}:setup`);
        clock += 1_000_000_000n; // a second of untimed setup
      },
      fn: () => {
        calls.push(name);
        clock += BigInt(Math.round(list[i++ % list.length]! * 1e6));
      },
      cleanup: () => {
        calls.push(`${name}:cleanup`);
        clock += 1_000_000_000n;
      },
    };
  });
  return { subjects, calls, now: () => clock };
}

test('runBench: warm-up unmeasured, runs interleaved, setup and cleanup untimed', async () => {
  const { subjects, calls, now } = fakes({ a: [99, 10, 12, 11], b: [99, 30, 36, 33], c: [99, 5] });
  const r = await runBench(subjects, { runs: 3, warmup: 1, now });
  const timed = calls.filter((c) => !c.includes(':'));
  // One warm-up round, then three measured rounds.
  assert.deepEqual(timed, ['a', 'b', 'c', 'a', 'b', 'c', 'b', 'c', 'a', 'c', 'a', 'b']);
  assert.deepEqual(calls.slice(0, 3), ['a:setup', 'a', 'a:cleanup']);
  const [a, b, c] = r.subjects as [SubjectResult, SubjectResult, SubjectResult];
  assert.deepEqual(a.samples, [10, 12, 11]);
  assert.deepEqual(b.samples, [30, 36, 33]);
  assert.deepEqual(c.samples, [5, 99, 5]);
  assert.equal(a.median, 11);
  assert.equal(b.median, 33);
  assert.equal(r.baseline, 'a');
  assert.equal(a.ratio, 1);
  assert.equal(b.ratio, 3);
  assert.equal(c.max, 99);
});

test('runBench: ratios against a chosen baseline; bad options are refused', async () => {
  const { subjects, now } = fakes({ x: [10], y: [40] });
  const r = await runBench(subjects, { runs: 2, warmup: 0, baseline: 'y', now });
  assert.deepEqual(
    r.subjects.map((s) => [s.name, s.ratio]),
    [
      ['x', 0.25],
      ['y', 1],
    ],
  );
  const table = formatTable(r);
  assert.match(table, /^2 runs each after 0 warm-up, interleaved; times in ms$/m);
  assert.match(table, /^subject\s+min\s+median\s+max\s+mean\s+× y$/m);
  assert.match(table, /^x\s+10\.0\s+10\.0\s+10\.0\s+10\.0\s+0\.25$/m);
  await assert.rejects(
    runBench(subjects, { runs: 0, warmup: 0 }),
    /runs must be a positive integer/,
  );
  await assert.rejects(runBench(subjects, { runs: 1, warmup: -1 }), /warmup must be/);
  await assert.rejects(
    runBench(subjects, { runs: 1, warmup: 0, baseline: 'z' }),
    /no subject named 'z'/,
  );
  await assert.rejects(runBench([...subjects, subjects[0]!], { runs: 1, warmup: 0 }), /unique/);
  await assert.rejects(runBench([], { runs: 1, warmup: 0 }), /no subjects/);
});

test('command subjects: NODE_EXTRA_CA_CERTS removed unless kept, env overrides, real times', async () => {
  process.env.NODE_EXTRA_CA_CERTS ??= '/nonexistent/ca.pem';
  const unset = { name: 'unset', argv: ['sh', '-c', 'test -z "$NODE_EXTRA_CA_CERTS"'] };
  const kept = {
    name: 'kept',
    argv: ['sh', '-c', 'test -n "$NODE_EXTRA_CA_CERTS" && test "$A" = 1 && test -z "$HOME"'],
    keepNodeExtraCaCerts: true,
    env: { A: '1', HOME: undefined },
  };
  const r = await runBench([unset, kept], { runs: 2, warmup: 1 });
  for (const s of r.subjects) {
    assert.equal(s.samples.length, 2);
    assert.ok(s.min > 0 && s.max < 5000, `plausible times: ${s.samples.join(', ')}`);
  }
});

test('command subjects: setup and cleanup commands run around every run', async () => {
  const dir = await tempDir();
  try {
    const flag = path.join(dir.path, 'ready');
    const log = path.join(dir.path, 'log');
    const subject = {
      name: 'needs-setup',
      argv: ['sh', '-c', `test -f "${flag}" && echo run >> "${log}"`],
      setup: [['touch', flag]],
      cleanup: [['rm', flag]],
    };
    await runBench([subject], { runs: 3, warmup: 1 });
    await assert.rejects(access(flag), { code: 'ENOENT' });
    const { stdout } = await run('wc', ['-l', log]);
    assert.equal(Number(stdout.trim().split(' ')[0]), 4);
  } finally {
    await dir.cleanup();
  }
});

test('a failing command stops the bench with its stderr; probe says why', async () => {
  const bad = { name: 'bad', argv: ['sh', '-c', 'echo "no such runtime" >&2; exit 3'] };
  await assert.rejects(
    runBench([bad], { runs: 1, warmup: 0 }),
    /'sh -c .*' failed \(status 3\): no such runtime/,
  );
  assert.equal(await probe(bad), 'no such runtime');
  assert.equal(await probe({ name: 'ok', argv: ['true'] }), undefined);
  assert.match((await probe({ name: 'missing', argv: ['/nonexistent/bin'] })) ?? '', /ENOENT/);
  assert.equal(await probe({ ...bad, expectStatus: 3 }), undefined);
});

test('parseBenchArgs: defaults, values, one-line errors', () => {
  const d = { runs: 20, warmup: 3 };
  assert.deepEqual(parseBenchArgs([], d), {
    runs: 20,
    warmup: 3,
    json: undefined,
    only: undefined,
    baseline: undefined,
    lock: true,
    quiet: false,
    help: false,
  });
  const a = parseBenchArgs(
    ['--runs', '5', '--warmup', '0', '--json', 'out.json', '--only', 'run$', '--no-lock'],
    d,
  );
  assert.equal(a.runs, 5);
  assert.equal(a.warmup, 0);
  assert.equal(a.json, 'out.json');
  assert.ok(a.only?.test('podman run'));
  assert.equal(a.lock, false);
  assert.throws(
    () => parseBenchArgs(['--runs', '0'], d),
    /^Error: --runs takes an integer >= 1, not '0'$/,
  );
  assert.throws(() => parseBenchArgs(['--warmup', 'x'], d), /--warmup takes an integer >= 0/);
  assert.throws(() => parseBenchArgs(['--only', '('], d), /--only takes a regular expression/);
  assert.throws(
    () => parseBenchArgs(['--bogus'], d),
    (err: Error) => !err.message.includes('\n'),
  );
});

test('a bench script end to end: table, JSON, and a bad flag', async () => {
  const dir = await tempDir();
  try {
    const script = path.join(dir.path, 'fake.mjs');
    await writeFile(
      script,
      `import { benchMain } from ${JSON.stringify(path.join(repoRoot, 'dist/bench/cli.js'))};
await benchMain({
  title: 'fake',
  defaults: { runs: 3, warmup: 1, baseline: 'missing' },
  prepare: async () => ({
    subjects: [
      { name: 'fast', fn: () => new Promise((r) => setTimeout(r, 1)) },
      { name: 'slow', fn: () => new Promise((r) => setTimeout(r, 20)) },
    ],
    skipped: [{ name: 'absent', reason: 'not installed' }],
  }),
});
`,
    );
    const node = (...args: string[]) =>
      run(process.execPath, [script, '--no-lock', ...args]).then(
        (r) => ({ code: 0, ...r }),
        (e: { code: number; stdout: string; stderr: string }) => e,
      );
    const table = await node();
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stderr, /skipped absent: not installed/);
    assert.match(table.stderr, /baseline missing is not available; comparing with fast/);
    assert.match(table.stdout, /^slow\s/m);
    const json = await node('--json', '-', '--runs', '2', '--quiet');
    const result = JSON.parse(json.stdout) as {
      runs: number;
      baseline: string;
      subjects: { name: string; ratio: number; samples: number[] }[];
    };
    assert.equal(result.runs, 2);
    assert.equal(result.baseline, 'fast');
    assert.equal(result.subjects[1]?.samples.length, 2);
    assert.ok(result.subjects[1].ratio > 1, 'slow is slower than fast');
    assert.equal(json.stderr, '');
    const bad = await node('--runs', 'many');
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr, "bench: --runs takes an integer >= 1, not 'many'\n");
  } finally {
    await dir.cleanup();
  }
});
