import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Command } from 'commander';
import { parseRunArgv, type LeanRun } from '../../../src/cli/lean-run.js';
import { buildProgram } from '../../../src/cli/main.js';
import type { RunFlags } from '../../../src/cli/run-action.js';

/**
 * What commander reads from `argv` (the full CLI's `run`), with the action replaced by one
 * that only records its arguments: the reference the lean parser must agree with.
 */
async function commanderRead(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<LeanRun | Error> {
  const saved = process.env.CHRUN_ROOT;
  if (env.CHRUN_ROOT === undefined) delete process.env.CHRUN_ROOT;
  else process.env.CHRUN_ROOT = env.CHRUN_ROOT;
  try {
    const program = buildProgram(argv);
    let got: LeanRun | undefined;
    for (const cmd of program.commands) {
      cmd
        .exitOverride()
        .configureOutput({ outputError: () => undefined, writeOut: () => undefined });
      if (cmd.name() === 'run') {
        cmd.action((image: string, command: string[], flags: RunFlags, c: Command) => {
          got = { root: c.optsWithGlobals<{ root?: string }>().root, image, command, flags };
        });
      }
    }
    program.configureOutput({ writeOut: () => undefined });
    await program.parseAsync([...argv], { from: 'user' });
    return got ?? new Error('no run');
  } catch (err) {
    return err as Error;
  } finally {
    if (saved === undefined) delete process.env.CHRUN_ROOT;
    else process.env.CHRUN_ROOT = saved;
  }
}

/** commander's flags without the keys it leaves undefined (the lean parser never sets them). */
function defined(run: LeanRun): LeanRun {
  const flags = Object.fromEntries(
    Object.entries(run.flags).filter(([, v]) => v !== undefined),
  ) as unknown as RunFlags;
  return { ...run, flags };
}

const ACCEPTED: { argv: string[]; env?: NodeJS.ProcessEnv }[] = [
  { argv: ['run', 'busybox'] },
  { argv: ['run', '--rm', '--network', 'none', 'busybox', 'true'] },
  { argv: ['--root', '/tmp/r', 'run', '--rm', 'busybox', 'true'] },
  { argv: ['--root=/tmp/r', 'run', 'busybox'] },
  { argv: ['--root', '/a', '--root', '/b', 'run', 'busybox'] },
  { argv: ['run', 'busybox'], env: { CHRUN_ROOT: '/from/env' } },
  { argv: ['--root', '/flag', 'run', 'busybox'], env: { CHRUN_ROOT: '/from/env' } },
  { argv: ['run', '-it', 'busybox', 'sh'] },
  { argv: ['run', '-ti', '--rm', 'busybox', 'sh'] },
  { argv: ['run', '-i', '-t', 'busybox'] },
  { argv: ['run', '-ie', 'A=1', 'busybox'] },
  { argv: ['run', '-eA=1', '-e', 'B=2', '--env=C=3', '--env', 'D', 'busybox', 'env'] },
  { argv: ['run', '--name', 'x', '--name=y', 'busybox'] },
  { argv: ['run', '--entrypoint', '', 'busybox', 'echo', 'hi'] },
  { argv: ['run', '--entrypoint=', 'busybox'] },
  { argv: ['run', '-w', '/srv', '-u', '1000:1000', '-h', 'box', 'busybox', 'pwd'] },
  { argv: ['run', '--workdir=/srv', '--user=nobody', '--hostname=h', 'busybox'] },
  { argv: ['run', '-v', '/a:/b', '-v', '/c:/d:ro', '--volume=/e:/f', 'busybox'] },
  { argv: ['run', '--tmpfs', '/run', '--tmpfs', '/tmp:size=1m', '--read-only', 'busybox'] },
  { argv: ['run', '--init', '--privileged', '--explain', 'busybox'] },
  { argv: ['run', '--network', 'host', '--isolation', 'chroot', 'busybox'] },
  { argv: ['run', '--network=host', '--isolation=full', '--pull=never', 'busybox'] },
  { argv: ['run', '--pull', 'always', 'busybox'] },
  { argv: ['run', '--cap-add', 'NET_ADMIN', '--cap-drop', 'ALL', 'busybox'] },
  { argv: ['run', '--security-opt', 'seccomp=unconfined', 'busybox'] },
  { argv: ['run', '-m', '64m', '--memory-swap', '-1', '--cpus', '0.5', 'busybox'] },
  { argv: ['run', '--memory=1g', '--cpu-shares', '512', '--pids-limit', '-1', 'busybox'] },
  { argv: ['run', '--ulimit', 'nofile=1024:2048', '--ulimit', 'nproc=10', 'busybox'] },
  { argv: ['run', '--env-file', '/a', '--env-file=/b', 'busybox'] },
  // a required value is the next argument whatever it looks like
  { argv: ['run', '--name', '--rm', 'busybox'] },
  { argv: ['run', '-e', '-x', 'busybox'] },
  // everything after the image is the container's, options and -- included
  { argv: ['run', 'busybox', 'echo', '-n', '--rm', '-v', '--', '--help'] },
  { argv: ['run', '-', 'x'] },
];

for (const { argv, env } of ACCEPTED) {
  test(`lean parser reads as commander: ${argv.join(' ')}${env ? ' (CHRUN_ROOT)' : ''}`, async () => {
    const lean = parseRunArgv(argv, env ?? {});
    assert.ok(lean !== undefined, 'the lean parser takes it');
    const ref = await commanderRead(argv, env);
    assert.ok(
      !(ref instanceof Error),
      `commander takes it: ${ref instanceof Error ? ref.message : ''}`,
    );
    assert.deepEqual(lean, defined(ref));
  });
}

const LEFT: string[][] = [
  ['run'], // no image: commander's "missing required argument"
  ['run', '--rm'],
  ['run', '--help'],
  ['run', '--rm', '--help', 'busybox'],
  ['run', '--nope', 'busybox'],
  ['run', '-x', 'busybox'],
  ['run', '-itx', 'busybox'],
  ['run', '--network', 'bridge', 'busybox'],
  ['run', '--network=bridge', 'busybox'],
  ['run', '--isolation', 'vm', 'busybox'],
  ['run', '--pull', 'sometimes', 'busybox'],
  ['run', '--rm=true', 'busybox'],
  ['run', '--name'],
  ['run', '-e'],
  ['run', '--', 'busybox'],
  ['run', '-5', 'busybox'],
  ['-v'],
  ['--version'],
  ['-h', 'run', 'busybox'],
  ['--root'],
  ['ps'],
  ['pull', 'busybox'],
  ['--root', '/r', 'images'],
];

for (const argv of LEFT) {
  test(`lean parser leaves to commander: ${argv.join(' ') || '(nothing)'}`, () => {
    assert.equal(parseRunArgv(argv, {}), undefined);
  });
}

test('the runs it leaves are errors for commander, but for help, -- and a negative number', async () => {
  const read = (a: string[]) => a.includes('--help') || a.includes('--') || a.includes('-5');
  for (const argv of LEFT.filter((a) => a[0] === 'run' && !read(a))) {
    const ref = await commanderRead(argv);
    assert.ok(ref instanceof Error, `commander rejects ${argv.join(' ')}`);
  }
});
