import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before } from 'node:test';
import { isChrunError } from '../../../src/util/index.js';
import { testNoLeaks } from '../../helpers/leak-check.js';
import { needsRoot } from '../../helpers/requirements.js';
import { fixture, runIn, type Fixture } from './fixture.js';

let f: Fixture;
const skip = needsRoot();
before(async () => {
  if (!skip) f = await fixture();
});
after(async () => {
  if (!skip) await f.cleanup();
});

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
