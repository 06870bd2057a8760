import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { processExists } from '../../../src/util/index.js';

test('processExists: this process and init exist, a reaped child and bad pids do not', () => {
  assert.equal(processExists(process.pid), true);
  assert.equal(processExists(1), true);
  const child = spawnSync('true');
  assert.equal(processExists(child.pid), false);
  for (const bad of [0, -1, 1.5, Number.NaN]) assert.equal(processExists(bad), false, String(bad));
});
