import assert from 'node:assert/strict';
import { parseRunArgv } from '../../src/cli/lean-run.js';
import { testNoLeaks } from '../helpers/leak-check.js';
import { fileRunEnv } from '../helpers/run-env.js';

/*
 * bin/chrun runs a `run` command line through the lean path (src/cli/lean-run.ts, its own
 * bundle, no commander) when it can read it, and through the full CLI otherwise or with
 * CHRUN_LEAN=0. Both must give the same output and exit status, errors included.
 */

const { env, opts } = fileRunEnv();

/** Runs `args` both ways; returns the lean run's result after checking they agree. */
async function bothWays(args: string[], lean: boolean): Promise<{ code: number | null }> {
  assert.equal(
    parseRunArgv(['--root', '/r', ...args], {}) !== undefined,
    lean,
    `the lean parser ${lean ? 'takes' : 'leaves'} ${args.join(' ')}`,
  );
  const viaLean = await env.chrun(args);
  const viaFull = await env.chrun(args, { env: { CHRUN_LEAN: '0' } });
  assert.deepEqual(
    { code: viaLean.code, stdout: viaLean.stdout, stderr: viaLean.stderr },
    { code: viaFull.code, stdout: viaFull.stdout, stderr: viaFull.stderr },
    args.join(' '),
  );
  return viaLean;
}

testNoLeaks(
  'the lean path and the full CLI agree on a container and its status',
  opts,
  async () => {
    const r = await bothWays(
      [
        'run',
        '--rm',
        '-e',
        'A=1',
        '--env=B=2',
        '-w',
        '/tmp',
        'busybox',
        'sh',
        '-c',
        'echo $A$B $(pwd); echo err >&2; exit 7',
      ],
      true,
    );
    assert.equal(r.code, 7);
    assert.equal((await bothWays(['run', '--rm', '-it', 'busybox', 'true'], true)).code, 125);
  },
);

testNoLeaks('the lean path and the full CLI agree on engine errors', opts, async () => {
  const cases: [string[], number][] = [
    [['run', '--rm', 'busybox', '/usr/bin/foo'], 127],
    [['run', '--rm', 'busybox', '/etc/passwd'], 126],
    [['run', '--rm', '--pull', 'never', 'nosuch/image:1', 'true'], 125],
    [['run', '--rm', '--memory', '1k', 'busybox', 'true'], 125],
    [['run', '--rm', '-u', 'nosuchuser', 'busybox', 'true'], 125],
    [['run', '--rm', '--ulimit', 'nofile=abc', 'busybox', 'true'], 125],
    [['run', '--rm', '--security-opt', 'seccomp=/nonexistent.json', 'busybox', 'true'], 125],
    [['run', '--rm', '-v', 'relative:/x', 'busybox', 'true'], 125],
  ];
  for (const [args, code] of cases)
    assert.equal((await bothWays(args, true)).code, code, args.join(' '));
});

testNoLeaks('what the lean parser leaves gets commander’s messages', opts, async () => {
  const cases: string[][] = [
    ['run'],
    ['run', '--rm'],
    ['run', '--nope', 'busybox'],
    ['run', '--network', 'bridge', 'busybox'],
    ['run', '--name'],
  ];
  for (const args of cases) {
    const r = await bothWays(args, false);
    assert.equal(r.code, 125);
  }
  const help = await bothWays(['run', '--help'], false);
  assert.equal(help.code, 0);
});
