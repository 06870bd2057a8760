import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatBytes } from '../../../src/cli/commands/system.js';

test('sizes print in decimal units, like docker', () => {
  assert.equal(formatBytes(0), '0B');
  assert.equal(formatBytes(999), '999B');
  assert.equal(formatBytes(1234), '1.23kB');
  assert.equal(formatBytes(45_600_000), '45.6MB');
  assert.equal(formatBytes(123_000_000_000), '123GB');
});
