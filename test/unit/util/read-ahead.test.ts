import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readAhead } from '../../../src/util/index.js';

/** A source that logs when each item is produced, and when it is stopped. */
function source(
  n: number,
  log: string[],
  failAt?: number,
): AsyncGenerator<number, string, undefined> {
  return (async function* () {
    try {
      for (let i = 0; i < n; i++) {
        await Promise.resolve();
        if (i === failAt) throw new Error(`failed at ${i}`);
        log.push(`made ${i}`);
        yield i;
      }
      return 'the end';
    } finally {
      log.push('source closed');
    }
  })();
}

describe('readAhead', () => {
  test('yields every item in order and returns the source value', async () => {
    const log: string[] = [];
    const it = readAhead(source(5, log), 2);
    const got: number[] = [];
    let r = await it.next();
    while (r.done !== true) {
      got.push(r.value);
      r = await it.next();
    }
    assert.deepEqual(got, [0, 1, 2, 3, 4]);
    assert.equal(r.value, 'the end');
  });

  test('the source runs ahead of the consumer, by `depth` items', async () => {
    const log: string[] = [];
    const it = readAhead(source(10, log), 3);
    await it.next();
    await new Promise((resolve) => setImmediate(resolve));
    // Item 0 was handed over; 1 and 2 were asked for meanwhile.
    assert.deepEqual(log, ['made 0', 'made 1', 'made 2']);
    await it.return('stopped');
  });

  test('a consumer that stops early closes the source', async () => {
    const log: string[] = [];
    for await (const v of readAhead(source(10, log), 2)) if (v === 1) break;
    assert.equal(log.at(-1), 'source closed');
    assert.ok(!log.includes('made 5'), log.join(', '));
  });

  test("the source's error reaches the consumer after the items before it", async () => {
    const log: string[] = [];
    const got: number[] = [];
    await assert.rejects(async () => {
      for await (const v of readAhead(source(10, log, 3), 4)) got.push(v);
    }, /failed at 3/);
    assert.deepEqual(got, [0, 1, 2]);
  });
});
