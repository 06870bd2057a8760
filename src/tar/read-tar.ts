import { ChrunError } from '../util/index.js';
import { ByteReader } from './byte-reader.js';
import { decodeHeader, type RawHeader } from './decode-header.js';
import { BLOCK, decodeName, showBytes, type NameBytes } from './header-fields.js';
import { parsePax, type PaxRecords } from './pax.js';
import { archiveError } from './tar-error.js';
import type { ReadTarOptions, TarEntry, TarEntryType, TarHeader } from './types.js';

const ENTRY_TYPES: Record<string, TarEntryType> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file', // contiguous file: a regular file everywhere but on a few 1980s systems
  '1': 'hardlink',
  '2': 'symlink',
  '3': 'chardev',
  '4': 'blockdev',
  '5': 'directory',
  '6': 'fifo',
  D: 'directory', // GNU dumpdir: a directory whose body lists its contents (skipped)
};

const REFUSED: Record<string, string> = {
  S: 'GNU sparse file',
  M: 'GNU multi-volume continuation',
  N: 'GNU old long name',
};

const ZERO_BLOCK = Buffer.alloc(BLOCK);
const pad = (n: number): number => (BLOCK - (n % BLOCK)) % BLOCK;

/**
 * Reads a tar stream: ustar, GNU (long names 'L'/'K', base-256 numbers) and PAX ('x' and 'g'
 * records: path, linkpath, size, uid, gid, uname, gname, fractional mtime, SCHILY.xattr.* with
 * raw binary values, LIBARCHIVE.xattr.* in base64).
 *
 * Every header checksum is verified; a truncated archive, a malformed header, a sparse file or
 * an unknown entry type throws a CHRUN_ARCHIVE_INVALID ChrunError naming the byte offset. Unknown
 * entry types are refused rather than extracted as regular files (what POSIX and GNU tar do):
 * a layer applier must not guess. GNU volume labels ('V') carry no file and are skipped. As in
 * Go's archive/tar (what docker, containerd and umoci use), entries other than regular files have
 * no body whatever their size field says.
 *
 * The archive ends at a zero block; the block after it must be zero too or the end of the
 * source. Whatever follows (record padding) is read and ignored, so a digest computed on the
 * source sees every byte.
 */
export async function* readTar(
  source: AsyncIterable<Uint8Array>,
  options: ReadTarOptions = {},
): AsyncGenerator<TarEntry, void, undefined> {
  const input = new ByteReader(source, options.maxBytes);
  const maxMeta = options.maxMetaBytes ?? 1024 * 1024;
  let global: PaxRecords = new Map();
  let local: PaxRecords | undefined;
  let longName: NameBytes | undefined;
  let longLink: NameBytes | undefined;
  let sawEntry = false;
  try {
    for (;;) {
      const at = input.offset;
      const block = await input.readBlock();
      const pending = local !== undefined || longName !== undefined || longLink !== undefined;
      if (block === null) {
        if (pending) throw archiveError('unexpected end of archive after an extended header', at);
        if (options.allowMissingEnd === true) return;
        const what = sawEntry ? 'no end-of-archive block (truncated archive)' : 'empty archive';
        throw archiveError(`unexpected end of data: ${what}`, at);
      }
      if (block.equals(ZERO_BLOCK)) {
        if (pending) throw archiveError('end of archive right after an extended header', at);
        if (!(await input.drain(BLOCK))) throw archiveError('data after a lone zero block', at);
        return;
      }
      const raw = decodeHeader(block, at);
      const tf = raw.typeflag;
      if (tf === 'x' || tf === 'X' || tf === 'g') {
        const records = parsePax(await readMeta(input, raw, maxMeta, at), at);
        if (tf === 'g') global = merge(global, records);
        else local = merge(local ?? new Map<string, Buffer>(), records);
        continue;
      }
      if (tf === 'L' || tf === 'K') {
        const body = await readMeta(input, raw, maxMeta, at);
        const nul = body.indexOf(0);
        const text = decodeName(body.subarray(0, nul < 0 ? body.length : nul));
        if (tf === 'L') longName = text;
        else longLink = text;
        continue;
      }
      if (tf === 'V') {
        await input.skip(raw.size + pad(raw.size));
        continue;
      }
      const pax = local === undefined ? global : merge(new Map(global), local);
      const header = buildHeader(raw, pax, longName, longLink, at);
      local = undefined;
      longName = undefined;
      longLink = undefined;
      sawEntry = true;

      // A dumpdir's body is data for GNU tar's incremental mode, not file content.
      const bodySize = tf === 'D' ? 0 : header.size;
      const skipAfter = tf === 'D' ? raw.size + pad(raw.size) : pad(header.size);
      const state: BodyState = { remaining: bodySize, open: true, started: false };
      yield { header, body: bodyOf(input, state, header.path) };
      state.open = false;
      await input.skip(state.remaining + skipAfter);
    }
  } finally {
    await input.close();
  }
}

interface BodyState {
  remaining: number;
  open: boolean;
  started: boolean;
}

function bodyOf(input: ByteReader, state: BodyState, path: string): AsyncIterable<Buffer> {
  return {
    [Symbol.asyncIterator]() {
      if (state.started || !state.open) {
        throw new ChrunError(
          'CHRUN_INTERNAL',
          `read tar entry ${path}: body read twice or after the reader moved on`,
        );
      }
      state.started = true;
      return bodyChunks(input, state);
    },
  };
}

