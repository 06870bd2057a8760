import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import { isChrunError } from '../../../src/util/index.js';
import {
  encodeHeader,
  packTar,
  readTar,
  TarWriter,
  type TarHeader,
  type TarWriteEntry,
} from '../../../src/tar/index.js';
import { asAsync, chunked, collect } from '../../helpers/tar-bytes.js';

const CAP = Buffer.from('0100000200200000000000000000000000000000', 'hex');
const BIN = Buffer.from([0xff, 0xfe, 0x80, 0x00, 0x0a, 0x3d, 0x20, 0x31]);

async function roundTrip(entries: TarWriteEntry[]): Promise<{ header: TarHeader; body: Buffer }[]> {
  const data = await collect(packTar(entries));
  assert.equal(data.length % 512, 0);
  const out = [];
  for await (const e of readTar(chunked(data, 777))) {
    out.push({ header: e.header, body: await collect(e.body) });
  }
  return out;
}

const full = (h: Partial<TarHeader> & Pick<TarHeader, 'path' | 'type'>): TarHeader => ({
  mode: 0o644,
  uid: 0,
  gid: 0,
  uname: '',
  gname: '',
  size: 0,
  mtime: 0,
  linkname: '',
  devmajor: 0,
  devminor: 0,
  xattrs: new Map(),
  ...h,
});

