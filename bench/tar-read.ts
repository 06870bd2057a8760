// Reading a ~100 MB layer with chrun's tar reader (every entry, every body byte), side by side
// with GNU tar, the raw decompressors and node doing the same I/O without tar, each a fresh
// process (node start included for ours). GNU tar -t seeks over bodies of an uncompressed
// archive; a layer applier has to read them, so 'node read (no tar)' is the fair floor there.
//   npm run build:ts && node dist/bench/tar-read.js [--runs N] [--warmup N] [--json FILE]
// CHRUN_BENCH_TAR_MB sets the layer size (default 100).
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createGunzip } from 'node:zlib';
import { compress, decompress, packTar, readTar, type TarWriteEntry } from '../src/tar/index.js';
import { benchMain, type Prepared } from './cli.js';
import type { Subject } from './harness.js';

const self = fileURLToPath(import.meta.url);

/** The work of one measured child process: `--once MODE FILE`. */
async function once(mode: string, file: string): Promise<void> {
  let bytes = 0;
  if (mode === 'node-gunzip') {
    const gunzip = createGunzip({ chunkSize: 64 * 1024 });
    for await (const c of createReadStream(file).pipe(gunzip)) bytes += (c as Buffer).length;
  } else if (mode === 'node-read') {
    for await (const c of createReadStream(file, { highWaterMark: 256 * 1024 })) {
      bytes += (c as Buffer).length;
    }
  } else if (mode === 'node-zstd') {
    const child = spawn('zstd', ['-dcq', file], { stdio: ['ignore', 'pipe', 'inherit'] });
    for await (const c of child.stdout) bytes += (c as Buffer).length;
  } else {
    const source = createReadStream(file, { highWaterMark: 256 * 1024 });
    for await (const e of readTar(decompress(source))) {
      for await (const c of e.body) bytes += c.length;
    }
  }
  if (bytes === 0) throw new Error('read nothing');
}

/** A layer of about `mb` MB: 4 MiB files and many small ones, half noise, half text. */
function* layerEntries(mb: number): Generator<TarWriteEntry> {
  let seed = 42;
  const noise = (n: number): Buffer => {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i + 4 <= n; i += 4) {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      b.writeUInt32LE(seed, i);
    }
    return b;
  };
  const text = Buffer.from('the quick brown fox jumps over the lazy dog 0123456789\n'.repeat(4096));
  let total = 0;
  for (let i = 0; total < mb * 1024 * 1024; i++) {
    const dir = `usr/lib/pkg${Math.floor(i / 50)}`;
    if (i % 50 === 0) yield { header: { path: `${dir}/`, type: 'directory', mtime: 1700000000 } };
    const size = i % 100 === 0 ? 4 * 1024 * 1024 : 1000 + ((i * 7919) % 60000);
    const body = i % 2 === 0 ? noise(size) : Buffer.concat([text], size);
    yield { header: { path: `${dir}/file-${i}.so`, type: 'file', mtime: 1700000000 }, body };
    if (i % 10 === 0) {
      yield { header: { path: `${dir}/link-${i}`, type: 'symlink', linkname: `file-${i}.so` } };
    }
    total += size;
  }
}

async function prepare(): Promise<Prepared> {
  const mb = Number(process.env.CHRUN_BENCH_TAR_MB ?? '100');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chrun-bench-tar-'));
  const plain = path.join(dir, 'layer.tar');
  const gz = path.join(dir, 'layer.tar.gz');
  const zst = path.join(dir, 'layer.tar.zst');
  await pipeline(Readable.from(packTar(layerEntries(mb))), createWriteStream(plain));
  await pipeline(Readable.from(compress(createReadStream(plain), 'gzip')), createWriteStream(gz));
  await pipeline(Readable.from(compress(createReadStream(plain), 'zstd')), createWriteStream(zst));
  const size = async (f: string): Promise<string> =>
    `${((await stat(f)).size / 1e6).toFixed(1)} MB`;
  process.stderr.write(
    `bench: layer ${await size(plain)} tar, ${await size(gz)} gzip, ${await size(zst)} zstd\n`,
  );
  const out = path.join(dir, 'out');
  const node = process.execPath;
  const subjects: Subject[] = [
    { name: 'gzip -dc', argv: ['gzip', '-dc', gz] },
    { name: 'node gunzip (no tar)', argv: [node, self, '--once', 'node-gunzip', gz] },
    { name: 'tar -tzf', argv: ['tar', '-tzf', gz] },
    {
      name: 'tar -xzf',
      argv: ['tar', '-xzf', gz, '-C', out],
      setup: [['mkdir', '-p', out]],
      cleanup: [['rm', '-rf', out]],
    },
    { name: 'chrun readTar gzip', argv: [node, self, '--once', 'read', gz] },
    { name: 'zstd -dc', argv: ['zstd', '-dcq', zst] },
    { name: 'tar --zstd -tf', argv: ['tar', '--zstd', '-tf', zst] },
    { name: 'node zstd pipe (no tar)', argv: [node, self, '--once', 'node-zstd', zst] },
    { name: 'chrun readTar zstd', argv: [node, self, '--once', 'read', zst] },
    { name: 'tar -tf', argv: ['tar', '-tf', plain] },
    { name: 'node read (no tar)', argv: [node, self, '--once', 'node-read', plain] },
    { name: 'chrun readTar plain', argv: [node, self, '--once', 'read', plain] },
    { name: 'node -e 0', argv: [node, '-e', '0'] },
  ];
  return { subjects, dispose: () => rm(dir, { recursive: true, force: true }) };
}

if (process.argv[2] === '--once') {
  await once(process.argv[3]!, process.argv[4]!);
} else {
  const result = await benchMain({
    title: 'tar-read: reading a layer, chrun readTar vs gzip/zstd/GNU tar',
    defaults: { runs: 5, warmup: 1, baseline: 'gzip -dc' },
    prepare,
  });
  if (result !== undefined) {
    const median = (name: string): number | undefined =>
      result.subjects.find((s) => s.name === name)?.median;
    const pairs: [string, string][] = [
      ['chrun readTar gzip', 'node gunzip (no tar)'],
      ['chrun readTar gzip', 'tar -tzf'],
      ['chrun readTar gzip', 'tar -xzf'],
      ['chrun readTar zstd', 'node zstd pipe (no tar)'],
      ['chrun readTar zstd', 'zstd -dc'],
      ['chrun readTar zstd', 'tar --zstd -tf'],
      ['chrun readTar plain', 'node read (no tar)'],
      ['chrun readTar plain', 'tar -tf'],
    ];
    for (const [a, b] of pairs) {
      const x = median(a);
      const y = median(b);
      if (x !== undefined && y !== undefined) console.log(`${a} / ${b}: ${(x / y).toFixed(2)}`);
    }
  }
}
