import { ChrunError } from '../util/index.js';
import { FRAME_HEADER, FRAME_MAX, M } from './protocol.js';

/** What the helper reports, decoded. */
export type HelperMessage =
  | { type: 'pid'; pid: number }
  | { type: 'ready' }
  | { type: 'timings'; timings: { step: number; usec: number }[] }
  | { type: 'error'; step: number; errno: number; detail: string }
  | { type: 'note'; step: number; text: string }
  /** The container process called execve. */
  | { type: 'exec' }
  | { type: 'exit'; status: WaitStatus };

/** A process's end: its exit code, or the signal that killed it. */
export interface WaitStatus {
  code: number | null;
  signal: number | null;
}

/** Decodes a raw wait(2) status. */
export function decodeWaitStatus(raw: number): WaitStatus {
  const sig = raw & 0x7f;
  if (sig === 0) return { code: (raw >> 8) & 0xff, signal: null };
  return { code: null, signal: sig };
}

function bad(what: string): never {
  throw new ChrunError('CHRUN_HELPER_FAILED', `decode helper message: ${what}`);
}

function readStr(b: Buffer, off: number): [string, number] {
  if (off + 4 > b.length) bad('truncated string length');
  const n = b.readUInt32LE(off);
  if (n < 1 || off + 4 + n > b.length) bad('truncated string');
  if (b[off + 4 + n - 1] !== 0) bad('string without its nul');
  return [b.toString('utf8', off + 4, off + 4 + n - 1), off + 4 + n];
}

/** Decodes one frame's payload. Unknown types are ignored (undefined) for forward compatibility. */
export function decodeMessage(type: number, _aux: number, p: Buffer): HelperMessage | undefined {
  switch (type) {
    case M.PID:
      if (p.length !== 4) bad('pid');
      return { type: 'pid', pid: p.readInt32LE(0) };
    case M.READY:
      return { type: 'ready' };
    case M.TIMINGS: {
      if (p.length < 4) bad('timings');
      const n = p.readUInt32LE(0);
      if (p.length !== 4 + n * 8) bad('timings length');
      const timings = [];
      for (let i = 0; i < n; i++) {
        timings.push({ step: p.readUInt32LE(4 + i * 8), usec: p.readUInt32LE(8 + i * 8) });
      }
      return { type: 'timings', timings };
    }
    case M.ERROR: {
      if (p.length < 12) bad('error');
      const [detail, end] = readStr(p, 8);
      if (end !== p.length) bad('error length');
      return { type: 'error', step: p.readUInt32LE(0), errno: p.readInt32LE(4), detail };
    }
    case M.NOTE: {
      if (p.length < 8) bad('note');
      const [text, end] = readStr(p, 4);
      if (end !== p.length) bad('note length');
      return { type: 'note', step: p.readUInt32LE(0), text };
    }
    case M.EXEC:
      return { type: 'exec' };
    case M.EXIT:
      if (p.length !== 4) bad('exit');
      return { type: 'exit', status: decodeWaitStatus(p.readInt32LE(0)) };
    default:
      return undefined;
  }
}

/** A frame off the wire: type, aux (the zygote's tag) and payload. */
export interface RawFrame {
  type: number;
  aux: number;
  payload: Buffer;
}

/** Splits a byte stream into frames; feed it chunks as they arrive. */
export class FrameSplitter {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): RawFrame[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const out: RawFrame[] = [];
    let off = 0;
    while (this.pending.length - off >= FRAME_HEADER) {
      const len = this.pending.readUInt32LE(off);
      if (len > FRAME_MAX) bad(`frame of ${len} bytes`);
      if (this.pending.length - off < FRAME_HEADER + len) break;
      out.push({
        type: this.pending.readUInt16LE(off + 4),
        aux: this.pending.readUInt16LE(off + 6),
        payload: this.pending.subarray(off + FRAME_HEADER, off + FRAME_HEADER + len),
      });
      off += FRAME_HEADER + len;
    }
    this.pending = this.pending.subarray(off);
    return out;
  }

  /** Bytes of an incomplete frame still waiting for the rest. */
  get buffered(): number {
    return this.pending.length;
  }
}

/** Splits a byte stream into frames and decodes them; feed it chunks as they arrive. */
export class SyncDecoder {
  private readonly frames = new FrameSplitter();

  push(chunk: Buffer): HelperMessage[] {
    const out: HelperMessage[] = [];
    for (const f of this.frames.push(chunk)) {
      const msg = decodeMessage(f.type, f.aux, f.payload);
      if (msg !== undefined) out.push(msg);
    }
    return out;
  }

  /** Bytes of an incomplete frame still waiting for the rest. */
  get buffered(): number {
    return this.frames.buffered;
  }
}