async function* bodyChunks(input: ByteReader, state: BodyState): AsyncGenerator<Buffer> {
  while (state.remaining > 0 && state.open) {
    const piece = await input.piece(state.remaining);
    state.remaining -= piece.length;
    yield piece;
  }
}

async function readMeta(
  input: ByteReader,
  raw: RawHeader,
  maxMeta: number,
  at: number,
): Promise<Buffer> {
  if (raw.size > maxMeta) {
    throw archiveError(`extended header of ${raw.size} bytes (limit ${maxMeta})`, at);
  }
  const body = await input.readExact(raw.size);
  await input.skip(pad(raw.size));
  return body;
}

function merge(into: PaxRecords, from: PaxRecords): PaxRecords {
  for (const [k, v] of from) into.set(k, v);
  return into;
}

function buildHeader(
  raw: RawHeader,
  pax: PaxRecords,
  longName: NameBytes | undefined,
  longLink: NameBytes | undefined,
  at: number,
): TarHeader {
  // PAX path and linkpath records win over GNU long names, which win over the header block.
  // An empty record deletes it (POSIX).
  const record = (key: string) => {
    const v = pax.get(key);
    return v === undefined || v.length === 0 ? undefined : v;
  };
  const path = named(record('path') ?? longName ?? raw.name, 'name', at);
  const isLink = raw.typeflag === '1' || raw.typeflag === '2';
  const linkname = isLink
    ? named(record('linkpath') ?? longLink ?? raw.linkname, 'link target', at)
    : '';
  let type = ENTRY_TYPES[raw.typeflag];
  if (type === undefined) {
    const what = REFUSED[raw.typeflag] ?? `unknown entry type ${JSON.stringify(raw.typeflag)}`;
    throw archiveError(`${what} for ${JSON.stringify(path)} is not supported`, at);
  }
  const header: TarHeader = {
    path,
    type,
    mode: raw.mode & 0o7777,
    uid: raw.uid,
    gid: raw.gid,
    uname: raw.uname,
    gname: raw.gname,
    size: raw.size,
    mtime: raw.mtime,
    linkname,
    devmajor: raw.devmajor,
    devminor: raw.devminor,
    xattrs: new Map(),
  };
  for (const [key, value] of pax) applyPax(header, key, value, at);
  if (raw.typeflag === '\0' && header.path.endsWith('/')) type = header.type = 'directory';
  if (type !== 'file') header.size = 0;
  if (type !== 'chardev' && type !== 'blockdev') header.devmajor = header.devminor = 0;
  if (type !== 'symlink' && type !== 'hardlink') header.linkname = '';
  if (header.path === '') throw archiveError('entry with an empty path', at);
  return header;
}

/**
 * A name as text. Names that are not UTF-8 are refused: chrun handles paths as strings, and
 * a lossy decoding would write a different name (or two names as one) without a word.
 */
function named(name: NameBytes | Buffer, what: string, at: number): string {
  const n = Buffer.isBuffer(name) ? decodeName(name) : name;
  if (typeof n === 'string') return n;
  throw archiveError(
    `entry ${what} "${showBytes(n.invalid)}" is not valid UTF-8 (not supported)`,
    at,
  );
}

const DECIMAL = /^[0-9]{1,16}$/;
const TIME = /^-?[0-9]{1,16}(\.[0-9]+)?$/;

function applyPax(h: TarHeader, key: string, value: Buffer, at: number): void {
  if (key.startsWith('GNU.sparse.')) {
    throw archiveError(`GNU sparse file ${JSON.stringify(h.path)} is not supported`, at);
  }
  // An empty value deletes the record (POSIX): the header block's value stands. For xattrs
  // this drops empty values, as Go's archive/tar (docker, containerd, umoci) does; GNU tar
  // would set an empty xattr.
  if (value.length === 0) return;
  if (key.startsWith('SCHILY.xattr.')) {
    h.xattrs.set(key.slice(13), value);
    return;
  }
  if (key.startsWith('LIBARCHIVE.xattr.')) {
    let name: string;
    try {
      name = decodeURIComponent(key.slice(17));
    } catch {
      throw archiveError(`invalid pax key ${JSON.stringify(key)}`, at);
    }
    h.xattrs.set(name, Buffer.from(value.toString('latin1'), 'base64'));
    return;
  }
  switch (key) {
    case 'path':
    case 'linkpath':
      return; // taken in buildHeader
    case 'uname':
      h.uname = value.toString('utf8');
      return;
    case 'gname':
      h.gname = value.toString('utf8');
      return;
    case 'size':
    case 'uid':
    case 'gid':
    case 'SCHILY.devmajor':
    case 'SCHILY.devminor': {
      const text = value.toString('latin1');
      const n = Number(text);
      if (!DECIMAL.test(text) || !Number.isSafeInteger(n)) {
        throw archiveError(`invalid pax ${key} ${JSON.stringify(text)}`, at);
      }
      if (key === 'size') h.size = n;
      else if (key === 'uid') h.uid = n;
      else if (key === 'gid') h.gid = n;
      else if (key === 'SCHILY.devmajor') h.devmajor = n;
      else h.devminor = n;
      return;
    }
    case 'mtime': {
      const text = value.toString('latin1');
      if (!TIME.test(text)) throw archiveError(`invalid pax mtime ${JSON.stringify(text)}`, at);
      h.mtime = Number(text);
      return;
    }
    default:
      // atime, ctime, comment, charset, hdrcharset, vendor keys: nothing chrun keeps.
      return;
  }
}
