import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ChrunError,
  describeErrno,
  describeError,
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

test('describeError names the call and the path of a real system error', async () => {
  const { mkdtemp, mkdir, rename, rm, writeFile } = await import('node:fs/promises');
  const os = await import('node:os');
  const path = await import('node:path');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chrun-errors-'));
  try {
    const file = path.join(dir, 'file');
    await writeFile(file, 'x');
    const mkdirErr = await mkdir(path.join(file, 'sub')).catch((e: unknown) => e);
    assert.equal(describeError(mkdirErr), `mkdir ${file}/sub: not a directory`);
    assert.equal(reasonOf(mkdirErr), 'not a directory');
    const renameErr = await rename(path.join(dir, 'none'), path.join(dir, 'to')).catch(
      (e: unknown) => e,
    );
    assert.equal(
      describeError(renameErr),
      `rename ${dir}/none ${dir}/to: no such file or directory`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const net = await import('node:net');
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const connectErr = await new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('error', resolve);
  });
  assert.equal(describeError(connectErr), `connect 127.0.0.1:${port}: connection refused`);
  const { spawn } = await import('node:child_process');
  const spawnErr = await new Promise((resolve) => {
    spawn('chrun-no-such-program-x').once('error', resolve);
  });
  assert.equal(describeError(spawnErr), 'spawn chrun-no-such-program-x: no such file or directory');
  assert.equal(describeError(new ChrunError('CHRUN_INTERNAL', 'as is')), 'as is');
  assert.equal(describeError(new Error('Plain message')), 'Plain message');
  assert.equal(describeError(7), '7');
});
