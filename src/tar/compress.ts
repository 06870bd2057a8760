import { createGzip } from 'node:zlib';
import { ChrunError, reasonOf } from '../util/index.js';
import type { Compression } from './compression.js';
import { pipeProcess } from './pipe-process.js';
import { pipeThrough } from './pipe-through.js';

export interface CompressOptions {
  /** gzip 1-9 (default 6), zstd 1-19 (default 3). */
  level?: number;
}

/**
 * `source` compressed with gzip (node:zlib; header with mtime 0 and no name, so the output is
 * reproducible), zstd (the `zstd` command, single-threaded so the output does not depend on
 * the machine) or passed through ('none').
 */
export async function* compress(
  source: AsyncIterable<Uint8Array>,
  compression: Compression,
  options: CompressOptions = {},
): AsyncGenerator<Buffer, void, undefined> {
  switch (compression) {
    case 'none':
      for await (const c of source) {
        yield Buffer.isBuffer(c) ? c : Buffer.from(c.buffer, c.byteOffset, c.byteLength);
      }
      return;
    case 'gzip':
      yield* pipeThrough(
        source,
        createGzip({ level: options.level ?? 6, chunkSize: 64 * 1024 }),
        (err) =>
          new ChrunError('CHRUN_INTERNAL', `compress gzip: ${reasonOf(err)}`, { cause: err }),
      );
      return;
    case 'zstd':
      yield* pipeProcess(source, 'zstd', ['-c', '-q', '-T1', `-${options.level ?? 3}`], {
        what: 'compress zstd',
        pkg: 'zstd',
      });
      return;
  }
}
