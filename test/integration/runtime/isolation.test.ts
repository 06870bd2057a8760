import assert from 'node:assert/strict';
import { readlinkSync } from 'node:fs';
import { testNoLeaks } from '../../helpers/leak-check.js';
import os from 'node:os';
import { applyContainerSecurity, containerSecurity } from '../../../src/oci/index.js';
import { defaultSpec } from '../../helpers/busybox-bundle.js';
import { fileFixture, runIn } from './fixture.js';

const { f, skip } = fileFixture();

const NS = ['pid', 'net', 'mnt', 'uts', 'ipc', 'cgroup'];

testNoLeaks('the container gets new namespaces and is pid 1', { skip }, async () => {
  const script = NS.map((n) => `readlink /proc/self/ns/${n}`).join(';') + '; echo $$';
  const r = await runIn(f, ['sh', '-c', script]);
  assert.equal(r.exitCode, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  NS.forEach((n, i) =>
    assert.notEqual(lines[i], readlinkSync(`/proc/self/ns/${n}`), `${n} namespace is new`),
  );
  assert.equal(lines.at(-1), '1');
});

testNoLeaks('hostname, mounts, a minimal /dev, a read-only /sys', { skip }, async () => {
  const r = await runIn(f, [
    'sh',
    '-c',
    'hostname; cat /proc/self/mounts; ls /dev; touch /sys/x 2>&1; echo $?',
  ]);
  assert.equal(r.exitCode, 0, r.stderr);
  const [host, ...rest] = r.stdout.split('\n');
  assert.equal(host, 'chrun-test');
  const text = rest.join('\n');
  assert.match(text, /^proc \/proc proc /m);
  assert.match(text, /^sysfs \/sys sysfs ro,/m);
  assert.match(text, /^devpts \/dev\/pts devpts /m);
  for (const d of [
    'null',
    'zero',
    'full',
    'random',
    'urandom',
    'tty',
    'ptmx',
    'pts',
    'shm',
    'mqueue',
    'fd',
  ]) {
    assert.match(text, new RegExp(`^${d}$`, 'm'), `/dev/${d}`);
  }
  assert.doesNotMatch(text, /^sda|^vda|^kmsg$/m, 'no host devices');
  assert.match(text, /Read-only file system\n1\n$/);
});

testNoLeaks('masked paths read empty, read-only paths refuse writes', { skip }, async () => {
  const r = await runIn(f, [
    'sh',
    '-c',
    'wc -c < /proc/keys; ls /sys/firmware | wc -l; echo 1 > /proc/sys/kernel/domainname; echo rc=$?',
  ]);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.equal(r.stdout, '0\n0\nrc=1\n');
  assert.match(r.stderr, /Read-only file system/);
});

testNoLeaks('capabilities are dropped and no_new_privs is set', { skip }, async () => {
  const r = await runIn(f, [
    'sh',
    '-c',
    'grep -E "^(CapEff|CapBnd|CapPrm|NoNewPrivs)" /proc/self/status',
  ]);
  assert.equal(r.exitCode, 0, r.stderr);
  // CAP_KILL (5), CAP_NET_BIND_SERVICE (10), CAP_AUDIT_WRITE (29)
  const want = ((1n << 5n) | (1n << 10n) | (1n << 29n)).toString(16).padStart(16, '0');
  assert.match(r.stdout, new RegExp(`CapEff:\\t${want}`));
  assert.match(r.stdout, new RegExp(`CapBnd:\\t${want}`));
  assert.match(r.stdout, /NoNewPrivs:\t1/);
});

testNoLeaks('seccomp is active and a blocked syscall fails with EPERM', { skip }, async () => {
  for (const cache of [true, false]) {
    const r = await runIn(
      f,
      ['sh', '-c', 'grep ^Seccomp: /proc/self/status; mkdir /tmp/x; echo rc=$?'],
      (s) => {
        s.linux!.seccomp = {
          defaultAction: 'SCMP_ACT_ALLOW',
          architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_AARCH64'],
          syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }],
        };
      },
      {},
    );
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stdout, /^Seccomp:\t2\nrc=1\n$/, `cache ${cache}`);
    assert.match(r.stderr, /Operation not permitted/);
  }
});

testNoLeaks('rlimits, uid, gid and additional gids', { skip }, async () => {
  const r = await runIn(
    f,
    ['sh', '-c', 'ulimit -n; ulimit -Hn; id -u; id -g; id -G; grep CapEff /proc/self/status'],
    (s) => {
      s.process!.user = { uid: 1000, gid: 1001, additionalGids: [1002, 1003] };
      s.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 100, hard: 200 }];
    },
  );
  assert.equal(r.exitCode, 0, r.stderr);
  // a non-root user keeps no effective capabilities across execve (no ambient set)
  assert.equal(r.stdout, '100\n200\n1000\n1001\n1001 1002 1003\nCapEff:\t0000000000000000\n');
});

testNoLeaks('exit codes and signals come back', { skip }, async () => {
  assert.equal((await runIn(f, ['sh', '-c', 'exit 42'])).exitCode, 42);
  const p = await f.rt.run('sig', f.bundle, {
    spec: defaultSpec(['sleep', '30']),
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  p.kill('SIGKILL');
  const st = await p.wait();
  assert.deepEqual([st.signal, st.exitCode, st.code], ['SIGKILL', 137, null]);
});

testNoLeaks('--init: a reaper as pid 1 forwards signals and returns 128+n', { skip }, async () => {
  const p = await f.rt.run('init', f.bundle, {
    spec: defaultSpec(['sh', '-c', 'echo $$; exec sleep 30']),
    stdio: ['ignore', 'pipe', 'ignore'],
    init: true,
  });
  const pidLine = await new Promise<string>((res) =>
    p.stdout?.once('data', (d: Buffer) => res(d.toString())),
  );
  assert.notEqual(pidLine.trim(), '1', 'the command is not pid 1 under the reaper');
  p.kill('SIGTERM');
  const st = await p.wait();
  assert.deepEqual([st.code, st.exitCode], [143, 143]);
});

testNoLeaks(
  "docker's default security (src/oci): commands work, filter on, capabilities docker's",
  { skip },
  async () => {
    const sec = containerSecurity({ kernel: os.release() });
    const r = await runIn(
      f,
      [
        'sh',
        '-c',
        'ls / >/dev/null && ps >/dev/null && grep -E "^(Seccomp|CapEff):" /proc/self/status; unshare -U true 2>&1; echo unshare=$?',
      ],
      (s) => Object.assign(s, applyContainerSecurity(s, sec)),
    );
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stdout, /^Seccomp:\t2$/m);
    // docker's 14 default capabilities: chown dac_override fowner fsetid kill setgid setuid setpcap
    // net_bind_service net_raw sys_chroot mknod audit_write setfcap
    assert.match(r.stdout, /^CapEff:\t00000000a80425fb$/m);
    // creating a user namespace needs CAP_SYS_ADMIN under docker's profile: refused
    assert.match(r.stdout, /unshare=[1-9]/);
  },
);
