import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { M, closeZygotes, frame, helperPath, spawnInit } from '../../../src/sys/index.js';
import { isChrunError } from '../../../src/util/index.js';
import { leakCheckEachTest } from '../../helpers/leak-check.js';
import { needsRoot } from '../../helpers/requirements.js';
import { tempDir } from '../../helpers/temp.js';

leakCheckEachTest({ files: [{ path: os.tmpdir(), match: /^chrun-helperfail-/ }] });

/** A stand-in helper: a shell script that hangs or dies where the real one would answer. */
async function fakeHelper(t: TestContext, body: string): Promise<string> {
  const tmp = await tempDir('chrun-helperfail-');
  t.after(tmp.cleanup);
  const file = path.join(tmp.path, 'helper');
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

async function failure(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(isChrunError(err, 'CHRUN_HELPER_FAILED'), String(err));
  return err.message;
}

const quiet = { stdio: ['ignore', 'ignore', 'ignore'] as ['ignore', 'ignore', 'ignore'] };

describe('a helper that hangs or dies', { skip: needsRoot() }, () => {
  test('a hung helper is killed after the setup timeout, with a clear error', async (t) => {
    const helper = await fakeHelper(t, 'exec sleep 600');
    const s = spawnInit([], { ...quiet, helper, setupTimeoutMs: 300 });
    assert.equal(
      await failure(s.pid()),
      'run container: the helper made no progress for 0.3 s during setup (killed)',
    );
    await assert.rejects(s.exited());
    for (let i = 0; i < 100 && !gone(s.helperPid!); i++)
      await new Promise((r) => setTimeout(r, 10));
    assert.ok(gone(s.helperPid!), 'the hung helper is gone');
  });

  test('a helper that dies without a word', async (t) => {
    const helper = await fakeHelper(t, 'exit 3');
    const s = spawnInit([], { ...quiet, helper });
    assert.equal(
      await failure(s.exited()),
      'run container: the helper ended without reporting an exit status',
    );
  });

  test('a zygote that never answers is killed; later runs get a new one', async (t) => {
    t.after(() => closeZygotes());
    const helper = await fakeHelper(t, 'exec sleep 600');
    const s = spawnInit([], { ...quiet, helper, zygote: true, setupTimeoutMs: 300 });
    const zygote = s.helperPid!;
    assert.equal(
      await failure(s.pid()),
      'run container: the helper zygote made no progress for 0.3 s during setup (killed)',
    );
    for (let i = 0; i < 100 && !gone(zygote); i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(gone(zygote), 'the stuck zygote is gone');
    const next = spawnInit([], { ...quiet, helper, zygote: true, setupTimeoutMs: 300 });
    assert.notEqual(next.helperPid, zygote, 'a new zygote');
    await failure(next.pid());
    for (let i = 0; i < 100 && !gone(next.helperPid!); i++)
      await new Promise((r) => setTimeout(r, 10));
  });

  test('a zygote that dies fails its runs', async (t) => {
    t.after(() => closeZygotes());
    const helper = await fakeHelper(t, 'exit 0');
    const s = spawnInit([], { ...quiet, helper, zygote: true });
    assert.equal(await failure(s.pid()), 'run container: the helper zygote ended');
  });

  test('the real zygote answers a spawn it cannot carry out with the reason', async () => {
    const z = spawn(helperPath(), ['zygote'], { stdio: ['ignore', 'ignore', 'inherit', 'pipe'] });
    const sock = z.stdio[3] as Socket;
    try {
      const reply = new Promise<{ type: number; aux: number; value: number }>((resolve) => {
        let got = Buffer.alloc(0);
        sock.on('data', (c: Buffer) => {
          got = Buffer.concat([got, c]);
          // u32 length, u16 type, u16 aux, then the i32 answer
          if (got.length >= 12)
            resolve({
              type: got.readUInt16LE(4),
              aux: got.readUInt16LE(6),
              value: got.readInt32LE(8),
            });
        });
      });
      sock.write(frame(M.SPAWN, Buffer.from([0, 0]), 7)); // too short to hold a plan
      assert.deepEqual(await reply, { type: M.SPAWNED, aux: 7, value: -22 });
    } finally {
      sock.destroy();
      await new Promise((r) => z.once('exit', r));
    }
  });
});
