import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isChrunError } from '../../../src/util/index.js';
import { packTar, readTar, type TarHeader, type ReadTarOptions } from '../../../src/tar/index.js';
import {
  END,
  chunked,
  collect,
  fileEntry,
  metaEntry,
  padded,
  paxRecords,
  rawBlock,
} from '../../helpers/tar-bytes.js';

interface Read {
  header: TarHeader;
  body: Buffer;
}

async function readAll(
  data: Buffer | AsyncIterable<Buffer>,
  opts?: ReadTarOptions,
  chunk = 64 * 1024,
): Promise<Read[]> {
  const out: Read[] = [];
  const source = Buffer.isBuffer(data) ? chunked(data, chunk) : data;
  for await (const e of readTar(source, opts)) {
    out.push({ header: e.header, body: await collect(e.body) });
  }
  return out;
}

async function rejectsArchive(
  data: Buffer,
  pattern: RegExp,
  opts?: ReadTarOptions,
  code = 'CHRUN_ARCHIVE_INVALID',
): Promise<void> {
  await assert.rejects(readAll(data, opts), (err: unknown) => {
    assert.ok(isChrunError(err), `not a ChrunError: ${String(err)}`);
    assert.equal(err.code, code);
    assert.match(err.message, pattern);
    return true;
  });
}

// cap_net_raw+ep, VFS_CAP_REVISION_2: a packed struct full of NUL bytes.
const CAP = Buffer.from('0100000200200000000000000000000000000000', 'hex');
// Not UTF-8, and holding the PAX record separators '\n' and '='.
const BIN = Buffer.from([0xff, 0xfe, 0x80, 0x00, 0x0a, 0x3d, 0x20, 0x31]);

describe('readTar: ustar', () => {
  test('reads every entry type with its fields', async () => {
    const data = Buffer.concat([
      rawBlock({
        name: 'dir/',
        typeflag: '5',
        mode: 0o41755,
        uid: 1000,
        gid: 100,
        mtime: 1700000000,
        uname: 'u',
        gname: 'g',
      }),
      fileEntry('dir/file', Buffer.from('hello\n'), { mode: 0o4755 }),
      rawBlock({ name: 'dir/hard', typeflag: '1', linkname: 'dir/file' }),
      rawBlock({ name: 'dir/sym', typeflag: '2', linkname: '../etc/passwd', mode: 0o777 }),
      rawBlock({ name: 'dev/null', typeflag: '3', devmajor: 1, devminor: 3, mode: 0o666 }),
      rawBlock({ name: 'dev/sda', typeflag: '4', devmajor: 8, devminor: 0 }),
      rawBlock({ name: 'run/fifo', typeflag: '6', mode: 0o600 }),
      fileEntry('contig', Buffer.from('c'), { typeflag: '7' }),
      END,
    ]);
    const got = await readAll(data);
    assert.deepEqual(
      got.map((e) => [e.header.path, e.header.type, e.header.mode.toString(8), e.body.toString()]),
      [
        ['dir/', 'directory', '1755', ''],
        ['dir/file', 'file', '4755', 'hello\n'],
        ['dir/hard', 'hardlink', '644', ''],
        ['dir/sym', 'symlink', '777', ''],
        ['dev/null', 'chardev', '666', ''],
        ['dev/sda', 'blockdev', '644', ''],
        ['run/fifo', 'fifo', '600', ''],
        ['contig', 'file', '644', 'c'],
      ],
    );
    const dir = got[0]!.header;
    assert.deepEqual(
      [dir.uid, dir.gid, dir.uname, dir.gname, dir.mtime, dir.size],
      [1000, 100, 'u', 'g', 1700000000, 0],
    );
    assert.equal(got[1]!.header.size, 6);
    assert.equal(got[2]!.header.linkname, 'dir/file');
    assert.equal(got[3]!.header.linkname, '../etc/passwd');
    assert.deepEqual([got[4]!.header.devmajor, got[4]!.header.devminor], [1, 3]);
    assert.deepEqual([got[5]!.header.devmajor, got[5]!.header.devminor], [8, 0]);
  });

  test('joins the ustar prefix and name', async () => {
    const prefix = 'p'.repeat(150);
    const name = 'n'.repeat(100);
    const got = await readAll(Buffer.concat([fileEntry(name, Buffer.alloc(0), { prefix }), END]));
    assert.equal(got[0]!.header.path, `${prefix}/${name}`);
  });

  test('reads base-256 numbers (GNU) and refuses negative or out of range ones', async () => {
    const b256 = (n: bigint, len: number): Buffer => {
      const b = Buffer.alloc(len);
      let x = n;
      for (let i = len - 1; i > 0; i--) {
        b[i] = Number(x & 0xffn);
        x >>= 8n;
      }
      b[0] = 0x80;
      return b;
    };
    const big = fileEntry('big', Buffer.alloc(0), {
      format: 'gnu',
      patch: [
        [108, b256(4_000_000_000n, 8)],
        [116, b256(3_000_000n, 8)],
        [136, b256(2n ** 40n, 12)],
        [329, b256(5000n, 8)],
      ],
      typeflag: '3',
    });
    const [e] = await readAll(Buffer.concat([big, END]));
    assert.deepEqual(
      [e!.header.uid, e!.header.gid, e!.header.mtime, e!.header.devmajor],
      [4_000_000_000, 3_000_000, 2 ** 40, 5000],
    );
    // A negative mtime (before 1970) is legal: -1 is all ones in two's complement.
    const old = rawBlock({ name: 'old', format: 'gnu', patch: [[136, Buffer.alloc(12, 0xff)]] });
    const [o] = await readAll(Buffer.concat([old, END]));
    assert.equal(o!.header.mtime, -1);
    await rejectsArchive(
      Buffer.concat([rawBlock({ name: 'neg', patch: [[124, Buffer.alloc(12, 0xff)]] }), END]),
      /negative size in header at byte 0/,
    );
    await rejectsArchive(
      Buffer.concat([rawBlock({ name: 'huge', patch: [[124, b256(2n ** 60n, 12)]] }), END]),
      /size out of range in header at byte 0/,
    );
  });

  test('takes an old regular file with a trailing slash for a directory', async () => {
    const got = await readAll(
      Buffer.concat([rawBlock({ name: 'old/', typeflag: '\0', format: 'v7' }), END]),
    );
    assert.equal(got[0]!.header.type, 'directory');
    assert.equal(got[0]!.header.uname, '');
  });

  test('accepts a checksum computed over signed bytes (historic tars)', async () => {
    const block = rawBlock({ name: 'caf\u00e9' });
    let signed = 0;
    for (let i = 0; i < 512; i++) {
      const b = i >= 148 && i < 156 ? 0x20 : block[i]!;
      signed += b > 127 ? b - 256 : b;
    }
    const got = await readAll(
      Buffer.concat([rawBlock({ name: 'caf\u00e9', checksum: signed }), END]),
    );
    assert.equal(got[0]!.header.path, 'caf\u00e9');
  });
});

