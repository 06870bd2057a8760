import { END_OF_ARCHIVE, entryChunks } from './entry-chunks.js';
import type { TarWriteEntry } from './types.js';

/**
 * A tar stream of `entries` (see encodeHeader for the format), ended by two zero blocks and
 * not padded to GNU tar's 10 KiB records (as Go's archive/tar writes layers). Deterministic:
 * the same entries give the same bytes.
 */
export async function* packTar(
  entries: AsyncIterable<TarWriteEntry> | Iterable<TarWriteEntry>,
): AsyncGenerator<Buffer, void, undefined> {
  for await (const entry of entries) yield* entryChunks(entry);
  yield Buffer.from(END_OF_ARCHIVE);
}
