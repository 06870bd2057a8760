/**
 * Runs `source` up to `depth` items ahead of its consumer: the next items are asked for (an
 * async generator queues the requests and runs them one after another) while the consumer
 * handles the current one, so a producer's native step (a gunzip call on another thread)
 * overlaps with what the consumer does with its output. Returns the source's return value.
 * A consumer that stops early stops the source once the items asked for have come.
 */
export async function* readAhead<T, R>(
  source: AsyncGenerator<T, R, undefined>,
  depth: number,
): AsyncGenerator<T, R, undefined> {
  const queue: Promise<IteratorResult<T, R>>[] = [];
  let finished = false;
  try {
    for (;;) {
      while (queue.length < depth) {
        const next = source.next();
        next.catch(() => undefined); // rejections are seen where the item is awaited
        queue.push(next);
      }
      const r = await queue.shift()!;
      if (r.done === true) {
        finished = true;
        return r.value;
      }
      yield r.value;
    }
  } finally {
    if (!finished) await source.return(undefined as R).catch(() => undefined);
  }
}
