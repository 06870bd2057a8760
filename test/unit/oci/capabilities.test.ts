import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  CAPABILITIES,
  DEFAULT_CAPABILITIES,
  boundingSetFromStatus,
  capabilitiesFromMask,
  capabilityMask,
  normalizeCapabilities,
  processCapabilities,
  resolveCapabilities,
} from '../../../src/oci/index.js';

/** This host: every capability up to CAP_CHECKPOINT_RESTORE but CAP_SYS_RESOURCE. */
const HOST_STATUS =
  'Name:\tnode\nCapInh:\t0000000000000000\nCapBnd:\t000001fffeffffff\nCapAmb:\t0000000000000000\n';

test('capability numbers follow linux/capability.h', () => {
  assert.equal(CAPABILITIES.length, 41);
  assert.equal(CAPABILITIES[0], 'CAP_CHOWN');
  assert.equal(CAPABILITIES[21], 'CAP_SYS_ADMIN');
  assert.equal(CAPABILITIES[24], 'CAP_SYS_RESOURCE');
  assert.equal(CAPABILITIES[40], 'CAP_CHECKPOINT_RESTORE');
  assert.equal(capabilityMask(['CAP_CHOWN', 'CAP_KILL']), 0b100001n);
  assert.equal(capabilityMask(CAPABILITIES), (1n << 41n) - 1n);
  assert.throws(() => capabilityMask(['CAP_NOPE']), /unknown capability: "CAP_NOPE"/);
});

test('the bounding set from /proc/self/status', () => {
  const caps = boundingSetFromStatus(HOST_STATUS);
  assert.equal(caps.length, 40);
  assert.ok(!caps.includes('CAP_SYS_RESOURCE'));
  assert.deepEqual(capabilitiesFromMask('0000000000000021'), ['CAP_CHOWN', 'CAP_KILL']);
  assert.throws(() => boundingSetFromStatus('Name:\tx\n'), /no CapBnd line/);
});

test("docker's default set", () => {
  assert.deepEqual(
    resolveCapabilities(),
    [...DEFAULT_CAPABILITIES].sort((a, b) => CAPABILITIES.indexOf(a) - CAPABILITIES.indexOf(b)),
  );
  assert.equal(DEFAULT_CAPABILITIES.length, 14);
  assert.ok(!DEFAULT_CAPABILITIES.includes('CAP_SYS_ADMIN'));
});

test('--cap-add and --cap-drop: names with or without CAP_, any case', () => {
  const caps = resolveCapabilities({
    add: ['sys_admin', 'CAP_net_admin'],
    drop: ['Net_Raw', 'CAP_MKNOD'],
  });
  assert.ok(caps.includes('CAP_SYS_ADMIN'));
  assert.ok(caps.includes('CAP_NET_ADMIN'));
  assert.ok(!caps.includes('CAP_NET_RAW'));
  assert.ok(!caps.includes('CAP_MKNOD'));
  assert.equal(caps.length, 14);
});

test('ALL: --cap-add ALL takes all but the drops; --cap-drop ALL keeps only the adds', () => {
  const available = boundingSetFromStatus(HOST_STATUS);
  const all = resolveCapabilities({ add: ['ALL'], drop: ['sys_module'], available });
  assert.equal(all.length, 39);
  assert.ok(!all.includes('CAP_SYS_MODULE'));
  assert.deepEqual(resolveCapabilities({ drop: ['all'], add: ['chown'] }), ['CAP_CHOWN']);
  assert.deepEqual(resolveCapabilities({ drop: ['ALL'] }), []);
});

test('--privileged gets every capability the host can grant', () => {
  const available = boundingSetFromStatus(HOST_STATUS);
  assert.deepEqual(resolveCapabilities({ privileged: true, available }), available);
  assert.equal(resolveCapabilities({ privileged: true }).length, 41);
});

test("unknown names and names the host cannot grant are errors in docker's words", () => {
  assert.throws(
    () => resolveCapabilities({ add: ['foo'] }),
    /^ChrunError: unknown capability: "CAP_FOO"$/,
  );
  const available = boundingSetFromStatus(HOST_STATUS);
  assert.throws(
    () => resolveCapabilities({ add: ['SYS_RESOURCE'], available }),
    /capability not supported by your kernel or not available in the current environment: "CAP_SYS_RESOURCE"/,
  );
  assert.deepEqual(normalizeCapabilities(['all', 'kill']), ['ALL', 'CAP_KILL']);
});

test('root holds its capabilities; another user only keeps them bounded', () => {
  assert.deepEqual(processCapabilities(['CAP_KILL'], 0), {
    bounding: ['CAP_KILL'],
    effective: ['CAP_KILL'],
    permitted: ['CAP_KILL'],
  });
  assert.deepEqual(processCapabilities(['CAP_KILL'], 1000), { bounding: ['CAP_KILL'] });
});
