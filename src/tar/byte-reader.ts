import { ChrunError } from '../util/index.js';
import { BLOCK } from './header-fields.js';
import { archiveError } from './tar-error.js';

const EMPTY = Buffer.alloc(0);

/**
 * Pulls bytes from an async iterable of chunks without copying them: whole blocks and body
 * pieces are subarrays of the chunks the source produced. Only a header block that straddles
 * two chunks is copied (into one scratch buffer), and metadata bodies (PAX, GNU long names).
 */
export class ByteReader {
  private readonly it: AsyncIterator<Uint8Array>;
  private buf: Buffer = EMPTY;
  private pos = 0;
  /** Bytes of the chunks before `buf`. */
  private base = 0;
  private ended = false;
  private readonly scratch = Buffer.allocUnsafe(BLOCK);

  constructor(
    source: AsyncIterable<Uint8Array>,
    private readonly maxBytes = Number.POSITIVE_INFINITY,
  ) {
    this.it = source[Symbol.asyncIterator]();
  }

  /** Bytes consumed so far. */
  get offset(): number {
    return this.base + this.pos;
  }

  /** Fetches the next chunk into `buf`; false at the end of the source. */
  private async pull(): Promise<boolean> {
    if (this.ended) return false;
    const r = await this.it.next();
    this.base += this.buf.length;
    this.pos = 0;
    if (r.done === true) {
      this.ended = true;
      this.buf = EMPTY;
      return false;
    }
    const v = r.value;
    this.buf = Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
    if (this.base + this.buf.length > this.maxBytes) {
      this.ended = true;
      await this.close();
      throw new ChrunError(
        'CHRUN_SIZE_MISMATCH',
        `read archive: more than the allowed ${this.maxBytes} bytes`,
        { fields: { op: 'read tar', maxBytes: this.maxBytes } },
      );
    }
    return true;
  }

  private truncated(): ChrunError {
    return archiveError('unexpected end of data (truncated archive)', this.offset);
  }

  /**
   * The next 512-byte block, or null at a clean end of the source. The block is only valid
   * until the next call (it may be the scratch buffer).
   */
  async readBlock(): Promise<Buffer | null> {
    const avail = this.buf.length - this.pos;
    if (avail >= BLOCK) {
      const b = this.buf.subarray(this.pos, this.pos + BLOCK);
      this.pos += BLOCK;
      return b;
    }
    let have = 0;
    if (avail > 0) {
      this.buf.copy(this.scratch, 0, this.pos);
      have = avail;
      this.pos = this.buf.length;
    }
    while (have < BLOCK) {
      if (!(await this.pull())) {
        if (have === 0) return null;
        throw this.truncated();
      }
      const n = Math.min(BLOCK - have, this.buf.length);
      this.buf.copy(this.scratch, have, 0, n);
      this.pos = n;
      have += n;
    }
    return this.scratch;
  }

  /** Exactly `n` bytes in a fresh buffer (for metadata bodies, which are small). */
  async readExact(n: number): Promise<Buffer> {
    const out = Buffer.allocUnsafe(n);
    let have = 0;
    while (have < n) {
      if (this.pos === this.buf.length && !(await this.pull())) throw this.truncated();
      const k = Math.min(n - have, this.buf.length - this.pos);
      this.buf.copy(out, have, this.pos, this.pos + k);
      this.pos += k;
      have += k;
    }
    return out;
  }

  /** The next piece of at most `max` (> 0) bytes, without copying. */
  async piece(max: number): Promise<Buffer> {
    while (this.pos === this.buf.length) {
      if (!(await this.pull())) throw this.truncated();
    }
    const k = Math.min(max, this.buf.length - this.pos);
    const b = this.buf.subarray(this.pos, this.pos + k);
    this.pos += k;
    return b;
  }

  /** Skips exactly `n` bytes. */
  async skip(n: number): Promise<void> {
    while (n > 0) {
      if (this.pos === this.buf.length && !(await this.pull())) throw this.truncated();
      const k = Math.min(n, this.buf.length - this.pos);
      this.pos += k;
      n -= k;
    }
  }

  /**
   * Reads the rest of the source (so a digest computed upstream sees every byte), and returns
   * true when its first `zeros` bytes, if present, are all zero.
   */
  async drain(zeros: number): Promise<boolean> {
    let ok = true;
    for (;;) {
      if (zeros > 0 && this.pos < this.buf.length) {
        const k = Math.min(zeros, this.buf.length - this.pos);
        for (let i = this.pos; i < this.pos + k; i++) if (this.buf[i] !== 0) ok = false;
        zeros -= k;
      }
      this.pos = this.buf.length;
      if (!(await this.pull())) return ok;
    }
  }

  /** Stops the source early (when the consumer gives up or an error is thrown). */
  async close(): Promise<void> {
    this.ended = true;
    await this.it.return?.();
  }
}
