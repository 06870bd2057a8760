import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ChrunError,
  describeErrno,
  errnoCode,
  isChrunError,
  reasonOf,
} from '../../../src/util/index.js';

test('ChrunError carries code, fields and cause', () => {
  const cause = new Error('inner');
  const err = new ChrunError('CHRUN_MOUNT_FAILED', 'mount proc on /proc: operation not permitted', {
    cause,
    fields: { path: '/proc', errno: 1 },
  });
  assert.equal(err.code, 'CHRUN_MOUNT_FAILED');
  assert.equal(err.fields.path, '/proc');
  assert.equal(err.cause, cause);
  assert.ok(err instanceof Error);
  assert.ok(isChrunError(err));
  assert.ok(isChrunError(err, 'CHRUN_MOUNT_FAILED'));
  assert.ok(!isChrunError(err, 'CHRUN_INTERNAL'));
  assert.ok(!isChrunError(cause));
});

test('reasonOf turns node system errors into the kernel wording', () => {
  const sys = Object.assign(new Error("ENOENT: no such file or directory, open '/x'"), {
    code: 'ENOENT',
    syscall: 'open',
  });
  assert.equal(reasonOf(sys), 'no such file or directory');
  assert.equal(errnoCode(sys), 'ENOENT');
  assert.equal(errnoCode('x'), undefined);
  assert.equal(reasonOf('plain'), 'plain');
  assert.equal(describeErrno('EWEIRD'), 'eweird');
});
