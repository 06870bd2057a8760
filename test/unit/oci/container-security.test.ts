import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  DEFAULT_CAPABILITIES,
  DEFAULT_DEVICE_RULES,
  MASKED_PATHS,
  applyContainerSecurity,
  containerSecurity,
  parseSecurityOpts,
  parseSeccompProfile,
  type Spec,
} from '../../../src/oci/index.js';
import { isChrunError } from '../../../src/util/index.js';

const ctx = { arch: 'amd64', kernel: '6.18.0' };

test('defaults: docker caps, docker seccomp, masked and read-only paths, default devices, ro /sys', () => {
  const sec = containerSecurity(ctx);
  assert.equal(sec.capabilities.length, DEFAULT_CAPABILITIES.length);
  assert.equal(sec.processCapabilities.effective?.length, 14);
  assert.ok(sec.seccomp !== undefined && (sec.seccomp.syscalls?.length ?? 0) > 30);
  assert.ok(sec.noNewPrivileges);
  assert.ok(sec.maskedPaths.includes('/proc/kcore') && sec.maskedPaths.includes('/sys/firmware'));
  assert.ok(
    sec.readonlyPaths.includes('/proc/sys') && sec.readonlyPaths.includes('/proc/sysrq-trigger'),
  );
  assert.deepEqual(
    sec.devices.map((d) => d.path),
    ['/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/tty'],
  );
  assert.deepEqual(sec.deviceRules[0], { allow: false, access: 'rwm' });
  // every default device node has an allow rule
  for (const d of sec.devices) {
    assert.ok(
      sec.deviceRules.some(
        (r) => r.allow && r.major === d.major && r.minor === d.minor && r.access === 'rwm',
      ),
      d.path,
    );
  }
  assert.ok(sec.sysfsReadonly);
});

test('--privileged: all available caps, no seccomp, nothing masked, all devices, rw /sys', () => {
  const available = DEFAULT_CAPABILITIES.concat(['CAP_SYS_ADMIN']);
  const sec = containerSecurity({ ...ctx, privileged: true, availableCapabilities: available });
  assert.equal(sec.capabilities.length, 15);
  assert.equal(sec.seccomp, undefined);
  assert.deepEqual(sec.maskedPaths, []);
  assert.deepEqual(sec.readonlyPaths, []);
  assert.deepEqual(sec.deviceRules, [{ allow: true, access: 'rwm' }]);
  assert.equal(sec.sysfsReadonly, false);
  assert.equal(sec.noNewPrivileges, false);
  // a profile is ignored with --privileged, as docker does
  const p = parseSeccompProfile('{"defaultAction":"SCMP_ACT_KILL"}');
  assert.equal(
    containerSecurity({ ...ctx, privileged: true, seccomp: { kind: 'profile', profile: p } })
      .seccomp,
    undefined,
  );
});

test('seccomp follows cap-add (CAP_SYS_ADMIN allows mount) and unconfined turns it off', () => {
  const sec = containerSecurity({ ...ctx, capAdd: ['SYS_ADMIN'] });
  assert.ok(
    sec.seccomp?.syscalls?.some((r) => r.names.includes('mount') && r.action === 'SCMP_ACT_ALLOW'),
  );
  assert.equal(containerSecurity({ ...ctx, seccomp: { kind: 'unconfined' } }).seccomp, undefined);
  const custom = parseSeccompProfile('{"defaultAction":"SCMP_ACT_LOG"}');
  assert.deepEqual(
    containerSecurity({ ...ctx, seccomp: { kind: 'profile', profile: custom } }).seccomp,
    {
      defaultAction: 'SCMP_ACT_LOG',
      syscalls: [],
    },
  );
});

test('a non-root user keeps capabilities only in the bounding set', () => {
  const sec = containerSecurity({ ...ctx, uid: 1000 });
  assert.deepEqual(Object.keys(sec.processCapabilities), ['bounding']);
});

test('--security-opt values', () => {
  assert.deepEqual(parseSecurityOpts([]), { seccomp: { kind: 'default' } });
  assert.deepEqual(parseSecurityOpts(['seccomp=unconfined']), { seccomp: { kind: 'unconfined' } });
  assert.deepEqual(parseSecurityOpts(['seccomp:/tmp/p.json', 'no-new-privileges']), {
    seccomp: { kind: 'file', path: '/tmp/p.json' },
    noNewPrivileges: true,
  });
  assert.deepEqual(parseSecurityOpts(['no-new-privileges=false']).noNewPrivileges, false);
  assert.throws(() => parseSecurityOpts(['bogus']), /invalid --security-opt: "bogus"/);
  assert.throws(() => parseSecurityOpts(['seccomp=']), /no profile/);
  assert.throws(
    () => parseSecurityOpts(['apparmor=x']),
    (e) => isChrunError(e, 'CHRUN_UNSUPPORTED'),
  );
});

test('applied to a spec', () => {
  const spec: Spec = {
    ociVersion: '1.2.0',
    process: { user: { uid: 0, gid: 0 }, cwd: '/', args: ['sh'] },
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'ro', 'noexec'] },
    ],
    linux: {
      resources: { devices: [{ allow: true, type: 'c', major: 10, minor: 229, access: 'rwm' }] },
    },
  };
  const out = applyContainerSecurity(spec, containerSecurity(ctx));
  assert.equal(out.process?.capabilities?.bounding?.length, 14);
  assert.equal(out.process.noNewPrivileges, true);
  assert.equal(out.linux!.seccomp?.defaultAction, 'SCMP_ACT_ERRNO');
  assert.deepEqual(out.linux!.maskedPaths, [...MASKED_PATHS]);
  assert.equal(
    out.linux!.resources?.devices?.length,
    DEFAULT_DEVICE_RULES.length + 1,
    'user rules come after the defaults',
  );
  assert.deepEqual(out.mounts?.[1]?.options, ['ro', 'nosuid', 'noexec']);
  const priv = applyContainerSecurity(spec, containerSecurity({ ...ctx, privileged: true }));
  assert.deepEqual(priv.mounts?.[1]?.options, ['rw', 'nosuid', 'noexec']);
  assert.equal(priv.linux?.seccomp, undefined);
  assert.equal(spec.linux?.seccomp, undefined, 'the input is not changed');
});
