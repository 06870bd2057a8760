import assert from 'node:assert/strict';
import { test } from 'node:test';
import { exitCodeOf } from '../../../src/cli/exit-codes.js';
import { formatError } from '../../../src/cli/report.js';
import { ChrunError } from '../../../src/util/index.js';

test('exit codes follow docker', () => {
  assert.equal(exitCodeOf(new ChrunError('CHRUN_EXEC_NOT_FOUND', 'x')), 127);
  assert.equal(exitCodeOf(new ChrunError('CHRUN_EXEC_PERMISSION', 'x')), 126);
  assert.equal(exitCodeOf(new ChrunError('CHRUN_IMAGE_NOT_FOUND', 'x')), 125);
  assert.equal(exitCodeOf(new Error('boom')), 125);
});

test('errors are one line', () => {
  assert.equal(formatError(new ChrunError('CHRUN_INTERNAL', 'a\n  b')), 'chrun: a; b');
});

test('formatError keeps the failing call and path of a system error', () => {
  const err = Object.assign(new Error("ENOTDIR: not a directory, mkdir '/s/content'"), {
    code: 'ENOTDIR',
    syscall: 'mkdir',
    path: '/s/content',
  });
  assert.equal(formatError(err), 'chrun: mkdir /s/content: not a directory');
});