describe('readTar: GNU and PAX extensions', () => {
  test('GNU long names and long link names (L, K)', async () => {
    const long = `${'d'.repeat(200)}/${'f'.repeat(200)}`;
    const target = 't'.repeat(300);
    const data = Buffer.concat([
      metaEntry('L', Buffer.from(`${long}\0`), 'gnu'),
      metaEntry('K', Buffer.from(`${target}\0`), 'gnu'),
      rawBlock({
        name: long.slice(0, 100),
        typeflag: '2',
        linkname: target.slice(0, 100),
        format: 'gnu',
      }),
      fileEntry('short', Buffer.from('x'), { format: 'gnu' }),
      END,
    ]);
    const got = await readAll(data);
    assert.equal(got[0]!.header.path, long);
    assert.equal(got[0]!.header.linkname, target);
    assert.equal(got[1]!.header.path, 'short', 'a long name applies to one entry only');
  });

  test('PAX records: path, linkpath, ids, names, size, fractional mtime, binary xattrs', async () => {
    const path = `${'p'.repeat(300)}/\u00fcber`;
    const records = paxRecords([
      ['path', path],
      ['linkpath', 'l'.repeat(150)],
      ['uid', '3000000'],
      ['gid', '4000000'],
      ['uname', 'n\u00e4me'],
      ['gname', 'g'.repeat(40)],
      ['mtime', '1700000000.123456789'],
      ['atime', '1.5'],
      ['comment', 'ignored'],
      ['SCHILY.xattr.security.capability', CAP],
      ['SCHILY.xattr.user.bin', BIN],
      ['SCHILY.xattr.user.empty', ''],
      ['LIBARCHIVE.xattr.user.a%3Db', BIN.toString('base64')],
    ]);
    const data = Buffer.concat([
      metaEntry('x', records),
      rawBlock({ name: 'short', typeflag: '2', linkname: 'short' }),
      END,
    ]);
    const [e] = await readAll(data);
    const h = e!.header;
    assert.equal(h.path, path);
    assert.equal(h.linkname, 'l'.repeat(150));
    assert.deepEqual(
      [h.uid, h.gid, h.uname, h.gname],
      [3000000, 4000000, 'n\u00e4me', 'g'.repeat(40)],
    );
    assert.equal(h.mtime, Number('1700000000.123456789'));
    assert.deepEqual(h.xattrs.get('security.capability'), CAP);
    assert.deepEqual(h.xattrs.get('user.bin'), BIN);
    assert.ok(!h.xattrs.has('user.empty'), 'an empty value deletes the record (as in Go)');
    assert.deepEqual(h.xattrs.get('user.a=b'), BIN);
    assert.equal(h.xattrs.size, 3);
  });

  test('PAX size overrides the header and sizes the body', async () => {
    const body = Buffer.alloc(700, 7);
    const data = Buffer.concat([
      metaEntry('x', paxRecords([['size', '700']])),
      rawBlock({ name: 'f', size: 1 }),
      padded(body),
      END,
    ]);
    const [e] = await readAll(data);
    assert.equal(e!.header.size, 700);
    assert.deepEqual(e!.body, body);
  });

  test("global 'g' records apply to every later entry; 'x' and empty values override them", async () => {
    const data = Buffer.concat([
      metaEntry(
        'g',
        paxRecords([
          ['uname', 'global'],
          ['mtime', '5.5'],
          ['SCHILY.xattr.user.g', 'G'],
        ]),
      ),
      fileEntry('a', Buffer.alloc(0), { uname: 'hdr' }),
      metaEntry('x', paxRecords([['uname', 'local']])),
      fileEntry('b', Buffer.alloc(0), { uname: 'hdr' }),
      metaEntry('x', paxRecords([['uname', '']])),
      fileEntry('c', Buffer.alloc(0), { uname: 'hdr' }),
      END,
    ]);
    const got = await readAll(data);
    assert.deepEqual(
      got.map((e) => [
        e.header.path,
        e.header.uname,
        e.header.mtime,
        e.header.xattrs.get('user.g')?.toString(),
      ]),
      [
        ['a', 'global', 5.5, 'G'],
        ['b', 'local', 5.5, 'G'],
        ['c', 'hdr', 5.5, 'G'],
      ],
    );
  });

  test('skips GNU volume labels and the body of GNU dumpdirs', async () => {
    const data = Buffer.concat([
      fileEntry('label', Buffer.from('vol'), { typeflag: 'V', format: 'gnu' }),
      fileEntry('dumped/', Buffer.from('Yfile\0\0'), { typeflag: 'D', format: 'gnu' }),
      fileEntry('f', Buffer.from('x'), { format: 'gnu' }),
      END,
    ]);
    const got = await readAll(data);
    assert.deepEqual(
      got.map((e) => [e.header.path, e.header.type, e.header.size, e.body.length]),
      [
        ['dumped/', 'directory', 0, 0],
        ['f', 'file', 1, 1],
      ],
    );
  });

  test('gives entries other than files no body, whatever their size says (as Go does)', async () => {
    const data = Buffer.concat([
      rawBlock({ name: 'd/', typeflag: '5', size: 512 }),
      rawBlock({ name: 'next' }),
      END,
    ]);
    const got = await readAll(data);
    assert.deepEqual(
      got.map((e) => [e.header.path, e.header.size]),
      [
        ['d/', 0],
        ['next', 0],
      ],
    );
  });
});

