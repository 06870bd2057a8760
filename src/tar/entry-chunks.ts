import { ChrunError } from '../util/index.js';
import { encodeHeader } from './encode-header.js';
import { BLOCK } from './header-fields.js';
import type { TarBody, TarWriteEntry } from './types.js';

const toBuffer = (u: Uint8Array): Buffer =>
  Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);

/**
 * The bytes of one entry: its header blocks, its body checked against its size, and the padding
 * to a whole block. A file's size defaults to the length of a Uint8Array body.
 */
export async function* entryChunks(entry: TarWriteEntry): AsyncGenerator<Buffer> {
  const { header, body } = entry;
  const fail = (what: string): ChrunError =>
    new ChrunError(
      'CHRUN_INVALID_ARGUMENT',
      `write tar entry ${JSON.stringify(header.path)}: ${what}`,
    );
  if (header.type !== 'file') {
    if (body !== undefined) throw fail(`a ${header.type} has no body`);
    yield encodeHeader({ ...header, size: 0 });
    return;
  }
  const size = header.size ?? (body instanceof Uint8Array ? body.byteLength : 0);
  yield encodeHeader({ ...header, size });
  let written = 0;
  for await (const chunk of chunksOf(body)) {
    written += chunk.byteLength;
    if (written > size) throw fail(`body longer than its size ${size}`);
    if (chunk.byteLength > 0) yield toBuffer(chunk);
  }
  if (written !== size) throw fail(`body of ${written} bytes, its size says ${size}`);
  const padding = (BLOCK - (size % BLOCK)) % BLOCK;
  if (padding > 0) yield Buffer.alloc(padding);
}

async function* chunksOf(body: TarBody | undefined): AsyncGenerator<Uint8Array> {
  if (body === undefined) return;
  if (body instanceof Uint8Array) {
    yield body;
    return;
  }
  yield* body;
}

/** The two zero blocks that end an archive. */
export const END_OF_ARCHIVE: Buffer = Buffer.alloc(2 * BLOCK);
