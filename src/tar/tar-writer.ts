import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { ChrunError } from '../util/index.js';
import { END_OF_ARCHIVE, entryChunks } from './entry-chunks.js';
import type { TarBody, TarHeaderInput } from './types.js';

/**
 * Writes a tar archive into a Writable, one entry at a time, honouring back-pressure:
 *
 *   const tar = new TarWriter(fs.createWriteStream(path));
 *   await tar.add({ path: 'etc/hostname', type: 'file' }, Buffer.from('box\n'));
 *   await tar.finish(); // end-of-archive blocks, then ends the stream
 *
 * The bytes are those of packTar for the same entries.
 */
export class TarWriter {
  private busy = false;
  private finished = false;

  constructor(private readonly sink: Writable) {}

  /** Appends one entry; a file's body must be exactly its size (default: the buffer's). */
  async add(header: TarHeaderInput, body?: TarBody): Promise<void> {
    this.enter();
    try {
      for await (const chunk of entryChunks({ header, body })) await this.write(chunk);
    } finally {
      this.busy = false;
    }
  }

  /** Writes the end-of-archive blocks and ends the sink (unless `end: false`). */
  async finish(options: { end?: boolean } = {}): Promise<void> {
    this.enter();
    try {
      await this.write(Buffer.from(END_OF_ARCHIVE));
      this.finished = true;
      if (options.end !== false) {
        const done = once(this.sink, 'finish');
        this.sink.end();
        await done;
      }
    } finally {
      this.busy = false;
    }
  }

  private enter(): void {
    if (this.busy || this.finished) {
      throw new ChrunError(
        'CHRUN_INTERNAL',
        this.finished ? 'write tar: archive already finished' : 'write tar: add() while busy',
      );
    }
    this.busy = true;
  }

  private async write(chunk: Buffer): Promise<void> {
    if (this.sink.destroyed) {
      throw new ChrunError('CHRUN_INTERNAL', 'write tar: the output stream is closed');
    }
    if (!this.sink.write(chunk)) await once(this.sink, 'drain');
  }
}