describe('readTar: streaming', () => {
  const files = [0, 1, 511, 512, 513, 20_000].map((n, i) => ({
    path: `f${i}`,
    body: Buffer.from(Array.from({ length: n }, (_, j) => (j * 7 + i) & 0xff)),
  }));
  const archive = (): Promise<Buffer> =>
    collect(
      packTar([
        {
          header: { path: 'x'.repeat(300), type: 'file', xattrs: new Map([['user.k', BIN]]) },
          body: Buffer.from('long'),
        },
        ...files.map((f) => ({ header: { path: f.path, type: 'file' as const }, body: f.body })),
      ]),
    );

  test('gives the same result whatever the chunk sizes of the source', async () => {
    const data = await archive();
    const reference = await readAll(data, {}, data.length);
    for (const size of [1, 7, 511, 512, 513, 4096]) {
      const got = await readAll(data, {}, size);
      assert.deepEqual(got, reference, `chunks of ${size}`);
    }
    assert.equal(reference.length, files.length + 1);
    for (const [i, f] of files.entries()) assert.deepEqual(reference[i + 1]!.body, f.body);
  });

  test('skips bodies left unread or half read', async () => {
    const data = await archive();
    const paths: string[] = [];
    let i = 0;
    for await (const e of readTar(chunked(data, 1000))) {
      paths.push(e.header.path);
      if (i++ % 2 === 0) continue;
      for await (const c of e.body) {
        assert.ok(c.length > 0);
        break;
      }
    }
    assert.deepEqual(paths, ['x'.repeat(300), ...files.map((f) => f.path)]);
  });

  test('refuses a body read after the reader moved on, or read twice', async () => {
    const data = await archive();
    const it = readTar(chunked(data, 1000));
    const first = await it.next();
    if (first.done === true) assert.fail('no entry');
    await collect(first.value.body);
    assert.throws(() => first.value.body[Symbol.asyncIterator](), /body read twice/);
    const second = await it.next();
    await it.next();
    assert.throws(() => second.value!.body[Symbol.asyncIterator](), /after the reader moved on/);
    await it.return();
  });

  test('stops the source when the consumer stops', async () => {
    const data = await archive();
    let returned = false;
    async function* source(): AsyncGenerator<Buffer> {
      try {
        yield* chunked(data, 100);
      } finally {
        returned = true;
      }
    }
    for await (const e of readTar(source())) {
      assert.ok(e.header.path.length > 0);
      break;
    }
    assert.ok(returned);
  });

  test('reads the source to its end after the end-of-archive blocks', async () => {
    const data = Buffer.concat([await archive(), Buffer.alloc(9000)]);
    let seen = 0;
    async function* source(): AsyncGenerator<Buffer> {
      for await (const c of chunked(data, 1000)) {
        seen += c.length;
        yield c;
      }
    }
    await readAll(source());
    assert.equal(seen, data.length);
  });
});

