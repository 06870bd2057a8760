import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { testNoLeaks } from '../helpers/leak-check.js';
import { fileRunEnv } from '../helpers/run-env.js';

/*
 * The security tests, through bin/chrun on the real kernel: the chroot escape, host
 * pids, mount, /proc/sys, modules, the host network, a memory hog and a fork bomb. Each
 * refusal is checked against a run where the same thing works, so it cannot pass by accident.
 */

const { env, opts } = fileRunEnv();

testNoLeaks(
  'the classic chroot escape reaches the host root under --isolation chroot, not under full',
  opts,
  async () => {
    const marker = path.join(env.dir, 'host-marker');
    const secret = randomBytes(8).toString('hex');
    await writeFile(marker, `${secret}\n`);
    const chroot = await env.chrun([
      'run',
      '--rm',
      '--isolation',
      'chroot',
      'busybox',
      '/bin/probe',
      'escape',
      marker,
    ]);
    assert.equal(chroot.code, 0, chroot.stderr);
    assert.equal(chroot.stdout, `${secret}\n`, 'chroot isolation is not a security boundary');
    // docker's default capabilities include CAP_SYS_CHROOT: the climb ends at the container root
    const full = await env.chrun(['run', '--rm', 'busybox', '/bin/probe', 'escape', marker]);
    assert.equal(full.code, 1);
    assert.equal(full.stdout, `open ${marker}: No such file or directory\n`);
    const inside = await env.chrun([
      'run',
      '--rm',
      'busybox',
      '/bin/probe',
      'escape',
      '/etc/hostname',
    ]);
    assert.match(inside.stdout, /^[0-9a-f]{12}\n$/, 'it reads the container its own /etc/hostname');
  },
);

testNoLeaks(
  'full isolation: no host pids, no mount, no write to /proc/sys, no module loading',
  opts,
  async () => {
    const hostProc = spawn('sleep', ['30']);
    try {
      const script = [
        `test -e /proc/${hostProc.pid} && echo host-pid-visible || echo host-pid-hidden`,
        'echo pids=$(ls /proc | grep -c "^[0-9]")',
        '(mount -t tmpfs t /tmp) 2>&1; echo mount=$?',
        // the value it has: harmless even if it were written
        '(cat /proc/sys/vm/overcommit_memory > /proc/sys/vm/overcommit_memory) 2>&1; echo sysctl=$?',
        'echo junk > /tmp/x.ko; insmod /tmp/x.ko 2>&1; echo insmod=$?',
      ].join('; ');
      const sysctl = readFileSync('/proc/sys/vm/overcommit_memory', 'utf8');
      const r = await env.chrun(['run', '--rm', 'busybox', 'sh', '-c', script]);
      assert.equal(r.code, 0, r.stderr);
      const out = r.stdout;
      assert.match(out, /^host-pid-hidden$/m);
      assert.match(out, /^pids=[1-4]$/m);
      assert.match(out, /^mount: permission denied \(are you root\?\)\nmount=1$/m);
      assert.match(out, /Read-only file system\nsysctl=[1-9]/);
      assert.match(out, /insmod: can't insert '\/tmp\/x\.ko': Operation not permitted\ninsmod=1/);
      assert.equal(readFileSync('/proc/sys/vm/overcommit_memory', 'utf8'), sysctl);
      // the same container, privileged: mount works and insmod reaches the module check,
      // so the refusals above came from the isolation
      const priv = await env.chrun([
        'run',
        '--rm',
        '--privileged',
        'busybox',
        'sh',
        '-c',
        'mount -t tmpfs t /tmp && echo mounted; echo junk > /tmp/x.ko; insmod /tmp/x.ko 2>&1; true',
      ]);
      assert.match(priv.stdout, /^mounted$/m, priv.stderr);
      assert.doesNotMatch(priv.stdout, /Operation not permitted/);
    } finally {
      hostProc.kill('SIGKILL');
    }
  },
);

testNoLeaks('--network none cannot reach the host network; --network host can', opts, async () => {
  const got: string[] = [];
  const server = net.createServer((s) => {
    s.on('data', (d: Buffer) => got.push(d.toString()));
    s.end('hi from the host\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  try {
    const probe = `echo knock | nc -w 2 127.0.0.1 ${port}; echo rc=$?`;
    const none = await env.chrun(['run', '--rm', 'busybox', 'sh', '-c', probe]);
    assert.match(none.stdout, /rc=1\n$/, none.stderr);
    assert.doesNotMatch(none.stdout, /hi from the host/);
    assert.deepEqual(got, []);
    const host = await env.chrun([
      'run',
      '--rm',
      '--network',
      'host',
      'busybox',
      'sh',
      '-c',
      probe,
    ]);
    assert.equal(host.stdout, 'hi from the host\nrc=0\n', host.stderr);
    assert.deepEqual(got, ['knock\n']);
  } finally {
    server.close();
  }
});

testNoLeaks(
  'a memory hog is killed at its limit (137, reported), a fork bomb stops at its pids limit, the host stays healthy',
  opts,
  async () => {
    const hog = await env.chrun([
      'run',
      '--rm',
      '--memory',
      '32m',
      '--memory-swap',
      '32m',
      'busybox',
      'sh',
      '-c',
      'exec dd if=/dev/zero of=/dev/null bs=128M count=1',
    ]);
    assert.equal(hog.code, 137);
    assert.equal(hog.stderr, 'container killed: out of memory\n');
    // the bomb forks until the limit refuses; PID 1 then reads, with builtins only (no fork),
    // how often the limit refused, and exits: its whole pid namespace goes with it
    const bomb = await env.chrun([
      'run',
      '--rm',
      '--pids-limit',
      '30',
      'busybox',
      'sh',
      '-c',
      'bomb() { bomb | bomb & }; bomb; i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done; ' +
        'read max < /sys/fs/cgroup/pids/pids.max; read events < /sys/fs/cgroup/pids/pids.events; ' +
        'echo "max=$max $events"; exit 0',
    ]);
    assert.equal(bomb.code, 0, bomb.stderr);
    const m = /^max=30 max (\d+)\n$/.exec(bomb.stdout);
    assert.ok(m !== null && Number(m[1]) > 0, `refused forks counted: ${bomb.stdout}`);
    const healthy = await env.chrun(['run', '--rm', 'busybox', 'echo', 'still fine']);
    assert.equal(healthy.stdout, 'still fine\n');
  },
);
