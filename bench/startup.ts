// Start-up cost of running `true` in a fresh container, chrun next to its peers, in one run
// (`chrun run --rm --network none busybox true` end to end, CLI start-up included):
//   npm run build && node dist/bench/startup.js [--runs N] [--warmup N] [--json FILE]
// Peers that are missing or do not work on this host are left out with the reason
// (bash bench/install-peers.sh installs and configures them).
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { benchMain, type BenchArgs, type Prepared } from './cli.js';
import { probe, type Subject } from './harness.js';

const run = promisify(execFile);
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const chrun = path.join(repoRoot, 'bin/chrun');
/** The image bench/install-peers.sh imports into podman from the host's busybox. */
const PODMAN_IMAGE = 'localhost/chrun-bench/busybox:latest';
/** Ratios are to podman's median: the targets are fractions of podman's time. */
const BASELINE = 'podman run';
const CHRUN_IMAGE = 'busybox:latest';

/** A root filesystem with busybox and a few applets. */
async function busyboxRootfs(dir: string): Promise<void> {
  await mkdir(path.join(dir, 'bin'), { recursive: true });
  await copyFile('/bin/busybox', path.join(dir, 'bin/busybox'));
  for (const applet of ['sh', 'true']) await symlink('busybox', path.join(dir, 'bin', applet));
}

/** An OCI bundle running /bin/true: `runc spec`'s defaults, no terminal, read-only root. */
async function trueBundle(bundle: string): Promise<void> {
  await busyboxRootfs(path.join(bundle, 'rootfs'));
  await run('runc', ['spec', '--bundle', bundle]).catch(() =>
    run('crun', ['spec', '--bundle', bundle]),
  );
  const file = path.join(bundle, 'config.json');
  const spec = JSON.parse(await readFile(file, 'utf8')) as {
    process: { terminal: boolean; args: string[] };
    root: { path: string; readonly: boolean };
  };
  spec.process.terminal = false;
  spec.process.args = ['/bin/true'];
  spec.root = { path: 'rootfs', readonly: true };
  await writeFile(file, JSON.stringify(spec, null, 2));
}

async function podmanImage(work: string): Promise<void> {
  const exists = await run('podman', ['image', 'exists', PODMAN_IMAGE]).then(
    () => true,
    () => false,
  );
  if (exists) return;
  const rootfs = path.join(work, 'podman-rootfs');
  await busyboxRootfs(rootfs);
  await run('sh', [
    '-c',
    `tar -C "$1" -c . | podman import --quiet - "$2"`,
    'sh',
    rootfs,
    PODMAN_IMAGE,
  ]);
}

/** busybox imported into a chrun root of the bench's own (no registry involved). */
async function chrunImage(work: string, root: string): Promise<void> {
  const rootfs = path.join(work, 'chrun-rootfs');
  await busyboxRootfs(rootfs);
  await run('sh', [
    '-c',
    `tar -C "$1" -c . | "$2" --root "$3" import - "$4"`,
    'sh',
    rootfs,
    chrun,
    root,
    CHRUN_IMAGE,
  ]);
}

async function prepare(args: BenchArgs): Promise<Prepared> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'chrun-bench-'));
  const bundle = path.join(work, 'bundle');
  const id = `chrun-bench-${process.pid}`;
  let bundleMade: Promise<void> | undefined;
  const bundleReady = (): Promise<void> => (bundleMade ??= trueBundle(bundle));
  const prepared: { subject: Subject; ready?: () => Promise<unknown> }[] = [
    { subject: { name: 'node -e 0', argv: [process.execPath, '-e', '0'] } },
    { subject: { name: 'chrun --version', argv: [chrun, '--version'] } },
    {
      subject: {
        name: 'chrun run',
        argv: [
          chrun,
          '--root',
          path.join(work, 'chrun-root'),
          'run',
          '--rm',
          '--network',
          'none',
          CHRUN_IMAGE,
          'true',
        ],
      },
      ready: () => chrunImage(work, path.join(work, 'chrun-root')),
    },
    { subject: { name: 'bwrap', argv: ['bwrap', '--unshare-all', '--ro-bind', '/', '/', 'true'] } },
    {
      subject: {
        name: 'runc run',
        argv: ['runc', '--root', path.join(work, 'runc'), 'run', '--bundle', bundle, id],
      },
      ready: bundleReady,
    },
    {
      subject: {
        name: 'crun run',
        argv: ['crun', '--root', path.join(work, 'crun'), 'run', '--bundle', bundle, id],
      },
      ready: bundleReady,
    },
    {
      subject: {
        name: 'podman run',
        argv: [
          'podman',
          '--runtime',
          'runc',
          'run',
          '--rm',
          '--network',
          'none',
          PODMAN_IMAGE,
          'true',
        ],
      },
      ready: () => podmanImage(work),
    },
  ];
  const subjects: Subject[] = [];
  const skipped: { name: string; reason: string }[] = [];
  const baseline = args.baseline ?? BASELINE;
  const wanted = prepared.filter(
    ({ subject: s }) => !args.only || args.only.test(s.name) || s.name === baseline,
  );
  for (const { subject, ready } of wanted) {
    try {
      await ready?.();
    } catch (err) {
      skipped.push({
        name: subject.name,
        reason: (err as Error).message.trim().split('\n').at(-1)!,
      });
      continue;
    }
    const why = await probe(subject);
    if (why === undefined) subjects.push(subject);
    else skipped.push({ name: subject.name, reason: why });
  }
  return { subjects, skipped, dispose: () => rm(work, { recursive: true, force: true }) };
}

const result = await benchMain({
  title: 'start-up: run `true` in a fresh container (or start the CLI)',
  defaults: { runs: 20, warmup: 3, baseline: BASELINE },
  prepare,
});
if (result !== undefined) {
  // the targets: chrun run at most 1/4 of podman's time; chrun's own cost beyond a
  // bare node start at most 15 ms (the CLI's: --version; the whole run's, container included)
  const median = (name: string): number | undefined =>
    result.subjects.find((s) => s.name === name)?.median;
  const node = median('node -e 0');
  const podman = median('podman run');
  const chrunRun = median('chrun run');
  for (const name of ['chrun --version', 'chrun run']) {
    const m = median(name);
    if (m !== undefined && node !== undefined)
      console.log(`${name} - node -e 0: ${(m - node).toFixed(1)} ms`);
  }
  if (chrunRun !== undefined && podman !== undefined)
    console.log(`chrun run / podman run: ${(chrunRun / podman).toFixed(2)} (target <= 0.25)`);
}
