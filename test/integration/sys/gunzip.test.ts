import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { gzipSync } from 'node:zlib';
import {
  abandonGunzipJobs,
  gunzipInfo,
  isalGunzipFile,
  type GunzipFileOptions,
} from '../../../src/sys/index.js';
import { decompress } from '../../../src/tar/index.js';
import { isChrunError } from '../../../src/util/index.js';
import { gunzipThreads } from '../../helpers/gunzip-threads.js';
import { chunked } from '../../helpers/tar-bytes.js';
import { skipUnless } from '../../helpers/requirements.js';

// ISA-L's gunzip jobs (native/gunzip, through koffi) against node:zlib's gunzip in
// decompress(): the same bytes, the same errors; and the jobs' own promises: the digest and
// size, the chunk a consumer still holds stays as it was, threads and files are let go.
// Built when libisal-dev and libssl-dev are installed (scripts/setup.sh installs them).
const skip = skipUnless(
  gunzipInfo().kind === 'isal',
  'needs native/build/libchrun-gunzip.so (libisal-dev and libssl-dev, then npm run build)',
);

const dir = mkdtempSync(path.join(os.tmpdir(), 'chrun-gunzip-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
/** `bytes` in a file of their own. */
function fileOf(bytes: Buffer): string {
  const f = path.join(dir, `in-${files++}.gz`);
  writeFileSync(f, bytes);
  return f;
}

// Half noise (a fixed-seed LCG), half text: 3 MiB, so that one read fills several chunks.
const data = Buffer.alloc(3 << 20);
for (let i = 0, x = 1; i < data.length; i++) {
  x = (x * 1103515245 + 12345) % 2 ** 31;
  data[i] = i % 2 === 0 ? x >>> 23 : 0x61 + (i % 26);
}
const NO_LIMIT = Number.MAX_SAFE_INTEGER;
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** All of a job's output (copied), and its result. */
async function run(
  input: Buffer,
  opts: Partial<GunzipFileOptions> = {},
  limit = input.length,
): Promise<{ out: Buffer; bytes: number; digest: string | undefined }> {
  const it = isalGunzipFile(fileOf(input), limit, { sha256: true, ...opts })!;
  const parts: Buffer[] = [];
  for (;;) {
    const r = await it.next();
    if (r.done === true)
      return { out: Buffer.concat(parts), bytes: r.value.bytes, digest: r.value.sha256 };
    parts.push(Buffer.from(r.value));
  }
}

/** node:zlib's output, through decompress() as layers without ISA-L get it. */
async function zlib(input: Buffer): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of decompress(chunked(input, 65536))) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

/** The error message of both gunzips on `input` (they must fail alike). */
async function failures(input: Buffer): Promise<[string, string]> {
  const msg = async (f: () => Promise<unknown>): Promise<string> => {
    try {
      await f();
    } catch (err) {
      assert.ok(isChrunError(err), String(err));
      assert.equal(err.code, 'CHRUN_ARCHIVE_INVALID');
      return err.message;
    }
    return 'no error';
  };
  return [await msg(() => zlib(input)), await msg(() => run(input, { readSize: 4096 }))];
}

/** This process's open files. */
const fds = (): number => readdirSync('/proc/self/fd').length;

describe('ISA-L gunzip jobs (libchrun-gunzip.so)', { skip }, () => {
  test('give what node:zlib gives, the sha256 of it and the file size, whatever the sizes', async () => {
    const gz = gzipSync(data);
    for (const readSize of [10_000, 1 << 20, gz.length]) {
      for (const chunkSize of [1000, 1 << 20]) {
        const got = await run(gz, { readSize, chunkSize });
        assert.ok(got.out.equals(data), `reads of ${readSize}, chunks of ${chunkSize}`);
        assert.equal(got.digest, sha(data));
        assert.equal(got.bytes, gz.length);
      }
    }
    const small = data.subarray(0, 3000);
    const tiny = await run(gzipSync(small), { readSize: 1, chunkSize: 7 });
    assert.ok(tiny.out.equals(small), 'one byte read at a time, chunks of 7 bytes');
    assert.equal(tiny.digest, sha(small));
    assert.ok((await zlib(gz)).equals(data));
    const unhashed = await run(gz, { sha256: false });
    assert.ok(unhashed.out.equals(data));
    assert.equal(unhashed.digest, undefined);
  });

  test('take several members as one stream, and zero padding after the last', async () => {
    const two = Buffer.concat([
      gzipSync(data.subarray(0, 1000)),
      gzipSync(data.subarray(1000, 2_000_000)),
      gzipSync(Buffer.alloc(0)),
      gzipSync(data.subarray(2_000_000)),
    ]);
    for (const readSize of [4096, two.length]) {
      assert.ok((await run(two, { readSize })).out.equals(data), `members, reads of ${readSize}`);
    }
    // Byte by byte: member ends and starts inside every read.
    const short = data.subarray(0, 600);
    const members = Buffer.concat(
      [0, 100, 300].map((a, k, all) => gzipSync(short.subarray(a, all[k + 1] ?? 600))),
    );
    assert.ok((await run(members, { readSize: 1 })).out.equals(short), 'members, byte by byte');
    const padded = Buffer.concat([gzipSync(data), Buffer.alloc(1024)]);
    const got = await run(padded, { readSize: 4096 });
    assert.ok(got.out.equals(data));
    assert.ok((await zlib(padded)).equals(data));
    assert.equal(got.bytes, padded.length, 'the padding is read and counted');
  });

  test('fail as node:zlib does on corrupt, truncated or trailing bytes', async () => {
    const gz = gzipSync(data);
    const corrupt = Buffer.from(gz);
    corrupt.fill(0x55, 100, 200);
    const [zc, ic] = await failures(corrupt);
    assert.match(zc, /^decompress gzip layer: /);
    assert.match(ic, /^decompress gzip layer: (invalid|incorrect)/);

    for (const cut of [10, gz.length / 2, gz.length - 10]) {
      const [z, i] = await failures(gz.subarray(0, Math.floor(gz.length - cut)));
      assert.equal(z, 'decompress gzip layer: unexpected end of file');
      assert.equal(i, z, `cut ${cut} bytes short`);
    }

    const badCrc = Buffer.from(gz);
    badCrc[badCrc.length - 6]! ^= 0xff; // the trailer's CRC32
    const [zb, ib] = await failures(badCrc);
    assert.equal(zb, 'decompress gzip layer: incorrect data check');
    assert.equal(ib, zb);

    const garbage = Buffer.concat([gz, Buffer.from('garbage')]);
    const [zg, ig] = await failures(garbage);
    assert.equal(zg, 'decompress gzip layer: incorrect header check');
    assert.equal(ig, zg);
  });

  test('refuse a file longer than the limit, and tell a shorter one by its size', async () => {
    const gz = gzipSync(data);
    await assert.rejects(run(gz, { readSize: 4096 }, gz.length - 1), (err: unknown) => {
      assert.ok(isChrunError(err));
      assert.equal(err.code, 'CHRUN_SIZE_MISMATCH');
      assert.equal(
        err.message,
        `read compressed layer: more than the expected ${gz.length - 1} bytes`,
      );
      return true;
    });
    const longer = await run(gz, {}, gz.length + 10);
    assert.ok(longer.out.equals(data));
    assert.equal(longer.bytes, gz.length);
  });

  test('the chunk taken last stays as it was while the next one is asked for', async () => {
    // Chunks of 1000 bytes in 6 slots: the ring goes round thousands of times, the job
    // running ahead as far as it may.
    const it = isalGunzipFile(fileOf(gzipSync(data)), NO_LIMIT, {
      sha256: false,
      chunkSize: 1000,
    })!;
    let held: { view: Buffer; copy: Buffer } | undefined;
    let at = 0;
    for (;;) {
      if (at % 97 === 0) await new Promise((r) => setTimeout(r, 1)); // let it run ahead
      const r = await it.next();
      if (held !== undefined) assert.ok(held.view.equals(held.copy), `chunk at ${at} changed`);
      if (r.done === true) break;
      assert.ok(r.value.equals(data.subarray(at, at + r.value.length)), `chunk at ${at}`);
      held = { view: r.value, copy: Buffer.from(r.value) };
      at += r.value.length;
    }
    assert.equal(at, data.length);
  });

  test('a consumer may stop early: its thread and file are let go, others go on', async () => {
    const gz = fileOf(gzipSync(data));
    const f0 = fds();
    for (let i = 0; i < 20; i++) {
      const it = isalGunzipFile(gz, NO_LIMIT, { sha256: true })!;
      const first = await it.next();
      assert.equal(first.done, false);
      await it.return({ bytes: 0, sha256: undefined });
    }
    assert.equal(gunzipThreads(), 0, 'threads');
    assert.equal(fds(), f0, 'open files');
    assert.ok((await run(gzipSync(data))).out.equals(data));
  });

  test('several jobs at once, as the layers of a pull', async () => {
    const inputs = [0, 1, 2, 3].map((k) => data.subarray(k * 1000, data.length - k * 7));
    const outs = await Promise.all(inputs.map((d) => run(gzipSync(d), { readSize: 100_000 })));
    for (const [k, o] of outs.entries()) {
      assert.ok(o.out.equals(inputs[k]!), `stream ${k}`);
      assert.equal(o.digest, sha(inputs[k]!));
    }
  });

  test('stored, fixed and dynamic blocks: gzip -1 and -9, incompressible bytes', async () => {
    for (const level of ['-1', '-9']) {
      const r = spawnSync('gzip', [level, '-c'], { input: data, maxBuffer: 64 << 20 });
      assert.equal(r.status, 0);
      assert.ok((await run(r.stdout, { readSize: 1 << 16 })).out.equals(data), `gzip ${level}`);
    }
    const noise = randomBytes(2 << 20); // deflate stores it
    assert.ok((await run(gzipSync(noise))).out.equals(noise));
    const text = Buffer.from('a'.repeat(1 << 20)); // one long match after another
    assert.ok((await run(gzipSync(text), { readSize: 4096 })).out.equals(text));
  });

  test('the jobs of a terminated worker thread are freed once it has exited', async () => {
    const gz = fileOf(gzipSync(data));
    const f0 = fds();
    const sys = new URL('../../../src/sys/index.js', import.meta.url).href;
    // The worker takes one chunk of each of two jobs, then waits to be terminated: its jobs'
    // threads fill their slots (chunks of 1000 bytes: 3 MiB never fit in six) and wait for a
    // consumer that is gone.
    const worker = new Worker(
      `const { parentPort } = require('node:worker_threads');
       import(${JSON.stringify(sys)}).then(async ({ isalGunzipFile }) => {
         for (let i = 0; i < 2; i++) await isalGunzipFile(${JSON.stringify(gz)}, ${NO_LIMIT}, { sha256: true, chunkSize: 1000 }).next();
         parentPort.postMessage('started');
       });`,
      { eval: true },
    );
    const id = worker.threadId;
    await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    assert.equal(gunzipThreads(), 2, 'the jobs run');
    await worker.terminate();
    assert.equal(abandonGunzipJobs(id), 2);
    assert.equal(abandonGunzipJobs(id), 0, 'once');
    assert.equal(gunzipThreads(), 0, 'threads');
    assert.equal(fds(), f0, 'open files');
  });
});
