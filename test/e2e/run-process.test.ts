import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { testNoLeaks } from '../helpers/leak-check.js';
import { startChrun, startChrunOnPty, fileRunEnv } from '../helpers/run-env.js';

/*
 * The container's process through bin/chrun: signals forwarded, a real terminal (raw mode,
 * window size, ^C), kill -9 of chrun itself, --explain. Every test under the leak checker.
 */

const { env, opts } = fileRunEnv();

const SIGNALS = ['INT', 'TERM', 'HUP', 'QUIT', 'USR1', 'USR2'] as const;

testNoLeaks(
  'SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 reach the container',
  opts,
  async () => {
    // the shell is PID 1: it gets a signal only if it handles it, as in docker
    const traps = SIGNALS.map((s) => `trap 'echo got-${s}' ${s};`).join(' ');
    const c = startChrun(env, [
      'run',
      '--rm',
      'busybox',
      'sh',
      '-c',
      `${traps} trap 'echo bye; exit 7' ALRM; echo ready; while :; do sleep 0.05; done`,
    ]);
    await c.waitFor('ready\n');
    for (const s of SIGNALS) {
      process.kill(c.pid, `SIG${s}`);
      await c.waitFor(`got-${s}\n`);
    }
    process.kill(c.pid, 'SIGALRM'); // not forwarded: chrun would die of it...
    const r = await c.done;
    // ...which kills the container with it (the helper sees chrun go)
    assert.equal(r.signal, 'SIGALRM');
    assert.equal(r.stdout, ['ready', ...SIGNALS.map((s) => `got-${s}`), ''].join('\n'));
  },
);

testNoLeaks(
  'a signal the container does not handle ends it with 128 + the signal',
  opts,
  async () => {
    const c = startChrun(env, [
      'run',
      '--rm',
      '--init',
      'busybox',
      'sh',
      '-c',
      'echo ready; sleep 60',
    ]);
    await c.waitFor('ready\n');
    process.kill(c.pid, 'SIGTERM');
    const r = await c.done;
    assert.equal(r.code, 143, r.stderr);
  },
);

for (const rm of [true, false]) {
  testNoLeaks(
    `kill -9 of chrun: the container ends and nothing is left (${rm ? '--rm' : 'kept as exited'})`,
    opts,
    async () => {
      const c = startChrun(env, [
        'run',
        ...(rm ? ['--rm'] : ['--name', 'killed']),
        '--memory',
        '64m',
        '-v',
        `${env.dir}:/host`,
        'busybox',
        'sh',
        '-c',
        'sleep 60 & echo ready; wait',
      ]);
      await c.waitFor('ready\n');
      process.kill(c.pid, 'SIGKILL');
      assert.equal((await c.done).signal, 'SIGKILL');
      if (!rm) {
        // the record stays, as docker keeps a container killed with its daemon: exited (137)
        for (let i = 0; ; i++) {
          const ps = await env.chrun(['ps', '-a', '--format', 'json']);
          const row = JSON.parse(ps.stdout) as { Names: string; State: string; ExitCode: number };
          if (row.State === 'exited') {
            assert.deepEqual([row.Names, row.ExitCode], ['killed', 137]);
            break;
          }
          assert.ok(i < 100, `still ${row.State}`);
          await sleep(50);
        }
        assert.equal((await env.chrun(['rm', 'killed'])).code, 0);
      }
    },
  );
}

testNoLeaks(
  'kill -9 of chrun under --isolation chroot: the root mounted on the host goes too',
  opts,
  async () => {
    const c = startChrun(env, [
      'run',
      '--rm',
      '--isolation',
      'chroot',
      'busybox',
      'sh',
      '-c',
      'echo ready; sleep 60',
    ]);
    await c.waitFor('ready\n');
    process.kill(c.pid, 'SIGKILL');
    await c.done;
  },
);

testNoLeaks(
  '-it: a real terminal, raw mode, window size changes, ^C to the foreground process',
  opts,
  async (t) => {
    const c = startChrunOnPty(env, ['run', '--rm', '-it', 'busybox', 'sh'], {
      rows: 30,
      cols: 100,
    });
    t.after(() => c.kill());
    const say = async (cmd: string, expect: string | RegExp): Promise<void> => {
      c.write(`${cmd}\r`);
      await c.waitFor(expect);
    };
    await say('tty; stty size; echo "[$TERM]"', /\/dev\/pts\/0\r\n30 100\r\n\[xterm\]/);
    c.control('resize 40 120');
    await sleep(300);
    await say('stty size | sed "s/^/size=/"', 'size=40 120');
    // ^C is a keystroke: the container's terminal turns it into SIGINT for its foreground
    // process (a shell of its own here), not for chrun, which would signal PID 1
    await say(
      `sh -c 'trap "echo got-int; exit 0" INT; echo armed; while :; do sleep 0.1; done'`,
      'armed\r\n',
    );
    c.write('\x03');
    await c.waitFor('got-int\r\n');
    c.write('exit 5\r');
    const r = await c.done;
    assert.equal(r.code, 5, r.stdout);
  },
);

testNoLeaks('--explain prints every isolation step with its microseconds', opts, async () => {
  const r = await env.chrun([
    'run',
    '--rm',
    '--explain',
    '--memory',
    '64m',
    '--pids-limit',
    '50',
    '--ulimit',
    'nproc=500',
    'busybox',
    'true',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stderr.trimEnd().split('\n');
  for (const l of lines) assert.match(l, /^\s*(\d+|-) us {2}(chrun|host|container)\s+\S/, l);
  const has = (re: RegExp): void =>
    assert.ok(
      lines.some((l) => re.test(l)),
      `${re} in\n${r.stderr}`,
    );
  has(/chrun\s+resolve image busybox/);
  has(/chrun\s+prepare the root \(overlay: 2 layers/);
  has(
    /chrun\s+create cgroups \/sys\/fs\/cgroup\/\S+\/chrun\/[0-9a-f]{64}.*memory\.limit_in_bytes=67108864.*pids\.max=50/,
  );
  has(/host\s+clone \(flags 0x[0-9a-f]+, new namespaces: pid, ipc, uts, mount, network\)/);
  has(/container unshare the cgroup namespace \(now that the cgroups are joined\)/);
  has(/container mount overlay root on /);
  has(/container mount proc on \/proc/);
  has(/container pivot_root into /);
  has(/container set capabilities \(keep 14: chown dac_override/);
  has(/container load seccomp filter \(\d{3} rules/);
  has(/container setrlimit RLIMIT_NPROC 500:500/);
  has(/container bring up the loopback interface lo/);
  has(/container mask \/proc\/kcore/);
  has(/container make \/proc\/sys read-only/);
  has(/- us {2}container exec true/);
});
