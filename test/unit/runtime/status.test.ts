import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  assertCan,
  canDelete,
  canExec,
  canKill,
  canStart,
  StateTransitionError,
} from '../../../src/runtime/status.js';
import type { Status } from '../../../src/runtime/status.js';

const ALL: Status[] = ['creating', 'created', 'running', 'stopped'];

test('which verb applies in which status', () => {
  assert.deepEqual(
    ALL.filter((s) => canStart(s)),
    ['created'],
  );
  assert.deepEqual(
    ALL.filter((s) => canKill(s)),
    ['created', 'running'],
  );
  assert.deepEqual(
    ALL.filter((s) => canExec(s)),
    ['created', 'running'],
  );
  assert.deepEqual(
    ALL.filter((s) => canDelete(s)),
    ['stopped'],
  );
  assert.deepEqual(
    ALL.filter((s) => canDelete(s, true)),
    ALL,
  );
});

test('a refused transition is a StateTransitionError with its code and words', () => {
  assert.throws(
    () => assertCan('start', 'web', 'running'),
    (err: unknown) => {
      assert.ok(err instanceof StateTransitionError);
      assert.equal(err.code, 'CHRUN_STATE_TRANSITION');
      assert.equal(err.message, 'start container web: it is running');
      return true;
    },
  );
  assert.doesNotThrow(() => assertCan('kill', 'web', 'running'));
});
