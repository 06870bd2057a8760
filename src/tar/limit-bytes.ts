import { tooManyBytes } from '../util/index.js';

/**
 * Passes `source` through, failing with CHRUN_SIZE_MISMATCH as soon as more than `max` bytes
 * went by (the source is not read further). For blobs whose size is declared: a layer larger
 * than its descriptor says is cut off and refused.
 */
export async function* limitBytes(
  source: AsyncIterable<Uint8Array>,
  max: number,
  what = 'read data',
): AsyncGenerator<Uint8Array, void, undefined> {
  let total = 0;
  for await (const chunk of source) {
    total += chunk.byteLength;
    if (total > max) throw tooManyBytes(what, max);
    yield chunk;
  }
}
