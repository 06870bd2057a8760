import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { isChrunError } from '../../../src/util/index.js';
import {
  compress,
  decompress,
  detectCompression,
  limitBytes,
  packTar,
  readTar,
  type Compression,
} from '../../../src/tar/index.js';
import { needsCommands } from '../../helpers/requirements.js';
import { chunked, collect } from '../../helpers/tar-bytes.js';

// Half noise (from a fixed-seed LCG), half text: compressible, but not to nothing.
const data = Buffer.alloc(200_000);
for (let i = 0, x = 1; i < data.length; i++) {
  x = (x * 1103515245 + 12345) % 2 ** 31;
  data[i] = i % 2 === 0 ? x >>> 23 : 0x61 + (i % 26);
}

const zstdCli = (input: Buffer, ...args: string[]): Buffer => {
  const r = spawnSync('zstd', ['-q', '-c', ...args], { input, maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, r.stderr.toString());
  return r.stdout;
};

async function rejectsWith(p: Promise<unknown>, code: string, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isChrunError(err), String(err));
    assert.equal(err.code, code);
    assert.match(err.message, pattern);
    return true;
  });
}

describe('detectCompression', () => {
  test('tells gzip, zstd and tar apart by magic numbers', async () => {
    assert.equal(detectCompression(gzipSync(data)), 'gzip');
    assert.equal(detectCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0])), 'zstd');
    const tar = await collect(packTar([{ header: { path: 'BZh91AY', type: 'file' } }]));
    assert.equal(detectCompression(tar), 'none', 'a tar whose first file looks like bzip2');
    assert.equal(detectCompression(Buffer.alloc(0)), 'none');
  });

  test('refuses xz and bzip2 with a clear error', () => {
    assert.throws(
      () => detectCompression(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 1])),
      /decompress layer: xz compression is not supported \(only gzip and zstd\)/,
    );
    assert.throws(() => detectCompression(Buffer.from('BZh91AY&SY')), /bzip2 compression/);
  });
});

