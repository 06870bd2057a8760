import assert from 'node:assert/strict';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import { repoRoot } from '../../helpers/cli.js';
import { testNoLeaks } from '../../helpers/leak-check.js';
import { needsRoot } from '../../helpers/requirements.js';
import { fixture, runIn, type Fixture } from './fixture.js';

let f: Fixture;
const skip = needsRoot();
before(async () => {
  if (!skip) {
    f = await fixture();
    await writeFile(path.join(f.bundle, 'rootfs', 'etc', 'marker'), 'inside\n');
    await copyFile(
      path.join(repoRoot, 'native/build/chrun-probe'),
      path.join(f.bundle, 'rootfs', 'bin', 'probe'),
    );
  }
});
after(async () => {
  if (!skip) await f.cleanup();
});

testNoLeaks(
  'chroot isolation is not a security boundary: the chroot escape reaches the host',
  { skip },
  async () => {
    const r = await runIn(f, ['/bin/probe', 'escape', '/etc/hostname'], (s) => {
      s.linux = {};
      s.mounts = [];
      delete s.hostname;
      delete s.process!.capabilities;
      s.process!.noNewPrivileges = false;
    });
    assert.equal(
      r.stdout.trim(),
      (await readFile('/etc/hostname', 'utf8')).trim() || os.hostname(),
    );
  },
);

testNoLeaks(
  'full isolation: the same escape, even with CAP_SYS_CHROOT, stays inside',
  { skip },
  async () => {
    const edit = (s: Parameters<NonNullable<Parameters<typeof runIn>[2]>>[0]): void => {
      for (const set of ['bounding', 'effective', 'permitted'] as const) {
        s.process!.capabilities![set]!.push('CAP_SYS_CHROOT');
      }
    };
    const inside = await runIn(f, ['/bin/probe', 'escape', '/etc/marker'], edit);
    assert.equal(inside.stdout, 'inside\n', 'the climb ends at the container root');
    const host = await runIn(f, ['/bin/probe', 'escape', '/etc/hostname'], edit);
    assert.match(host.stdout, /^open \/etc\/hostname: No such file or directory/);
  },
);

testNoLeaks(
  'full isolation: no host pids, no mount, no write to /proc/sys, no module loading',
  { skip },
  async () => {
    const r = await runIn(f, [
      '/bin/sh',
      '-c',
      'ls /proc | grep -c "^[0-9]"; mount -t tmpfs none /tmp 2>&1; echo mount=$?; ' +
        'echo 1 > /proc/sys/kernel/ns_last_pid 2>&1; echo sys=$?; ' +
        'echo junk > /tmp/x.ko; insmod /tmp/x.ko 2>&1; echo insmod=$?; ' +
        'grep CapBnd /proc/self/status; ip link 2>/dev/null | grep -c "^[0-9]"',
    ]);
    const lines = r.stdout.trim().split('\n');
    assert.ok(Number(lines[0]) <= 3, `sees only its own processes: ${lines[0]}`);
    assert.match(r.stdout, /mount=[1-9]/);
    assert.match(r.stdout, /sys=[1-9]/);
    assert.match(r.stdout, /insmod=[1-9]/);
    // refused for lack of privilege, not because of the file (that would be "invalid module format")
    assert.match(r.stdout, /mount: permission denied|Operation not permitted[^]*mount=/);
    // this kernel may have no module support at all (ENOSYS): the bounding set must lack
    // CAP_SYS_MODULE in any case, so no process in the container can ever load one
    const bnd = BigInt(`0x${/CapBnd:\t([0-9a-f]+)/.exec(r.stdout)?.[1] ?? 'ffffffffff'}`);
    assert.equal((bnd >> 16n) & 1n, 0n, 'CAP_SYS_MODULE is not in the bounding set');
    assert.equal(lines.at(-1), '1', 'only a loopback link in its network namespace');
  },
);
