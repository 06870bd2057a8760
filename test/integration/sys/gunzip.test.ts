import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { isalGunzip } from '../../../src/sys/index.js';
import { decompress, type Gunzip } from '../../../src/tar/index.js';
import { isChrunError } from '../../../src/util/index.js';
import { chunked } from '../../helpers/tar-bytes.js';
import { skipUnless } from '../../helpers/requirements.js';

// ISA-L's gunzip (native/gunzip, through koffi) against node:zlib's, in decompress(): the
// same bytes, the same digest, the same errors. Built when libisal-dev and libssl-dev are
// installed (scripts/setup.sh installs them).
const isal = isalGunzip();
const skip = skipUnless(
  isal !== undefined,
  'needs native/build/libchrun-gunzip.so (libisal-dev and libssl-dev, then npm run build)',
);

// Half noise (a fixed-seed LCG), half text: 3 MiB, so that one input chunk fills several
// 1 MiB output chunks.
const data = Buffer.alloc(3 << 20);
for (let i = 0, x = 1; i < data.length; i++) {
  x = (x * 1103515245 + 12345) % 2 ** 31;
  data[i] = i % 2 === 0 ? x >>> 23 : 0x61 + (i % 26);
}
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** All of decompress's output and its return value (the sha256). */
async function run(
  input: Buffer,
  size: number,
  gunzip: Gunzip | undefined,
): Promise<{ out: Buffer; digest: string | undefined }> {
  const it = decompress(chunked(input, size), {
    sha256: true,
    ...(gunzip === undefined ? {} : { gunzip }),
  });
  const parts: Buffer[] = [];
  for (;;) {
    const r = await it.next();
    if (r.done === true) return { out: Buffer.concat(parts), digest: r.value };
    parts.push(Buffer.from(r.value)); // a copy: the chunk must stay as it was given
  }
}

/** The error message of both gunzips on `input` (they must fail alike). */
async function failures(input: Buffer, size: number): Promise<[string, string]> {
  const msg = async (g: Gunzip | undefined): Promise<string> => {
    try {
      await run(input, size, g);
    } catch (err) {
      assert.ok(isChrunError(err), String(err));
      assert.equal(err.code, 'CHRUN_ARCHIVE_INVALID');
      return err.message;
    }
    return 'no error';
  };
  return [await msg(undefined), await msg(isal)];
}

describe('ISA-L gunzip (libchrun-gunzip.so)', { skip }, () => {
  test('gives what node:zlib gives, with the sha256 of it, whatever the chunking', async () => {
    const gz = gzipSync(data);
    for (const size of [10_000, 1 << 20, gz.length]) {
      const got = await run(gz, size, isal);
      assert.ok(got.out.equals(data), `chunks of ${size}`);
      assert.equal(got.digest, sha(data));
    }
    const small = data.subarray(0, 3000);
    const tiny = await run(gzipSync(small), 1, isal);
    assert.ok(tiny.out.equals(small), 'one byte at a time');
    assert.equal(tiny.digest, sha(small));
    const zlib = await run(gz, 65536, undefined);
    assert.equal(zlib.digest, sha(data), 'node:zlib with the digest computed in JavaScript');
  });

  test('takes several members as one stream, and zero padding after the last', async () => {
    const two = Buffer.concat([
      gzipSync(data.subarray(0, 1000)),
      gzipSync(data.subarray(1000, 2_000_000)),
      gzipSync(Buffer.alloc(0)),
      gzipSync(data.subarray(2_000_000)),
    ]);
    for (const size of [4096, two.length]) {
      assert.ok((await run(two, size, isal)).out.equals(data), `members, chunks of ${size}`);
    }
    // Byte by byte (a native call each): member ends and starts inside every call.
    const short = data.subarray(0, 600);
    const members = Buffer.concat(
      [0, 100, 300].map((a, k, all) => gzipSync(short.subarray(a, all[k + 1] ?? 600))),
    );
    assert.ok((await run(members, 1, isal)).out.equals(short), 'members, byte by byte');
    const padded = Buffer.concat([gzipSync(data), Buffer.alloc(1024)]);
    const both = await Promise.all([run(padded, 4096, undefined), run(padded, 4096, isal)]);
    assert.ok(both[0].out.equals(data) && both[1].out.equals(data));
  });

  test('fails as node:zlib does on corrupt, truncated or trailing bytes', async () => {
    const gz = gzipSync(data);
    const corrupt = Buffer.from(gz);
    corrupt.fill(0x55, 100, 200);
    const [zc, ic] = await failures(corrupt, 4096);
    assert.match(zc, /^decompress gzip layer: /);
    assert.match(ic, /^decompress gzip layer: (invalid|incorrect)/);

    for (const cut of [10, gz.length / 2, gz.length - 10]) {
      const [z, i] = await failures(gz.subarray(0, Math.floor(gz.length - cut)), 4096);
      assert.equal(z, 'decompress gzip layer: unexpected end of file');
      assert.equal(i, z, `cut ${cut} bytes short`);
    }

    const badCrc = Buffer.from(gz);
    badCrc[badCrc.length - 6]! ^= 0xff; // the trailer's CRC32
    const [zb, ib] = await failures(badCrc, 4096);
    assert.equal(zb, 'decompress gzip layer: incorrect data check');
    assert.equal(ib, zb);

    const garbage = Buffer.concat([gz, Buffer.from('garbage')]);
    const [zg, ig] = await failures(garbage, 4096);
    assert.equal(zg, 'decompress gzip layer: incorrect header check');
    assert.equal(ig, zg);
  });

  test('a consumer may stop early; the native state is freed and others go on', async () => {
    const gz = gzipSync(data);
    for (let i = 0; i < 20; i++) {
      const it = isal!(chunked(gz, 65536), { sha256: true });
      const first = await it.next();
      assert.equal(first.done, false);
      await it.return(undefined);
    }
    assert.ok((await run(gz, 65536, isal)).out.equals(data));
  });

  test('several streams at once, as the layers of a pull', async () => {
    const inputs = [0, 1, 2, 3].map((k) => data.subarray(k * 1000, data.length - k * 7));
    const outs = await Promise.all(inputs.map((d) => run(gzipSync(d), 100_000, isal)));
    for (const [k, o] of outs.entries()) {
      assert.ok(o.out.equals(inputs[k]!), `stream ${k}`);
      assert.equal(o.digest, sha(inputs[k]!));
    }
  });

  test('stored, fixed and dynamic blocks: gzip -1 and -9, incompressible bytes', async () => {
    for (const level of ['-1', '-9']) {
      const r = spawnSync('gzip', [level, '-c'], { input: data, maxBuffer: 64 << 20 });
      assert.equal(r.status, 0);
      assert.ok((await run(r.stdout, 1 << 16, isal)).out.equals(data), `gzip ${level}`);
    }
    const noise = randomBytes(2 << 20); // deflate stores it
    assert.ok((await run(gzipSync(noise), 1 << 16, isal)).out.equals(noise));
    const text = Buffer.from('a'.repeat(1 << 20)); // one long match after another
    assert.ok((await run(gzipSync(text), 4096, isal)).out.equals(text));
  });
});
