// Hand-made tar bytes for tests of the tar reader: written independently of src/tar (only the
// format's own rules), so a bug shared by our writer and reader cannot hide.

export interface RawBlockFields {
  name?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  mtime?: number;
  typeflag?: string;
  linkname?: string;
  /** 'ustar' (POSIX, default), 'gnu' ("ustar  \0") or 'v7' (no magic). */
  format?: 'ustar' | 'gnu' | 'v7';
  uname?: string;
  gname?: string;
  devmajor?: number;
  devminor?: number;
  prefix?: string;
  /** Raw bytes written over the block before the checksum is computed. */
  patch?: [offset: number, bytes: Buffer][];
  /** Stored checksum instead of the right one. */
  checksum?: number;
}

const octal = (b: Buffer, off: number, len: number, v: number): void => {
  b.write(v.toString(8).padStart(len - 1, '0'), off, len - 1, 'ascii');
};

/** One 512-byte header block. */
export function rawBlock(f: RawBlockFields): Buffer {
  const b = Buffer.alloc(512);
  b.write(f.name ?? 'file', 0, 100, 'utf8');
  octal(b, 100, 8, f.mode ?? 0o644);
  octal(b, 108, 8, f.uid ?? 0);
  octal(b, 116, 8, f.gid ?? 0);
  octal(b, 124, 12, f.size ?? 0);
  octal(b, 136, 12, f.mtime ?? 0);
  b.write(f.typeflag ?? '0', 156, 1, 'latin1');
  b.write(f.linkname ?? '', 157, 100, 'utf8');
  const format = f.format ?? 'ustar';
  if (format === 'ustar') b.write('ustar\x0000', 257, 'latin1');
  if (format === 'gnu') b.write('ustar  \x00', 257, 'latin1');
  if (format !== 'v7') {
    b.write(f.uname ?? '', 265, 32, 'utf8');
    b.write(f.gname ?? '', 297, 32, 'utf8');
    octal(b, 329, 8, f.devmajor ?? 0);
    octal(b, 337, 8, f.devminor ?? 0);
  }
  if (format === 'ustar') b.write(f.prefix ?? '', 345, 155, 'utf8');
  for (const [off, bytes] of f.patch ?? []) bytes.copy(b, off);
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const x of b) sum += x;
  b.write(`${(f.checksum ?? sum).toString(8).padStart(6, '0')}\x00 `, 148, 'latin1');
  return b;
}

/** `data` and the zero padding to a whole block. */
export function padded(data: Buffer): Buffer {
  return Buffer.concat([data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
}

/** PAX records ("LEN key=value\n") from pairs; values may be binary. */
export function paxRecords(pairs: [string, string | Buffer][]): Buffer {
  return Buffer.concat(
    pairs.map(([k, v]) => {
      const value = typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
      const rest = Buffer.byteLength(k) + value.length + 3;
      let len = rest + String(rest).length;
      if (String(len).length !== String(rest).length) len = rest + String(len).length;
      return Buffer.concat([Buffer.from(`${len} ${k}=`), value, Buffer.from('\n')]);
    }),
  );
}

/** A metadata entry ('x', 'g', 'L', 'K') with its body. */
export function metaEntry(
  typeflag: string,
  body: Buffer,
  format: 'ustar' | 'gnu' = 'ustar',
): Buffer {
  const name = typeflag === 'L' || typeflag === 'K' ? '././@LongLink' : 'PaxHeader/x';
  return Buffer.concat([rawBlock({ name, typeflag, size: body.length, format }), padded(body)]);
}

/** A regular file entry with its body. */
export function fileEntry(name: string, body: Buffer, f: RawBlockFields = {}): Buffer {
  return Buffer.concat([rawBlock({ name, size: body.length, ...f }), padded(body)]);
}

export const END = Buffer.alloc(1024);

/** `data` as an async iterable of chunks of `size` bytes (the last may be shorter). */
export function chunked(data: Buffer, size: number): AsyncGenerator<Buffer> {
  return asAsync(
    (function* () {
      for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
    })(),
  );
}

/** A sync iterable as an async one (each item a separate turn, as streams deliver them). */
export async function* asAsync<T>(items: Iterable<T>): AsyncGenerator<T> {
  for (const item of items) {
    await Promise.resolve();
    yield item;
  }
}

/** Every chunk of an async iterable, concatenated. */
export async function collect(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of source) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}
