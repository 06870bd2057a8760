import { limiter } from './limiter.js';

export interface EachLimitedOptions {
  /** Aborting it cancels the whole run like a failure does. */
  signal?: AbortSignal;
}

/**
 * Runs `fn` over `items` with at most `limit` in flight. The first failure (or the outer
 * signal) aborts the signal every call was given, so transfers in flight stop at once, and
 * no further item starts; it resolves only once every started call has settled (nothing
 * keeps writing after it returns), then throws that first failure. Errors the abort itself
 * causes in the other calls are not reported.
 */
export async function eachLimited<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T, signal: AbortSignal) => Promise<void>,
  options: EachLimitedOptions = {},
): Promise<void> {
  const controller = new AbortController();
  const outer = options.signal;
  outer?.throwIfAborted();
  const onOuter = (): void => controller.abort(outer?.reason);
  outer?.addEventListener('abort', onOuter, { once: true });
  let failure: { err: unknown } | undefined;
  const run = limiter(limit);
  try {
    await Promise.all(
      items.map((item) =>
        run(async () => {
          if (controller.signal.aborted) return;
          try {
            await fn(item, controller.signal);
          } catch (err) {
            if (failure === undefined) {
              failure = { err: outer?.aborted === true ? (outer.reason as unknown) : err };
              controller.abort(err);
            }
          }
        }),
      ),
    );
  } finally {
    outer?.removeEventListener('abort', onOuter);
  }
  if (failure !== undefined) throw failure.err;
  outer?.throwIfAborted();
}