describe('packTar', () => {
  test('round-trips every entry type and header feature through readTar', async () => {
    const entries: TarWriteEntry[] = [
      {
        header: {
          path: 'dir/',
          type: 'directory',
          mode: 0o1777,
          uid: 1,
          gid: 2,
          uname: 'bin',
          gname: 'daemon',
          mtime: 1700000000,
        },
      },
      {
        header: {
          path: 'dir/suid',
          type: 'file',
          mode: 0o4755,
          xattrs: new Map([
            ['security.capability', CAP],
            ['user.bin', BIN],
            ['user.empty', Buffer.alloc(0)],
          ]),
        },
        body: Buffer.from('#!/bin/sh\n'),
      },
      {
        header: { path: 'dir/sgid', type: 'file', mode: 0o2755, size: 3 },
        body: asAsync([Buffer.from('a'), new Uint8Array([0x62, 0x63])]),
      },
      { header: { path: 'dir/hard', type: 'hardlink', linkname: 'dir/suid' } },
      { header: { path: 'dir/sym', type: 'symlink', linkname: '/etc/os-release' } },
      { header: { path: 'dev/null', type: 'chardev', mode: 0o666, devmajor: 1, devminor: 3 } },
      { header: { path: 'dev/big', type: 'blockdev', devmajor: 4095, devminor: 1048575 } },
      { header: { path: 'fifo', type: 'fifo', mode: 0o600 } },
      {
        header: { path: `${'a'.repeat(150)}/${'b'.repeat(99)}`, type: 'file' },
        body: Buffer.from('split'),
      },
      {
        header: { path: `${'c'.repeat(100)}/${'d'.repeat(100)}/${'e'.repeat(100)}`, type: 'file' },
        body: Buffer.from('pax path'),
      },
      { header: { path: 'l'.repeat(101), type: 'file' }, body: Buffer.alloc(0) },
      { header: { path: 'link-long', type: 'symlink', linkname: `../${'t'.repeat(300)}` } },
      {
        header: {
          path: 'h\u00e9ll\u00f6/\u6f22\u5b57',
          type: 'file',
          uname: '\u00fcser',
          gname: 'g'.repeat(40),
        },
      },
      { header: { path: 'ids', type: 'file', uid: 2 ** 31, gid: 4_000_000_000 } },
      { header: { path: 'frac', type: 'file', mtime: 1700000000.123456 } },
      { header: { path: 'before-1970', type: 'file', mtime: -86400.5 } },
      { header: { path: 'negative', type: 'file', mtime: -100 } },
      { header: { path: 'far', type: 'file', mtime: 2 ** 34 } },
    ];
    const got = await roundTrip(entries);
    assert.equal(got.length, entries.length);
    for (const [i, e] of entries.entries()) {
      const body =
        e.body instanceof Uint8Array
          ? Buffer.from(e.body)
          : i === 2
            ? Buffer.from('abc')
            : Buffer.alloc(0);
      assert.deepEqual(
        got[i]!.header,
        full({
          ...e.header,
          // An empty xattr cannot travel in PAX (an empty value deletes): it is left out.
          xattrs: new Map([...(e.header.xattrs ?? [])].filter(([, v]) => v.length > 0)),
          size: body.length,
          mode:
            e.header.mode ??
            (e.header.type === 'directory' ? 0o755 : e.header.type === 'symlink' ? 0o777 : 0o644),
        }),
        e.header.path,
      );
      assert.deepEqual(got[i]!.body, body, e.header.path);
    }
  });

  test('writes plain ustar when everything fits, PAX only when needed', async () => {
    const size = async (e: TarWriteEntry): Promise<number> => (await collect(packTar([e]))).length;
    assert.equal(
      await size({ header: { path: 'a', type: 'file' }, body: Buffer.from('x') }),
      512 + 512 + 1024,
    );
    assert.equal(
      await size({ header: { path: `${'a'.repeat(150)}/${'b'.repeat(100)}`, type: 'directory' } }),
      512 + 1024,
      'ustar prefix',
    );
    assert.equal(
      await size({ header: { path: 'a'.repeat(101), type: 'directory' } }),
      3 * 512 + 1024,
      'no / to split at',
    );
    const pax = await collect(
      packTar([{ header: { path: 'a', type: 'file', xattrs: new Map([['user.x', BIN]]) } }]),
    );
    assert.equal(pax.subarray(0, 15).toString(), 'PaxHeaders.0/a\0');
    assert.equal(pax.subarray(156, 157).toString(), 'x');
    assert.ok(
      pax
        .subarray(512, 1024)
        .includes(Buffer.concat([Buffer.from('SCHILY.xattr.user.x='), BIN, Buffer.from('\n')])),
    );
  });

  test('encodes sizes beyond the octal field in PAX', async () => {
    const it = readTar(
      chunked(encodeHeader({ path: 'huge', type: 'file', size: 2 ** 34 + 5 }), 512),
    );
    const first = await it.next();
    assert.equal(first.value?.header.size, 2 ** 34 + 5);
    await it.return();
  });

  test('is deterministic: the same entries give the same bytes, whatever the xattr order', async () => {
    const make = (order: [string, Buffer][]): Promise<Buffer> =>
      collect(
        packTar([
          {
            header: {
              path: `${'x'.repeat(200)}/y`,
              type: 'file',
              xattrs: new Map(order),
              mtime: 1.5,
            },
            body: Buffer.from('b'),
          },
        ]),
      );
    const a = await make([
      ['user.a', BIN],
      ['security.capability', CAP],
    ]);
    const b = await make([
      ['security.capability', CAP],
      ['user.a', BIN],
    ]);
    assert.deepEqual(a, b);
    assert.deepEqual(
      await make([
        ['user.a', BIN],
        ['security.capability', CAP],
      ]),
      a,
    );
  });

  test('refuses bodies that do not match their size, and bad headers', async () => {
    const cases: [TarWriteEntry, RegExp][] = [
      [
        { header: { path: 'f', type: 'file', size: 5 }, body: Buffer.from('abc') },
        /body of 3 bytes, its size says 5/,
      ],
      [
        { header: { path: 'f', type: 'file', size: 2 }, body: Buffer.from('abc') },
        /body longer than its size 2/,
      ],
      [
        { header: { path: 's', type: 'symlink', linkname: 't' }, body: Buffer.from('x') },
        /a symlink has no body/,
      ],
      [{ header: { path: 's', type: 'symlink' } }, /link without a target/],
      [{ header: { path: '', type: 'file' } }, /empty path/],
      [{ header: { path: 'a\0b', type: 'file' } }, /NUL/],
      [{ header: { path: 'u', type: 'file', uid: -1 } }, /invalid uid -1/],
      [{ header: { path: 'u', type: 'file', gid: 1.5 } }, /invalid gid 1.5/],
      [{ header: { path: 'm', type: 'file', mtime: Number.NaN } }, /invalid mtime/],
      [
        { header: { path: 'x', type: 'file', xattrs: new Map([['a=b', BIN]]) } },
        /invalid xattr name/,
      ],
    ];
    for (const [entry, pattern] of cases) {
      await assert.rejects(collect(packTar([entry])), (err: unknown) => {
        assert.ok(isChrunError(err, 'CHRUN_INVALID_ARGUMENT'), String(err));
        assert.match(err.message, /^write tar entry /);
        assert.match(err.message, pattern);
        return true;
      });
    }
  });
});

describe('TarWriter', () => {
  const entries: TarWriteEntry[] = [
    { header: { path: 'd/', type: 'directory' } },
    {
      header: { path: 'd/f', type: 'file', xattrs: new Map([['user.k', BIN]]) },
      body: Buffer.alloc(70_000, 9),
    },
    { header: { path: 'd/l', type: 'symlink', linkname: 'f' } },
  ];

  test('writes the bytes packTar makes, with back-pressure, and ends the stream', async () => {
    const sink = new PassThrough({ highWaterMark: 1024 });
    const out = collect(sink);
    const tar = new TarWriter(sink);
    for (const e of entries) await tar.add(e.header, e.body);
    await tar.finish();
    assert.deepEqual(await out, await collect(packTar(entries)));
    await assert.rejects(tar.add({ path: 'late', type: 'fifo' }), /archive already finished/);
  });

  test('refuses concurrent adds', async () => {
    const sink = new PassThrough();
    void collect(sink);
    const tar = new TarWriter(sink);
    const first = tar.add(entries[1]!.header, entries[1]!.body);
    await assert.rejects(tar.add({ path: 'x', type: 'fifo' }), /add\(\) while busy/);
    await first;
    await tar.finish();
  });
});
