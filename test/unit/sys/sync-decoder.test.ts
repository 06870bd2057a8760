import assert from 'node:assert/strict';
import { test } from 'node:test';
import { frame } from '../../../src/sys/plan-encoder.js';
import { M } from '../../../src/sys/protocol.js';
import { decodeWaitStatus, SyncDecoder } from '../../../src/sys/sync-decoder.js';

function str(s: string): Buffer {
  const b = Buffer.from(`${s}\0`);
  const n = Buffer.alloc(4);
  n.writeUInt32LE(b.length);
  return Buffer.concat([n, b]);
}

function u32(...v: number[]): Buffer {
  const b = Buffer.alloc(4 * v.length);
  v.forEach((x, i) => b.writeInt32LE(x | 0, i * 4));
  return b;
}

test('decodes every message type, split at any byte', () => {
  const stream = Buffer.concat([
    frame(M.PID, u32(4321)),
    frame(M.TIMINGS, u32(2, 0, 812, 5, 40)),
    frame(M.NOTE, Buffer.concat([u32(3), str('fell back to chroot')])),
    frame(M.READY),
    frame(M.ERROR, Buffer.concat([u32(7, 1), str('/proc')])),
    frame(99, u32(1, 2, 3)), // unknown: skipped
    frame(M.EXEC),
    frame(M.EXIT, u32(9)),
  ]);
  for (const cut of [1, 3, 8, 13, stream.length - 1]) {
    const d = new SyncDecoder();
    const msgs = [...d.push(stream.subarray(0, cut)), ...d.push(stream.subarray(cut))];
    assert.equal(d.buffered, 0);
    assert.deepEqual(msgs, [
      { type: 'pid', pid: 4321 },
      {
        type: 'timings',
        timings: [
          { step: 0, usec: 812 },
          { step: 5, usec: 40 },
        ],
      },
      { type: 'note', step: 3, text: 'fell back to chroot' },
      { type: 'ready' },
      { type: 'error', step: 7, errno: 1, detail: '/proc' },
      { type: 'exec' },
      { type: 'exit', status: { code: null, signal: 9 } },
    ]);
  }
});

test('wait statuses: exit codes and signals', () => {
  assert.deepEqual(decodeWaitStatus(0), { code: 0, signal: null });
  assert.deepEqual(decodeWaitStatus(127 << 8), { code: 127, signal: null });
  assert.deepEqual(decodeWaitStatus(15), { code: null, signal: 15 });
  assert.deepEqual(decodeWaitStatus(9 | 0x80), { code: null, signal: 9 }); // core dumped
});

test('malformed messages are errors, not guesses', () => {
  const bad = [
    frame(M.PID, u32(1, 2)),
    frame(M.TIMINGS, u32(3, 0, 1)),
    frame(M.ERROR, Buffer.concat([u32(1, 2), Buffer.from([5, 0, 0, 0, 0x41])])),
    frame(M.NOTE, Buffer.concat([u32(1), Buffer.from([2, 0, 0, 0, 0x41, 0x42])])),
  ];
  for (const f of bad)
    assert.throws(() => new SyncDecoder().push(f), { code: 'CHRUN_HELPER_FAILED' });
  const huge = Buffer.alloc(8);
  huge.writeUInt32LE(0x7fffffff);
  assert.throws(() => new SyncDecoder().push(huge), /frame of/);
});
