import { ChrunError } from '../util/index.js';
import { BLOCK, F, writeChecksum } from './header-fields.js';
import { encodePax, type PaxRecords } from './pax.js';
import type { TarEntryType, TarHeader, TarHeaderInput } from './types.js';

const TYPEFLAG: Record<TarEntryType, string> = {
  file: '0',
  hardlink: '1',
  symlink: '2',
  chardev: '3',
  blockdev: '4',
  directory: '5',
  fifo: '6',
};

/** Defaults for everything a TarHeaderInput leaves out. */
export function completeHeader(input: TarHeaderInput): TarHeader {
  const mode = input.type === 'directory' ? 0o755 : input.type === 'symlink' ? 0o777 : 0o644;
  return {
    mode,
    uid: 0,
    gid: 0,
    uname: '',
    gname: '',
    size: 0,
    mtime: 0,
    linkname: '',
    devmajor: 0,
    devminor: 0,
    ...input,
    xattrs: input.xattrs ?? new Map<string, Buffer>(),
  };
}

// eslint-disable-next-line no-control-regex
const ASCII = /^[\x00-\x7f]*$/;
const MAX_OCTAL = (width: number): number => 8 ** (width - 1) - 1;

/**
 * The header blocks of one entry: a ustar header, preceded by a PAX extended header when
 * something does not fit ustar (paths over 255 bytes or not splittable, link names over 100
 * bytes, non-ASCII names, ids over 2097151, sizes of 8 GiB and more, mtimes before 1970 or with
 * a fraction, and every xattr, as SCHILY.xattr.NAME with its raw bytes; xattrs with an empty
 * value are left out, since an empty PAX value deletes a record and Go's archive/tar, docker,
 * containerd and umoci drop them).
 *
 * Output depends only on the header (PAX records in byte order of their keys, the PAX entry
 * named PaxHeaders.0/BASENAME like Go's archive/tar, no pid or time), so the same entries make
 * the same bytes and image digests are reproducible.
 */
export function encodeHeader(input: TarHeaderInput): Buffer {
  const h = completeHeader(input);
  check(h);
  const pax: PaxRecords = new Map();
  const block = Buffer.alloc(BLOCK);

  // path: name, or prefix + '/' + name, or PAX.
  const split = ASCII.test(h.path) ? splitUstar(h.path) : undefined;
  if (split === undefined) pax.set('path', Buffer.from(h.path, 'utf8'));
  const [prefix, name] = split ?? ['', h.path];
  putString(block, F.name, name);
  putString(block, F.prefix, prefix);

  putText(block, pax, 'linkpath', F.linkname, h.linkname);
  putText(block, pax, 'uname', F.uname, h.uname);
  putText(block, pax, 'gname', F.gname, h.gname);

  putOctal(block, F.mode, h.mode & 0o7777);
  putNumber(block, pax, 'uid', F.uid, h.uid);
  putNumber(block, pax, 'gid', F.gid, h.gid);
  putNumber(block, pax, 'size', F.size, h.type === 'file' ? h.size : 0);
  if (Number.isInteger(h.mtime)) putNumber(block, pax, 'mtime', F.mtime, h.mtime);
  else {
    pax.set('mtime', Buffer.from(formatTime(h.mtime), 'ascii'));
    putNumber(block, new Map(), 'mtime', F.mtime, Math.floor(h.mtime));
  }
  putDevice(block, F.devmajor, h.devmajor);
  putDevice(block, F.devminor, h.devminor);

  block.write(TYPEFLAG[h.type], 156, 'ascii');
  block.write('ustar\x0000', 257, 'latin1');
  // An empty PAX value means "delete" (readers drop it), so an empty xattr cannot be carried.
  for (const [k, v] of h.xattrs) if (v.length > 0) pax.set(`SCHILY.xattr.${k}`, v);
  writeChecksum(block);
  if (pax.size === 0) return block;
  return Buffer.concat([paxHeader(h, encodePax(pax)), block]);
}

