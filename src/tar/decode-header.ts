import {
  BLOCK,
  F,
  checksumOk,
  decodeName,
  readBytes,
  readNumber,
  readString,
  type NameBytes,
} from './header-fields.js';
import { archiveError } from './tar-error.js';

/** The fields of one 512-byte header block, before PAX or GNU long names apply. */
export interface RawHeader {
  /** The typeflag character ('0', '5', 'x', 'L', ...; '\0' for old regular files). */
  typeflag: string;
  /** name, joined with the ustar prefix when there is one. */
  name: NameBytes;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname: NameBytes;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
  format: 'ustar' | 'gnu' | 'v7';
}

const USTAR = Buffer.from('ustar\x00', 'latin1');
const GNU = Buffer.from('ustar  \x00', 'latin1');

/** Decodes one header block read at byte `at`; throws on a bad checksum or field. */
export function decodeHeader(block: Buffer, at: number): RawHeader {
  if (block.length !== BLOCK) throw archiveError('short header block', at);
  if (!checksumOk(block, at))
    throw archiveError('header checksum mismatch (not a tar archive?)', at);
  let format: RawHeader['format'] = 'v7';
  if (block.compare(GNU, 0, 8, 257, 265) === 0) format = 'gnu';
  else if (block.compare(USTAR, 0, 6, 257, 263) === 0) format = 'ustar';
  let nameBytes = readBytes(block, F.name);
  if (format === 'ustar') {
    const prefix = readBytes(block, F.prefix);
    if (prefix.length > 0) nameBytes = Buffer.concat([prefix, Buffer.from('/'), nameBytes]);
  }
  const name = decodeName(nameBytes);
  const ustarish = format !== 'v7';
  const tf = block[156]!;
  return {
    typeflag: String.fromCharCode(tf),
    name,
    mode: readNumber(block, F.mode, 'mode', at),
    uid: readNumber(block, F.uid, 'uid', at),
    gid: readNumber(block, F.gid, 'gid', at),
    size: readNumber(block, F.size, 'size', at),
    mtime: readNumber(block, F.mtime, 'mtime', at, true),
    linkname: decodeName(readBytes(block, F.linkname)),
    uname: ustarish ? readString(block, F.uname) : '',
    gname: ustarish ? readString(block, F.gname) : '',
    devmajor: ustarish ? readNumber(block, F.devmajor, 'devmajor', at) : 0,
    devminor: ustarish ? readNumber(block, F.devminor, 'devminor', at) : 0,
    format,
  };
}
