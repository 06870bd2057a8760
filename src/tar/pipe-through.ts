import type { Duplex } from 'node:stream';

/** Resolves on 'drain' or when the stream closes (so a writer never waits forever). */
export function drainOrClose(stream: NodeJS.EventEmitter): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}

/**
 * Feeds `source` into the writable side of `t` and yields what its readable side produces
 * (for zlib transforms). An error of the source wins over the transform's; others go through
 * `mapError`. When the consumer stops early the transform is destroyed and the source
 * returned.
 */
export async function* pipeThrough(
  source: AsyncIterable<Uint8Array>,
  t: Duplex,
  mapError: (err: unknown) => unknown,
): AsyncGenerator<Buffer, void, undefined> {
  const src: { failed: boolean; error?: unknown } = { failed: false };
  const feed = async (): Promise<void> => {
    try {
      for await (const chunk of source) {
        if (t.destroyed) return;
        if (!t.write(chunk)) await drainOrClose(t);
      }
      if (!t.destroyed) t.end();
    } catch (err) {
      src.failed = true;
      src.error = err;
      t.destroy();
    }
  };
  void feed();
  try {
    for await (const out of t) yield out as Buffer;
  } catch (err) {
    throw src.failed ? src.error : mapError(err);
  } finally {
    t.destroy();
  }
  if (src.failed) throw src.error;
}