describe('decompress', () => {
  test('passes uncompressed data through, whatever the chunking', async () => {
    for (const size of [1, 100, 300, 65536]) {
      const input = size === 1 ? data.subarray(0, 5000) : data;
      let seen: Compression | undefined;
      const out = await collect(decompress(chunked(input, size), { onDetect: (c) => (seen = c) }));
      assert.deepEqual(out, input);
      assert.equal(seen, 'none');
    }
    assert.equal((await collect(decompress(chunked(Buffer.alloc(0), 1)))).length, 0);
  });

  test('gunzips, multi-member streams included', async () => {
    const gz = gzipSync(data);
    // zlib costs a thread-pool round trip per write: tiny chunks on a small input only.
    const small = data.subarray(0, 3000);
    assert.deepEqual(await collect(decompress(chunked(gzipSync(small), 1))), small);
    for (const size of [100, 8192]) {
      assert.deepEqual(await collect(decompress(chunked(gz, size))), data);
    }
    const two = Buffer.concat([gzipSync(data.subarray(0, 1000)), gzipSync(data.subarray(1000))]);
    assert.deepEqual(await collect(decompress(chunked(two, 4096))), data);
  });

  test('corrupt or truncated gzip fails with CHRUN_ARCHIVE_INVALID', async () => {
    const gz = gzipSync(data);
    const corrupt = Buffer.from(gz);
    corrupt.fill(0x55, 100, 200);
    await rejectsWith(
      collect(decompress(chunked(corrupt, 4096))),
      'CHRUN_ARCHIVE_INVALID',
      /^decompress gzip layer: /,
    );
    await rejectsWith(
      collect(decompress(chunked(gz.subarray(0, gz.length - 10), 4096))),
      'CHRUN_ARCHIVE_INVALID',
      /decompress gzip layer: unexpected end of file/,
    );
  });

  test('zstd through the zstd command', { skip: needsCommands('zstd') }, async () => {
    const zst = zstdCli(data);
    let seen: Compression | undefined;
    assert.deepEqual(
      await collect(decompress(chunked(zst, 1000), { onDetect: (c) => (seen = c) })),
      data,
    );
    assert.equal(seen, 'zstd');
    // Two frames back to back, as concatenated layers are.
    const two = Buffer.concat([zstdCli(data.subarray(0, 10)), zstdCli(data.subarray(10))]);
    assert.deepEqual(await collect(decompress(chunked(two, 1000))), data);
  });

  test(
    'corrupt or truncated zstd fails with CHRUN_ARCHIVE_INVALID',
    { skip: needsCommands('zstd') },
    async () => {
      const zst = zstdCli(data);
      await rejectsWith(
        collect(decompress(chunked(zst.subarray(0, zst.length - 20), 1000))),
        'CHRUN_ARCHIVE_INVALID',
        /^decompress zstd layer: /,
      );
      const corrupt = Buffer.from(zst);
      corrupt.fill(0, 50, 400);
      await rejectsWith(
        collect(decompress(chunked(corrupt, 1000))),
        'CHRUN_ARCHIVE_INVALID',
        /^decompress zstd layer: /,
      );
    },
  );

  test('a missing zstd command is named with its Debian package', async () => {
    const saved = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      const zst = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 1, 2, 3]);
      await rejectsWith(
        collect(decompress(chunked(zst, 100))),
        'CHRUN_UNSUPPORTED',
        /^decompress zstd layer: the zstd command is not installed \(Debian package zstd\)$/,
      );
    } finally {
      process.env.PATH = saved;
    }
  });

  test('maxInputBytes cuts a longer stream off', async () => {
    const gz = gzipSync(data);
    await rejectsWith(
      collect(decompress(chunked(gz, 4096), { maxInputBytes: gz.length - 1 })),
      'CHRUN_SIZE_MISMATCH',
      /read compressed layer: more than the expected \d+ bytes/,
    );
    assert.deepEqual(
      await collect(decompress(chunked(gz, 4096), { maxInputBytes: gz.length })),
      data,
    );
  });

  test(
    'an error of the source wins over the decompressor',
    { skip: needsCommands('zstd') },
    async () => {
      for (const compressed of [gzipSync(data), zstdCli(data)]) {
        async function* failing(): AsyncGenerator<Buffer> {
          yield* chunked(compressed.subarray(0, 1000), 1000);
          throw new Error('network went away');
        }
        await assert.rejects(collect(decompress(failing())), /network went away/);
      }
    },
  );

  test(
    'a consumer that stops early stops the source and the process',
    { skip: needsCommands('zstd') },
    async () => {
      const big = Buffer.alloc(8 << 20, 1);
      for (const compressed of [gzipSync(big), zstdCli(big)]) {
        let returned = false;
        async function* source(): AsyncGenerator<Buffer> {
          try {
            yield* chunked(compressed, 64);
          } finally {
            returned = true;
          }
        }
        for await (const chunk of decompress(source())) {
          assert.ok(chunk.length > 0);
          break;
        }
        await new Promise((r) => setTimeout(r, 50));
        assert.ok(returned, 'source returned');
      }
    },
  );
});

describe('compress', () => {
  const tar = (): AsyncGenerator<Buffer> =>
    packTar([{ header: { path: 'f', type: 'file', mtime: 1 }, body: data }]);

  for (const kind of ['gzip', 'zstd', 'none'] as const) {
    test(
      `${kind}: round-trips through decompress and readTar, reproducibly`,
      { skip: kind === 'zstd' && needsCommands('zstd') },
      async () => {
        const a = await collect(compress(tar(), kind));
        const b = await collect(compress(tar(), kind));
        assert.deepEqual(a, b, 'same input, same bytes');
        assert.equal(detectCompression(a), kind);
        const entries = [];
        for await (const e of readTar(decompress(chunked(a, 5000))))
          entries.push(await collect(e.body));
        assert.deepEqual(entries, [data]);
      },
    );
  }

  test(
    'zstd output is what the zstd command decodes',
    { skip: needsCommands('zstd') },
    async () => {
      const zst = await collect(compress(chunked(data, 4096), 'zstd', { level: 10 }));
      assert.deepEqual(zstdCli(zst, '-d'), data);
    },
  );
});

describe('limitBytes', () => {
  test('passes up to max bytes and refuses more', async () => {
    assert.deepEqual(await collect(limitBytes(chunked(data, 1000), data.length)), data);
    await rejectsWith(
      collect(limitBytes(chunked(data, 1000), 5, 'read blob sha256:x')),
      'CHRUN_SIZE_MISMATCH',
      /^read blob sha256:x: more than the expected 5 bytes$/,
    );
  });
});
