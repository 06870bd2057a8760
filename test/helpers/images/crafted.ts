// Crafted layers with every feature a layer applier must get right, and what the root file
// system must look like after applying them over any base (CRAFTED_EXPECT). The builder's
// own tests check CRAFTED_EXPECT against `umoci unpack`, an independent peer, so tests of
// chrun's snapshotter can rely on it.
import type { TarWriteEntry, TarHeaderInput } from '../../../src/tar/index.js';
import type { LayerSpec } from './build.js';
import { FIXTURE_MTIME } from './busybox.js';

/** cap_net_raw+ep as setcap(8) writes it (VFS_CAP_REVISION_2): binary, full of NUL bytes. */
export const CAP_NET_RAW = Buffer.from('0100000200200000000000000000000000000000', 'hex');
/** A value that is not UTF-8 and holds the PAX separators '\n', '=' and ' '. */
export const BINARY_XATTR = Buffer.from([0xff, 0xfe, 0x80, 0x00, 0x0a, 0x3d, 0x20, 0x31]);

export const LONG_PATH_200 = `crafted/long/${'m'.repeat(90)}/${'n'.repeat(95)}`; // ustar prefix
export const LONG_PATH_300 = `crafted/long/${'d'.repeat(120)}/${'e'.repeat(150)}/file`; // PAX
export const LONG_NAME_200 = `crafted/long/${'f'.repeat(200)}`; // one 200-byte component
export const LONG_TARGET = `../${'t'.repeat(250)}`;
export const UNICODE_PATH = 'crafted/unicode/h\u00e9llo-w\u00f6rld-\u6f22\u5b57';

/** What one path of the root file system must be after the crafted layers. */
export interface ExpectedNode {
  type: 'file' | 'directory' | 'symlink' | 'chardev' | 'blockdev' | 'fifo';
  mode: number;
  uid?: number;
  gid?: number;
  content?: Buffer;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** Exactly these xattrs (checked when present). */
  xattrs?: Record<string, Buffer>;
  /** A hardlink of this path (the same inode when both are in one directory tree). */
  hardlinkOf?: string;
  /** Seconds since the epoch (not checked for symlinks and directories). */
  mtime?: number;
}

type Expect = Record<string, ExpectedNode | 'absent'>;

const T = FIXTURE_MTIME;
const d = (path: string, extra: Partial<TarHeaderInput> = {}): TarWriteEntry => ({
  header: { path, type: 'directory', mode: 0o755, mtime: T, ...extra },
});
const f = (path: string, body: string, extra: Partial<TarHeaderInput> = {}): TarWriteEntry => ({
  header: { path, type: 'file', mode: 0o644, mtime: T, ...extra },
  body: Buffer.from(body),
});
const s = (path: string, linkname: string): TarWriteEntry => ({
  header: { path, type: 'symlink', linkname, mtime: T },
});
const h = (path: string, linkname: string): TarWriteEntry => ({
  header: { path, type: 'hardlink', linkname, mtime: T },
});

/** The lower layer: what the upper one deletes, replaces and links to. */
export function craftedLowerEntries(): TarWriteEntry[] {
  return [
    d('crafted/'),
    f('crafted/lower-file', 'lower\n', { mode: 0o640, uid: 7, gid: 8 }),
    f('crafted/to-delete', 'deleted by a whiteout\n'),
    d('crafted/dir-deleted/'),
    f('crafted/dir-deleted/child', 'gone with its directory\n'),
    d('crafted/wh-dir/'),
    f('crafted/wh-dir/keep', 'kept\n'),
    f('crafted/wh-dir/gone', 'whited out\n'),
    d('crafted/opaque/', { mode: 0o750 }),
    f('crafted/opaque/old-a', 'hidden by the opaque marker\n'),
    d('crafted/opaque/old-sub/'),
    f('crafted/opaque/old-sub/f', 'hidden too\n'),
    f('crafted/replaced-by-dir', 'a file, then a directory\n'),
    d('crafted/replaced-by-file/'),
    f('crafted/replaced-by-file/inside', 'a directory, then a file\n'),
    f('crafted/replaced-by-symlink', 'a file, then a symlink\n'),
    f('crafted/modified', 'old content\n'),
  ];
}

