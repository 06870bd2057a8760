import { archiveError } from './tar-error.js';

/**
 * PAX extended header records ("%d %s=%s\n", the length counting the whole record). Keys are
 * UTF-8; values stay raw bytes, because SCHILY.xattr.* values are binary (a
 * security.capability is a packed struct) and decoding them as text would corrupt them.
 */
export type PaxRecords = Map<string, Buffer>;

/** Parses the body of a PAX 'x' or 'g' header read at byte `at`. */
export function parsePax(body: Buffer, at: number): PaxRecords {
  const out: PaxRecords = new Map();
  let pos = 0;
  while (pos < body.length) {
    if (body[pos] === 0) {
      // Some writers pad the records with NULs; nothing may follow the padding.
      for (let i = pos; i < body.length; i++) {
        if (body[i] !== 0) throw archiveError('invalid pax header: data after padding', at);
      }
      break;
    }
    const sp = body.indexOf(0x20, pos);
    if (sp < 0 || sp - pos > 12) throw archiveError('invalid pax header: bad record length', at);
    let len = 0;
    for (let i = pos; i < sp; i++) {
      const c = body[i]!;
      if (c < 0x30 || c > 0x39) throw archiveError('invalid pax header: bad record length', at);
      len = len * 10 + (c - 0x30);
    }
    const end = pos + len;
    if (sp === pos || len <= sp - pos + 1 || end > body.length || body[end - 1] !== 0x0a) {
      throw archiveError('invalid pax header: bad record length', at);
    }
    const eq = body.indexOf(0x3d, sp + 1);
    if (eq < 0 || eq >= end - 1 || eq === sp + 1) {
      throw archiveError('invalid pax header: record without key=value', at);
    }
    const key = body.toString('utf8', sp + 1, eq);
    out.set(key, Buffer.from(body.subarray(eq + 1, end - 1)));
    pos = end;
  }
  return out;
}

/** One PAX record, its length prefix included. */
export function encodePaxRecord(key: string, value: Buffer): Buffer {
  const kv = Buffer.byteLength(key) + value.length + 3; // ' ', '=', '\n'
  let len = kv + String(kv).length;
  if (String(len).length !== String(kv).length) len = kv + String(len).length;
  return Buffer.concat([Buffer.from(`${len} ${key}=`, 'utf8'), value, Buffer.from('\n')]);
}

/** The bytes of records in key order, so the same header always encodes the same way. */
export function encodePax(records: PaxRecords): Buffer {
  const keys = [...records.keys()].sort(compareBytes);
  return Buffer.concat(keys.map((k) => encodePaxRecord(k, records.get(k)!)));
}

function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
