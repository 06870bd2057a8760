// Benchmark: reading a ~100 MB layer with chrun's tar reader against GNU tar and the raw
// decompressors, side by side in one run. Every case is a fresh process (node start included
// for ours), timed with a warm-up and N runs; ratios are against the peers.
//
//   npm run build:ts && env -u NODE_EXTRA_CA_CERTS node dist/bench/tar-read.js [--runs N] [--mb M]
import { spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { compress, decompress, packTar, readTar, type TarWriteEntry } from '../src/tar/index.js';

const self = fileURLToPath(import.meta.url);

/** The work one child process does (`--once MODE FILE`). */
async function once(mode: string, file: string): Promise<void> {
  if (mode === 'node-gunzip') {
    let n = 0;
    for await (const c of createReadStream(file).pipe(createGunzip({ chunkSize: 64 * 1024 }))) {
      n += (c as Buffer).length;
    }
    if (n === 0) throw new Error('nothing read');
    return;
  }
  // chrun: every entry, every body byte touched (as a layer applier would read them).
  let entries = 0;
  let bytes = 0;
  for await (const e of readTar(
    decompress(createReadStream(file, { highWaterMark: 256 * 1024 })),
  )) {
    entries++;
    for await (const c of e.body) bytes += c.length;
  }
  if (entries === 0 || bytes === 0) throw new Error('nothing read');
}

/** A layer of about `mb` MB: a few big files, many small ones, half noise, half text. */
function* layerEntries(mb: number): Generator<TarWriteEntry> {
  let seed = 42;
  const noise = (n: number): Buffer => {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i += 4) {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      b.writeUInt32LE(seed, Math.min(i, n - 4));
    }
    return b;
  };
  const text = Buffer.from('the quick brown fox jumps over the lazy dog 0123456789\n'.repeat(4096));
  let total = 0;
  let i = 0;
  while (total < mb * 1024 * 1024) {
    const dir = `usr/lib/pkg${Math.floor(i / 50)}`;
    if (i % 50 === 0) yield { header: { path: `${dir}/`, type: 'directory', mtime: 1700000000 } };
    const size = i % 100 === 0 ? 4 * 1024 * 1024 : 1000 + ((i * 7919) % 60000);
    const body = i % 2 === 0 ? noise(size) : Buffer.concat([text], size);
    yield { header: { path: `${dir}/file-${i}.so`, type: 'file', mtime: 1700000000 }, body };
    if (i % 10 === 0) {
      yield { header: { path: `${dir}/link-${i}`, type: 'symlink', linkname: `file-${i}.so` } };
    }
    total += size;
    i++;
  }
}

interface Stats {
  min: number;
  median: number;
  max: number;
}

function time(cmd: string, args: string[], runs: number, after?: () => void): Stats {
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  const one = (): number => {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], env });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr.toString()}`);
    after?.();
    return ms;
  };
  one(); // warm-up
  const xs = Array.from({ length: runs }, one).sort((a, b) => a - b);
  return { min: xs[0]!, median: xs[Math.floor(xs.length / 2)]!, max: xs[xs.length - 1]! };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--once') {
    await once(args[1]!, args[2]!);
    return;
  }
  const opt = (name: string, def: number): number => {
    const i = args.indexOf(name);
    return i >= 0 ? Number(args[i + 1]) : def;
  };
  const runs = opt('--runs', 5);
  const mb = opt('--mb', 100);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chrun-bench-tar-'));
  try {
    const plain = path.join(dir, 'layer.tar');
    const gz = path.join(dir, 'layer.tar.gz');
    const zst = path.join(dir, 'layer.tar.zst');
    await pipeline(Readable.from(packTar(layerEntries(mb))), createWriteStream(plain));
    await pipeline(Readable.from(compress(createReadStream(plain), 'gzip')), createWriteStream(gz));
    await pipeline(
      Readable.from(compress(createReadStream(plain), 'zstd')),
      createWriteStream(zst),
    );
    const size = async (f: string): Promise<string> =>
      `${((await stat(f)).size / 1e6).toFixed(1)} MB`;
    console.log(
      `layer: ${await size(plain)} tar, ${await size(gz)} gzip, ${await size(zst)} zstd; ${runs} runs after a warm-up`,
    );
    const out = path.join(dir, 'out');
    const fresh = (): void => {
      spawnSync('rm', ['-rf', out]);
      spawnSync('mkdir', [out]);
    };
    fresh();
    const node = process.execPath;
    const cases: [string, string, string[], (() => void)?][] = [
      ['gzip -dc', 'gzip', ['-dc', gz]],
      ['node gunzip (no tar)', node, [self, '--once', 'node-gunzip', gz]],
      ['tar -tzf', 'tar', ['-tzf', gz]],
      ['tar -xzf', 'tar', ['-xzf', gz, '-C', out], fresh],
      ['chrun readTar gzip', node, [self, '--once', 'read', gz]],
      ['zstd -dc', 'zstd', ['-dcq', zst]],
      ['tar --zstd -tf', 'tar', ['--zstd', '-tf', zst]],
      ['chrun readTar zstd', node, [self, '--once', 'read', zst]],
      ['tar -tf', 'tar', ['-tf', plain]],
      ['chrun readTar plain', node, [self, '--once', 'read', plain]],
      ['node start (empty)', node, ['-e', '0']],
    ];
    const results = new Map<string, Stats>();
    for (const [name, cmd, a, after] of cases) {
      const s = time(cmd, a, runs, after);
      results.set(name, s);
      console.log(
        `${name.padEnd(24)} min ${s.min.toFixed(0).padStart(6)} ms  median ${s.median.toFixed(0).padStart(6)} ms  max ${s.max.toFixed(0).padStart(6)} ms`,
      );
    }
    const ratio = (a: string, b: string): void => {
      const x = results.get(a)!.median;
      const y = results.get(b)!.median;
      console.log(`  ${a} / ${b}: ${(x / y).toFixed(2)}`);
    };
    console.log('ratios (median):');
    ratio('chrun readTar gzip', 'gzip -dc');
    ratio('chrun readTar gzip', 'node gunzip (no tar)');
    ratio('chrun readTar gzip', 'tar -tzf');
    ratio('chrun readTar gzip', 'tar -xzf');
    ratio('chrun readTar zstd', 'zstd -dc');
    ratio('chrun readTar zstd', 'tar --zstd -tf');
    ratio('chrun readTar plain', 'tar -tf');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
