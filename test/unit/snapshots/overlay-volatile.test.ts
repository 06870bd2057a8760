import assert from 'node:assert/strict';
import { test } from 'node:test';
import { volatileSupported } from '../../../src/snapshots/overlay-volatile.js';

test('overlayfs volatile: from Linux 5.10 on', () => {
  assert.equal(volatileSupported('5.10.0-28-amd64'), true);
  assert.equal(volatileSupported('6.1.0'), true);
  assert.equal(volatileSupported('5.9.16'), false);
  assert.equal(volatileSupported('4.19.0-26-amd64'), false);
  assert.equal(volatileSupported('not a release'), false);
});