describe('readTar: end of archive', () => {
  const one = fileEntry('a', Buffer.from('a'));

  test('accepts two zero blocks, one zero block then EOF, and ignores record padding', async () => {
    for (const tail of [END, Buffer.alloc(512), Buffer.alloc(10240 - 1024)]) {
      const got = await readAll(Buffer.concat([one, tail]));
      assert.equal(got.length, 1);
    }
  });

  test('refuses EOF without an end-of-archive block unless told to accept it', async () => {
    await rejectsArchive(one, /no end-of-archive block \(truncated archive\) at byte 1024/);
    assert.equal((await readAll(one, { allowMissingEnd: true })).length, 1);
    await rejectsArchive(Buffer.alloc(0), /empty archive at byte 0/);
  });

  test('refuses data after a lone zero block', async () => {
    await rejectsArchive(
      Buffer.concat([one, Buffer.alloc(512), one]),
      /data after a lone zero block at byte 1024/,
    );
  });
});

describe('readTar: hostile and broken archives fail cleanly', () => {
  const body = Buffer.alloc(3000, 1);
  const good = Buffer.concat([fileEntry('a', body), END]);

  test('bad checksum', async () => {
    await rejectsArchive(
      Buffer.concat([rawBlock({ name: 'a', checksum: 1234 }), END]),
      /^read archive: header checksum mismatch \(not a tar archive\?\) at byte 0$/,
    );
    await rejectsArchive(
      Buffer.concat([Buffer.from('not a tar at all'.repeat(40)), END]),
      /checksum mismatch/,
    );
  });

  test('invalid characters in a numeric field', async () => {
    await rejectsArchive(
      Buffer.concat([rawBlock({ name: 'a', patch: [[124, Buffer.from('12x45678901\0')]] }), END]),
      /invalid size field in header at byte 0/,
    );
  });

  test('truncated header, body, padding and extended header', async () => {
    for (const cut of [100, 600, 512 + 3000, 512 + 3071]) {
      await rejectsArchive(good.subarray(0, cut), /truncated archive/);
    }
    const pax = Buffer.concat([metaEntry('x', paxRecords([['path', 'p'.repeat(600)]])), END]);
    await rejectsArchive(pax.subarray(0, 700), /truncated archive/);
    await rejectsArchive(pax, /end of archive right after an extended header/);
    await rejectsArchive(
      Buffer.concat([metaEntry('L', Buffer.from('name\0'))]),
      /unexpected end of archive after an extended header/,
    );
  });

  test('an archive longer than maxBytes is cut off', async () => {
    let pulled = 0;
    async function* source(): AsyncGenerator<Buffer> {
      for await (const c of chunked(good, 512)) {
        pulled += c.length;
        yield c;
      }
    }
    await assert.rejects(readAll(source(), { maxBytes: 2048 }), (err: unknown) => {
      assert.ok(isChrunError(err, 'CHRUN_SIZE_MISMATCH'));
      assert.match(err.message, /more than the allowed 2048 bytes/);
      return true;
    });
    assert.equal(pulled, 2560, 'stops pulling at the first chunk past the limit');
    assert.equal((await readAll(good, { maxBytes: good.length })).length, 1);
  });

  test('oversized, malformed or sparse PAX headers', async () => {
    await rejectsArchive(
      Buffer.concat([metaEntry('x', paxRecords([['comment', 'c'.repeat(5000)]])), one(), END]),
      /extended header of 5\d\d\d bytes \(limit 4096\)/,
      { maxMetaBytes: 4096 },
    );
    for (const [records, pattern] of [
      [Buffer.from('99 path=x\n'), /bad record length/],
      [Buffer.from('abc path=x\n'), /bad record length/],
      [Buffer.from('10 pathxy\n'), /record without key=value/],
      [Buffer.from('9 path=x!'), /bad record length/],
      [paxRecords([['size', '-1']]), /invalid pax size "-1"/],
      [paxRecords([['size', '99999999999999999999']]), /invalid pax size/],
      [paxRecords([['uid', '1e3']]), /invalid pax uid/],
      [paxRecords([['mtime', 'soon']]), /invalid pax mtime/],
      [paxRecords([['GNU.sparse.major', '1']]), /GNU sparse file "a" is not supported/],
      [paxRecords([['LIBARCHIVE.xattr.%zz', 'AA==']]), /invalid pax key/],
    ] as const) {
      await rejectsArchive(Buffer.concat([metaEntry('x', records), one(), END]), pattern);
    }
    function one(): Buffer {
      return fileEntry('a', Buffer.from('a'));
    }
  });

  test('sparse files and unknown entry types are refused, naming them', async () => {
    await rejectsArchive(
      Buffer.concat([rawBlock({ name: 'sp', typeflag: 'S', format: 'gnu' }), END]),
      /GNU sparse file for "sp" is not supported at byte 0/,
    );
    await rejectsArchive(
      Buffer.concat([
        fileEntry('ok', Buffer.from('x')),
        rawBlock({ name: 'odd', typeflag: 'Z' }),
        END,
      ]),
      /unknown entry type "Z" for "odd" is not supported at byte 1024/,
    );
  });

  test('an empty path is refused', async () => {
    await rejectsArchive(Buffer.concat([rawBlock({ name: '' }), END]), /entry with an empty path/);
  });

  test('names that are not UTF-8 are refused, showing their bytes; UTF-8 ones are kept', async () => {
    const latin1 = Buffer.from('caf\xe9', 'latin1'); // 'café' in ISO-8859-1
    const at = (off: number) => new RegExp(`not valid UTF-8 \\(not supported\\) at byte ${off}$`);
    // In the header block, in the ustar prefix, as a GNU long name and as a PAX path.
    await rejectsArchive(
      Buffer.concat([rawBlock({ name: 'x', patch: [[0, latin1]] }), END]),
      /entry name "caf\\xe9" is not valid UTF-8/,
    );
    await rejectsArchive(
      Buffer.concat([rawBlock({ name: 'f', prefix: 'x', patch: [[345, latin1]] }), END]),
      /entry name "caf\\xe9\/f"/,
    );
    await rejectsArchive(
      Buffer.concat([
        metaEntry('L', latin1, 'gnu'),
        rawBlock({ name: 'short', format: 'gnu' }),
        END,
      ]),
      at(1024),
    );
    await rejectsArchive(
      Buffer.concat([
        metaEntry('x', paxRecords([['path', latin1]])),
        rawBlock({ name: 'ok' }),
        END,
      ]),
      /entry name "caf\\xe9"/,
    );
    // A link target, and a symlink's target via PAX.
    await rejectsArchive(
      Buffer.concat([
        rawBlock({ name: 'l', typeflag: '2', linkname: 'x', patch: [[157, latin1]] }),
        END,
      ]),
      /entry link target "caf\\xe9"/,
    );
    // Bytes in the header block a PAX path replaces do not matter; nor does the link field
    // of an entry that is not a link.
    const ok = await readAll(
      Buffer.concat([
        metaEntry('x', paxRecords([['path', 'café/naïve']])),
        rawBlock({ name: 'x', patch: [[0, latin1]] }),
        rawBlock({ name: 'g', patch: [[157, latin1]] }),
        END,
      ]),
    );
    assert.deepEqual(
      ok.map((e) => [e.header.path, e.header.linkname]),
      [
        ['café/naïve', ''],
        ['g', ''],
      ],
    );
  });
});
