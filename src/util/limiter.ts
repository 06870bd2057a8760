/** Runs async functions with at most a fixed number in flight (see limiter()). */
export type Limiter = <T>(fn: () => Promise<T>) => Promise<T>;

/**
 * A concurrency gate: `run(fn)` starts `fn` once fewer than `limit` functions given to
 * this limiter are running, in the order they were given. Ours rather than p-limit's:
 * p-limit 6+ is ESM-only with a dependency of its own, for these 15 lines.
 */
export function limiter(limit: number): Limiter {
  const max = Math.max(1, Math.floor(limit));
  let active = 0;
  const queue: (() => void)[] = [];
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (active >= max) await new Promise<void>((resolve) => queue.push(resolve));
    else active++;
    try {
      return await fn();
    } finally {
      // Hand the slot straight to the next waiter (active unchanged), or free it.
      const next = queue.shift();
      if (next !== undefined) next();
      else active--;
    }
  };
}