/** The upper layer: whiteouts, opaque directory, links, devices, modes, owners, xattrs, names. */
export function craftedUpperEntries(): TarWriteEntry[] {
  return [
    d('crafted/'),
    f('crafted/.wh.to-delete', ''),
    f('crafted/.wh.dir-deleted', ''),
    f('crafted/wh-dir/.wh.gone', ''),
    d('crafted/opaque/', { mode: 0o750 }),
    f('crafted/opaque/.wh..wh..opq', ''),
    f('crafted/opaque/new', 'the only child left\n'),
    d('crafted/replaced-by-dir/'),
    f('crafted/replaced-by-dir/inside', 'now a directory\n'),
    f('crafted/replaced-by-file', 'now a file\n'),
    s('crafted/replaced-by-symlink', 'lower-file'),
    f('crafted/modified', 'new content\n', { mode: 0o600 }),
    d('crafted/links/'),
    f('crafted/links/file', 'linked\n', { mode: 0o640, uid: 1000, gid: 1000 }),
    h('crafted/links/hard', 'crafted/links/file'),
    h('crafted/links/hard-to-lower', 'crafted/lower-file'),
    s('crafted/links/sym-rel', '../lower-file'),
    s('crafted/links/sym-abs', '/crafted/lower-file'),
    s('crafted/links/sym-dangling', 'does/not/exist'),
    s('crafted/links/sym-long', LONG_TARGET),
    d('crafted/devices/'),
    {
      header: {
        path: 'crafted/devices/null',
        type: 'chardev',
        mode: 0o666,
        devmajor: 1,
        devminor: 3,
        mtime: T,
      },
    },
    {
      header: {
        path: 'crafted/devices/loop0',
        type: 'blockdev',
        mode: 0o660,
        gid: 6,
        devmajor: 7,
        devminor: 0,
        mtime: T,
      },
    },
    { header: { path: 'crafted/devices/fifo', type: 'fifo', mode: 0o600, mtime: T } },
    d('crafted/modes/'),
    f('crafted/modes/setuid', '#!/bin/sh\nid\n', { mode: 0o4755 }),
    f('crafted/modes/setgid', '#!/bin/sh\nid\n', { mode: 0o2755 }),
    f('crafted/modes/no-perms', 'unreadable\n', { mode: 0o000 }),
    d('crafted/modes/sticky/', { mode: 0o1777 }),
    d('crafted/modes/setgid-dir/', { mode: 0o2775, gid: 1000 }),
    d('crafted/owners/'),
    f('crafted/owners/user', 'owned by 1000\n', { uid: 1000, gid: 1000 }),
    f('crafted/owners/big-id', 'ids beyond ustar\n', { uid: 3_000_000, gid: 3_000_001 }),
    f('crafted/owners/nobody', 'named owner\n', {
      uid: 65534,
      gid: 65534,
      uname: 'nobody',
      gname: 'nogroup',
    }),
    d('crafted/xattrs/', { xattrs: new Map([['user.dir', Buffer.from('on a directory')]]) }),
    f('crafted/xattrs/cap', '#!/bin/sh\nping\n', {
      mode: 0o755,
      xattrs: new Map([['security.capability', CAP_NET_RAW]]),
    }),
    f('crafted/xattrs/binary', 'binary xattrs\n', {
      xattrs: new Map([['user.binary', BINARY_XATTR]]),
    }),
    d('crafted/long/'),
    d(`${LONG_PATH_200.slice(0, LONG_PATH_200.lastIndexOf('/'))}/`),
    f(LONG_PATH_200, 'ustar prefix + name\n'),
    d(`crafted/long/${'d'.repeat(120)}/`),
    d(`crafted/long/${'d'.repeat(120)}/${'e'.repeat(150)}/`),
    f(LONG_PATH_300, 'a PAX path\n'),
    f(LONG_NAME_200, 'a long file name\n'),
    d('crafted/unicode/'),
    f(UNICODE_PATH, 'unicode\n'),
    d('crafted/times/'),
    f('crafted/times/fraction', 'sub-second mtime\n', { mtime: 1700000000.5 }),
    f('crafted/times/1971', 'an old file\n', { mtime: 31536000 }),
    f('crafted/empty', ''),
  ];
}

/** The crafted layers, lower then upper, each with its compression (default gzip). */
export function craftedLayers(compression: LayerSpec['compression'] = 'gzip'): LayerSpec[] {
  return [
    { entries: craftedLowerEntries(), compression, createdBy: 'crafted lower layer' },
    { entries: craftedUpperEntries(), compression, createdBy: 'crafted upper layer' },
  ];
}

const file = (content: string, extra: Partial<ExpectedNode> = {}): ExpectedNode => ({
  type: 'file',
  mode: 0o644,
  uid: 0,
  gid: 0,
  content: Buffer.from(content),
  mtime: T,
  ...extra,
});
const dir = (extra: Partial<ExpectedNode> = {}): ExpectedNode => ({
  type: 'directory',
  mode: 0o755,
  uid: 0,
  gid: 0,
  ...extra,
});
const sym = (linkname: string): ExpectedNode => ({ type: 'symlink', mode: 0o777, linkname });

/**
 * The root file system after the crafted layers, path by path: every path under crafted/ that
 * must exist is listed, and 'absent' ones must not exist. Directory mtimes are not given
 * (creating their children changes them unless the applier restores them).
 */
