import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Spec } from '../../../src/oci/index.js';
import { Runtime } from '../../../src/runtime/index.js';
import { isChrunError } from '../../../src/util/index.js';
import { defaultSpec } from '../../helpers/busybox-bundle.js';
import { testNoLeaks } from '../../helpers/leak-check.js';
import { fileFixture, runIn } from './fixture.js';

const { f, skip } = fileFixture();

async function failure(
  args: string[],
  edit?: Parameters<typeof runIn>[2],
): Promise<{ code: string; message: string }> {
  try {
    await runIn(f, args, edit);
  } catch (err) {
    assert.ok(isChrunError(err), String(err));
    return { code: err.code, message: err.message };
  }
  assert.fail('expected the run to fail');
}

testNoLeaks('a command that does not exist: 127 with the reason', { skip }, async () => {
  assert.deepEqual(await failure(['/usr/bin/foo']), {
    code: 'CHRUN_EXEC_NOT_FOUND',
    message: 'exec /usr/bin/foo: no such file or directory',
  });
  assert.deepEqual(await failure(['nosuchcommand']), {
    code: 'CHRUN_EXEC_NOT_FOUND',
    message: 'exec nosuchcommand: no such file or directory',
  });
});

testNoLeaks('a command that cannot be executed: 126 with the reason', { skip }, async () => {
  assert.deepEqual(await failure(['/etc']), {
    code: 'CHRUN_EXEC_PERMISSION',
    message: 'exec /etc: permission denied',
  });
});

testNoLeaks('a failing step is reported as the step and the kernel reason', { skip }, async () => {
  const r = await failure(['true'], (s) =>
    s.mounts!.push({ destination: '/x', type: 'nosuchfs', source: 'none' }),
  );
  assert.deepEqual(r, {
    code: 'CHRUN_MOUNT_FAILED',
    message: 'mount nosuchfs on /x: no such device',
  });
  const host = await failure(['true'], (s) =>
    s.mounts!.push({ destination: '/y', type: 'bind', source: '/nonexistent-src' }),
  );
  assert.equal(host.message, 'mount /nonexistent-src on /y: no such file or directory');
});

testNoLeaks('an rlimit above the hard limit chrun has is a clear error', { skip }, async () => {
  const hard = /^Max open files\s+\d+\s+(\d+)/m.exec(
    readFileSync('/proc/self/limits', 'utf8'),
  )?.[1];
  assert.ok(hard !== undefined);
  const above = Number(hard) + 1;
  const r = await failure(['true'], (s) => {
    s.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: above, hard: above }];
  });
  assert.equal(r.code, 'CHRUN_RLIMIT_EXCEEDS_HARD');
  assert.equal(
    r.message,
    `setrlimit RLIMIT_NOFILE ${above}:${above}: operation not permitted (above the hard limit chrun runs with, which it cannot raise)`,
  );
});

testNoLeaks('a device with a relative path is refused with the reason', { skip }, async () => {
  const r = await failure(['true'], (s) => {
    s.linux!.devices = [{ path: 'dev/fuse', type: 'c', major: 10, minor: 229 }];
  });
  assert.deepEqual(r, {
    code: 'CHRUN_INVALID_ARGUMENT',
    message: "config.json: linux.devices: path 'dev/fuse' must be an absolute path below /",
  });
});

testNoLeaks(
  'a seccomp filter above the kernel length limit is a clear error',
  { skip },
  async () => {
    // 5000 argument conditions: about 5030 BPF instructions, above BPF_MAXINSNS (4096).
    const long = (s: Spec) => {
      s.linux!.seccomp = {
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: Array.from({ length: 5000 }, (_, i) => ({
          names: ['ioctl'],
          action: 'SCMP_ACT_ERRNO',
          args: [{ index: 1, value: 100000 + i, op: 'SCMP_CMP_EQ' }],
        })),
      };
    };
    // The cached BPF path: known before anything runs.
    const cached = await failure(['true'], long);
    assert.equal(cached.code, 'CHRUN_INVALID_ARGUMENT');
    assert.match(
      cached.message,
      /^compile seccomp profile: the filter is \d{4} BPF instructions, above the kernel's limit of 4096 \(use fewer rules or argument conditions\)$/,
    );
    // libseccomp in the helper: the step, and the length as the reason.
    const rt = new Runtime({ stateDir: path.join(f.dir, 'state-nocache'), seccompCache: false });
    const spec = defaultSpec(['true']);
    long(spec);
    const err = await rt
      .run('longbpf', f.bundle, { spec, stdio: ['ignore', 'ignore', 'ignore'] })
      .then(
        (p) => p.wait().then(() => undefined),
        (e: unknown) => e,
      );
    assert.ok(isChrunError(err), String(err));
    assert.match(
      err.message,
      /seccomp.*: seccomp program of \d{4} instructions \(the kernel's limit is 4096\)/,
    );
  },
);