function check(h: TarHeader): void {
  const bad = (what: string): ChrunError =>
    new ChrunError('CHRUN_INVALID_ARGUMENT', `write tar entry ${JSON.stringify(h.path)}: ${what}`);
  if (h.path === '' || h.path.includes('\0')) throw bad('empty path or path with a NUL byte');
  if (h.linkname.includes('\0')) throw bad('link name with a NUL byte');
  if ((h.type === 'symlink' || h.type === 'hardlink') && h.linkname === '') {
    throw bad('link without a target');
  }
  for (const [k, v] of [
    ['uid', h.uid],
    ['gid', h.gid],
    ['size', h.size],
    ['mode', h.mode],
    ['devmajor', h.devmajor],
    ['devminor', h.devminor],
  ] as const) {
    if (!Number.isSafeInteger(v) || v < 0) throw bad(`invalid ${k} ${v}`);
  }
  if (!(Math.abs(h.mtime) < 1e15)) throw bad(`invalid mtime ${h.mtime}`);
  for (const k of h.xattrs.keys()) {
    if (k === '' || k.includes('\0') || k.includes('=')) {
      throw bad(`invalid xattr name ${JSON.stringify(k)}`);
    }
  }
}

/** [prefix, name] when `path` fits the ustar fields, undefined otherwise. */
function splitUstar(path: string): [string, string] | undefined {
  if (path.length <= 100) return ['', path];
  if (path.length > 256) return undefined;
  // The shortest prefix that leaves a name of at most 100 bytes.
  for (let i = path.length - 101; i < path.length - 1; i++) {
    if (i < 0 || path[i] !== '/') continue;
    if (i > 155) return undefined;
    if (i === 0) continue;
    return [path.slice(0, i), path.slice(i + 1)];
  }
  return undefined;
}

function putString(block: Buffer, [off, len]: readonly [number, number], s: string): void {
  block.write(s, off, len, 'utf8');
}

function putText(
  block: Buffer,
  pax: PaxRecords,
  key: string,
  field: readonly [number, number],
  s: string,
): void {
  if (Buffer.byteLength(s) > field[1] || !ASCII.test(s)) pax.set(key, Buffer.from(s, 'utf8'));
  else putString(block, field, s);
}

function putOctal(block: Buffer, [off, len]: readonly [number, number], v: number): void {
  block.write(v.toString(8).padStart(len - 1, '0'), off, len - 1, 'ascii');
}

/** Octal when it fits (and is not negative), PAX otherwise, with 0 left in the field. */
function putNumber(
  block: Buffer,
  pax: PaxRecords,
  key: string,
  field: readonly [number, number],
  v: number,
): void {
  if (v >= 0 && v <= MAX_OCTAL(field[1])) putOctal(block, field, v);
  else {
    pax.set(key, Buffer.from(String(v), 'ascii'));
    putOctal(block, field, 0);
  }
}

/** Device numbers have no standard PAX key: base-256 (GNU, star, Go) when octal is too small. */
function putDevice(block: Buffer, [off, len]: readonly [number, number], v: number): void {
  if (v <= MAX_OCTAL(len)) {
    putOctal(block, [off, len], v);
    return;
  }
  let x = v;
  for (let i = off + len - 1; i > off; i--) {
    block[i] = x % 256;
    x = Math.floor(x / 256);
  }
  block[off] = 0x80;
}

/** Seconds with up to nine decimals, without exponent or trailing zeros. */
function formatTime(t: number): string {
  const neg = t < 0;
  let s = Math.abs(t)
    .toFixed(9)
    .replace(/\.?0+$/, '');
  // toFixed gives the exact binary value; prefer the shortest form that reads back the same.
  const short = String(Math.abs(t));
  if (!short.includes('e') && Number(short) === Math.abs(t)) s = short;
  return neg ? `-${s}` : s;
}

function paxHeader(h: TarHeader, body: Buffer): Buffer {
  const block = Buffer.alloc(BLOCK);
  const base = h.path.replace(/\/+$/, '').split('/').pop() ?? '';
  const name = `PaxHeaders.0/${base.replace(/[^\x20-\x7e]/g, '_')}`.slice(0, 99);
  putString(block, F.name, name);
  putOctal(block, F.mode, 0o644);
  putOctal(block, F.uid, 0);
  putOctal(block, F.gid, 0);
  putOctal(block, F.size, body.length);
  putOctal(block, F.mtime, 0);
  putOctal(block, F.devmajor, 0);
  putOctal(block, F.devminor, 0);
  block.write('x', 156, 'ascii');
  block.write('ustar\x0000', 257, 'latin1');
  writeChecksum(block);
  const padding = Buffer.alloc((BLOCK - (body.length % BLOCK)) % BLOCK);
  return Buffer.concat([block, body, padding]);
}
