#!/usr/bin/env node
// Runs the test tiers with node's own test runner on the compiled tests in dist/test.
//   node scripts/run-tests.mjs                 all tiers: unit, integration, e2e
//   node scripts/run-tests.mjs unit e2e        some tiers
//   node scripts/run-tests.mjs dist/test/x.test.js ...   some files
// Root tiers (integration, e2e) touch machine-wide state (mounts, cgroups, netns, iptables)
// and check for leaks around every test, so their files run one at a time, under a
// machine-wide lock that keeps two runs on one machine from seeing each other's resources.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';

const TIERS = ['unit', 'integration', 'e2e'];
const args = process.argv.slice(2);
const tiers = args.filter((a) => TIERS.includes(a));
const files = args.filter((a) => !TIERS.includes(a) && !a.startsWith('-'));
const extra = args.filter((a) => a.startsWith('-'));
if (!existsSync('dist/test')) {
  console.error("run-tests: dist/test does not exist; run 'npm run build' first");
  process.exit(2);
}
for (const f of files) {
  if (!existsSync(f)) {
    console.error(`run-tests: ${f} does not exist`);
    process.exit(2);
  }
}
// A tier with no tests yet has no directory in dist/test.
const targets =
  files.length > 0
    ? files
    : (tiers.length > 0 ? tiers : TIERS)
        .map((t) => path.join('dist/test', t))
        .filter((t) => existsSync(t));

const rootTier = targets.some((t) => !t.includes(`${path.sep}unit`));
const node = [
  '--test',
  '--test-reporter=spec',
  `--test-concurrency=${rootTier ? 1 : 2}`,
  '--test-timeout=300000',
  ...extra,
  ...targets,
];
let cmd = process.execPath;
let argv = node;
if (rootTier && process.getuid?.() === 0 && spawnSync('flock', ['--version']).status === 0) {
  mkdirSync('/run/lock', { recursive: true });
  cmd = 'flock';
  argv = ['/run/lock/chrun-tests.lock', process.execPath, ...node];
}
const res = spawnSync(cmd, argv, { stdio: 'inherit' });
process.exit(res.status ?? 1);