export const CRAFTED_EXPECT: Expect = {
  crafted: dir(),
  'crafted/lower-file': file('lower\n', { mode: 0o640, uid: 7, gid: 8 }),
  'crafted/to-delete': 'absent',
  'crafted/.wh.to-delete': 'absent',
  'crafted/dir-deleted': 'absent',
  'crafted/.wh.dir-deleted': 'absent',
  'crafted/wh-dir': dir(),
  'crafted/wh-dir/keep': file('kept\n'),
  'crafted/wh-dir/gone': 'absent',
  'crafted/wh-dir/.wh.gone': 'absent',
  'crafted/opaque': dir({ mode: 0o750 }),
  'crafted/opaque/.wh..wh..opq': 'absent',
  'crafted/opaque/old-a': 'absent',
  'crafted/opaque/old-sub': 'absent',
  'crafted/opaque/new': file('the only child left\n'),
  'crafted/replaced-by-dir': dir(),
  'crafted/replaced-by-dir/inside': file('now a directory\n'),
  'crafted/replaced-by-file': file('now a file\n'),
  'crafted/replaced-by-file/inside': 'absent',
  'crafted/replaced-by-symlink': sym('lower-file'),
  'crafted/modified': file('new content\n', { mode: 0o600 }),
  'crafted/links': dir(),
  'crafted/links/file': file('linked\n', { mode: 0o640, uid: 1000, gid: 1000 }),
  'crafted/links/hard': file('linked\n', {
    mode: 0o640,
    uid: 1000,
    gid: 1000,
    hardlinkOf: 'crafted/links/file',
  }),
  'crafted/links/hard-to-lower': file('lower\n', {
    mode: 0o640,
    uid: 7,
    gid: 8,
    hardlinkOf: 'crafted/lower-file',
  }),
  'crafted/links/sym-rel': sym('../lower-file'),
  'crafted/links/sym-abs': sym('/crafted/lower-file'),
  'crafted/links/sym-dangling': sym('does/not/exist'),
  'crafted/links/sym-long': sym(LONG_TARGET),
  'crafted/devices': dir(),
  'crafted/devices/null': {
    type: 'chardev',
    mode: 0o666,
    uid: 0,
    gid: 0,
    devmajor: 1,
    devminor: 3,
  },
  'crafted/devices/loop0': {
    type: 'blockdev',
    mode: 0o660,
    uid: 0,
    gid: 6,
    devmajor: 7,
    devminor: 0,
  },
  'crafted/devices/fifo': { type: 'fifo', mode: 0o600, uid: 0, gid: 0 },
  'crafted/modes': dir(),
  'crafted/modes/setuid': file('#!/bin/sh\nid\n', { mode: 0o4755 }),
  'crafted/modes/setgid': file('#!/bin/sh\nid\n', { mode: 0o2755 }),
  'crafted/modes/no-perms': file('unreadable\n', { mode: 0o000 }),
  'crafted/modes/sticky': dir({ mode: 0o1777 }),
  'crafted/modes/setgid-dir': dir({ mode: 0o2775, gid: 1000 }),
  'crafted/owners': dir(),
  'crafted/owners/user': file('owned by 1000\n', { uid: 1000, gid: 1000 }),
  'crafted/owners/big-id': file('ids beyond ustar\n', { uid: 3_000_000, gid: 3_000_001 }),
  'crafted/owners/nobody': file('named owner\n', { uid: 65534, gid: 65534 }),
  'crafted/xattrs': dir({ xattrs: { 'user.dir': Buffer.from('on a directory') } }),
  'crafted/xattrs/cap': file('#!/bin/sh\nping\n', {
    mode: 0o755,
    xattrs: { 'security.capability': CAP_NET_RAW },
  }),
  'crafted/xattrs/binary': file('binary xattrs\n', {
    xattrs: { 'user.binary': BINARY_XATTR },
  }),
  'crafted/long': dir(),
  [LONG_PATH_200.slice(0, LONG_PATH_200.lastIndexOf('/'))]: dir(),
  [`crafted/long/${'d'.repeat(120)}`]: dir(),
  [`crafted/long/${'d'.repeat(120)}/${'e'.repeat(150)}`]: dir(),
  [LONG_PATH_200]: file('ustar prefix + name\n'),
  [LONG_PATH_300]: file('a PAX path\n'),
  [LONG_NAME_200]: file('a long file name\n'),
  'crafted/unicode': dir(),
  [UNICODE_PATH]: file('unicode\n'),
  'crafted/times': dir(),
  'crafted/times/fraction': file('sub-second mtime\n', { mtime: 1700000000.5 }),
  'crafted/times/1971': file('an old file\n', { mtime: 31536000 }),
  'crafted/empty': file(''),
};
