import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { eachLimited, limiter } from '../../../src/util/index.js';

test('limiter runs at most N at once, in the order given, and frees a slot on failure', async () => {
  const run = limiter(2);
  let active = 0;
  let peak = 0;
  const order: number[] = [];
  const task = (i: number, fail = false) =>
    run(async () => {
      order.push(i);
      active++;
      peak = Math.max(peak, active);
      await sleep(10);
      active--;
      if (fail) throw new Error(`task ${i}`);
      return i;
    });
  const results = await Promise.allSettled([task(0), task(1, true), task(2), task(3), task(4)]);
  assert.equal(peak, 2);
  assert.deepEqual(order, [0, 1, 2, 3, 4]);
  assert.deepEqual(
    results.map((r) => (r.status === 'fulfilled' ? r.value : 'failed')),
    [0, 'failed', 2, 3, 4],
  );
  // Bad limits mean one at a time, not none.
  assert.equal(await limiter(0)(() => Promise.resolve('ran')), 'ran');
});

test('eachLimited: the first failure aborts the calls in flight, starts no more, waits for them', async () => {
  const started: number[] = [];
  const aborted: number[] = [];
  let settled = 0;
  const err = await eachLimited([0, 1, 2, 3, 4, 5], 3, async (i, signal) => {
    started.push(i);
    try {
      if (i === 1) {
        await sleep(5);
        throw new Error('layer 1 failed');
      }
      // A transfer that only ends when aborted.
      await sleep(10_000, undefined, { signal });
    } catch (e) {
      if (signal.aborted && i !== 1) aborted.push(i);
      throw e;
    } finally {
      settled++;
    }
  }).catch((e: unknown) => e);
  assert.equal((err as Error).message, 'layer 1 failed');
  assert.deepEqual(started, [0, 1, 2]);
  assert.deepEqual(aborted.sort(), [0, 2]);
  assert.equal(settled, 3, 'every started call settled before eachLimited returned');
});

test('eachLimited: an outer abort cancels with its reason; all succeed otherwise', async () => {
  const outer = new AbortController();
  const p = eachLimited([1, 2], 2, (_i, signal) => sleep(10_000, undefined, { signal }), {
    signal: outer.signal,
  });
  outer.abort(new Error('user cancelled'));
  await assert.rejects(p, /user cancelled/);
  const seen: number[] = [];
  await eachLimited([1, 2, 3], 2, async (i) => {
    seen.push(i);
    await sleep(1);
  });
  assert.deepEqual(seen, [1, 2, 3]);
  await eachLimited([], 3, () => Promise.reject(new Error('never')));
});
