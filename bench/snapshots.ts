// Benchmark: root file systems, side by side in one run.
//  1. Applying a multi-layer image (>= 100 MB uncompressed, gzip layers made by GNU tar from
//     real directories of this machine): chrun (overlay form, layers in parallel; and copy
//     form) vs `umoci unpack` vs `tar -xzf` of the same layers one after another.
//  2. Preparing a container root from applied layers, mount included (overlay), and how the
//     mount call itself compares with spawning the C helper (why mount(2) goes through koffi).
//
//   npm run build:ts && env -u NODE_EXTRA_CA_CERTS node dist/bench/snapshots.js [--runs N]
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGunzip } from 'node:zlib';
import { blobLayer, SnapshotStore } from '../src/snapshots/index.js';
import { helperPath, mountAll, tryUnmount } from '../src/sys/index.js';
import { formatTable, runBench, type Subject } from './harness.js';
import { Trash } from './trash.js';

const self = fileURLToPath(import.meta.url);
const SOURCES = ['usr/lib/python3.11', 'usr/lib/gcc', 'etc'];

interface Layer {
  file: string;
  digest: string;
  size: number;
  diffId: string;
}

function sha256File(file: string, gunzip: boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    let s: NodeJS.ReadableStream = createReadStream(file);
    if (gunzip) s = s.pipe(createGunzip());
    s.on('data', (c: Buffer) => h.update(c));
    s.on('end', () => resolve(`sha256:${h.digest('hex')}`));
    s.on('error', reject);
  });
}

/** gzip layers of real directories, by GNU tar, in an OCI layout umoci can read. */
async function makeImage(dir: string): Promise<{ layers: Layer[]; bytes: number }> {
  const blobs = path.join(dir, 'layout', 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const layers: Layer[] = [];
  let bytes = 0;
  for (const [i, src] of SOURCES.entries()) {
    const file = path.join(dir, `layer${i}.tar.gz`);
    const r = spawnSync('tar', ['--numeric-owner', '-czf', file, '-C', '/', src], {
      stdio: 'inherit',
    });
    if (r.status !== 0) throw new Error(`tar of /${src} failed`);
    const digest = await sha256File(file, false);
    const diffId = await sha256File(file, true);
    const size = readFileSync(file).length;
    const unz = spawnSync('sh', ['-c', `gzip -dc ${file} | wc -c`], { encoding: 'utf8' });
    bytes += Number(unz.stdout.trim());
    spawnSync('cp', [file, path.join(blobs, digest.slice(7))]);
    layers.push({ file, digest, size, diffId });
  }
  const put = (obj: unknown) => {
    const data = Buffer.from(JSON.stringify(obj));
    const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
    writeFileSync(path.join(blobs, digest.slice(7)), data);
    return { digest, size: data.length };
  };
  const config = put({
    architecture: 'amd64',
    os: 'linux',
    config: {},
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
  });
  const manifest = put({
    schemaVersion: 2,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
    layers: layers.map((l) => ({
      mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
      digest: l.digest,
      size: l.size,
    })),
  });
  writeFileSync(path.join(dir, 'layout', 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(
    path.join(dir, 'layout', 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          ...manifest,
          annotations: { 'org.opencontainers.image.ref.name': 'bench' },
        },
      ],
    }),
  );
  writeFileSync(path.join(dir, 'layers.json'), JSON.stringify(layers));
  return { layers, bytes };
}

/** `--once chrun-overlay|chrun-copy DIR DEST`: one unpack in a fresh process. */
async function once(kind: 'overlay' | 'copy', dir: string, dest: string): Promise<void> {
  const layers = JSON.parse(readFileSync(path.join(dir, 'layers.json'), 'utf8')) as Layer[];
  const store = SnapshotStore.open({ root: dest, snapshotter: kind });
  await store.unpack(
    layers.map((l) =>
      // as a pull gives them: stored files, applied in a worker thread
      blobLayer({
        ...l,
        open: () => createReadStream(l.file, { highWaterMark: 256 * 1024 }),
        path: () => Promise.resolve(l.file),
      }),
    ),
  );
}

function median(a: number[]): number {
  const s = [...a].sort((x, y) => x - y);
  return s[s.length >> 1]!;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--once') {
    await once(args[1] as 'overlay' | 'copy', args[2]!, args[3]!);
    return;
  }
  const runsAt = args.indexOf('--runs');
  const runs = runsAt >= 0 ? Number(args[runsAt + 1]) : 5;
  const dir = path.join(os.tmpdir(), `chrun-bench-snap-${process.pid}`);
  mkdirSync(dir);
  try {
    const { layers, bytes } = await makeImage(dir);
    const dest = path.join(dir, 'dest');
    // Each run's tree is set aside, the disk synced and the tree evicted from the page cache
    // before the next (see trash.ts).
    const trash = new Trash(path.join(dir, 'trash'));
    const clean = trash.clear(dest);
    const node = process.execPath;
    const tarAll = layers.map((l) => `tar -xzf ${l.file} -C ${dest}`).join(' && ');
    const subjects: Subject[] = [
      {
        name: 'tar -xzf (sequential)',
        argv: ['sh', '-c', `mkdir -p ${dest} && ${tarAll}`],
        setup: clean,
      },
      {
        name: 'chrun overlay (parallel)',
        argv: [node, self, '--once', 'overlay', dir, dest],
        setup: clean,
      },
      { name: 'chrun copy', argv: [node, self, '--once', 'copy', dir, dest], setup: clean },
      {
        name: 'umoci unpack',
        argv: ['umoci', 'unpack', '--image', `${path.join(dir, 'layout')}:bench`, dest],
        setup: clean,
      },
    ];
    console.log(
      `apply: ${layers.length} gzip layers, ${(bytes / 1e6).toFixed(0)} MB uncompressed, ` +
        `${(layers.reduce((n, l) => n + l.size, 0) / 1e6).toFixed(0)} MB compressed; ${runs} runs each, interleaved`,
    );
    console.log(formatTable(await runBench(subjects, { runs, warmup: 1 })));

    // 2. Preparing a container root.
    const store = SnapshotStore.open({ root: path.join(dir, 'prep'), snapshotter: 'overlay' });
    const { chainIds } = await store.unpack(
      layers.map((l) => blobLayer({ ...l, open: () => createReadStream(l.file) })),
    );
    let n = 0;
    const prepare: number[] = [];
    for (let i = 0; i < 200; i++) {
      const key = `c${n++}`;
      const t0 = performance.now();
      store.prepare(key, chainIds);
      store.mountRoot(key);
      prepare.push(performance.now() - t0);
      store.remove(key);
    }
    // The mount call alone: in-process (koffi) against a C helper process per call.
    const o = path.join(dir, 'o');
    for (const d of ['l1', 'l2', 'u', 'w', 'm']) mkdirSync(path.join(o, d), { recursive: true });
    const m = [
      {
        type: 'overlay',
        source: 'overlay',
        options: [`lowerdir=${o}/l2:${o}/l1`, `upperdir=${o}/u`, `workdir=${o}/w`],
      },
    ];
    const inProcess: number[] = [];
    const helper: number[] = [];
    for (let i = 0; i < 100; i++) {
      let t0 = performance.now();
      mountAll(m, `${o}/m`);
      inProcess.push(performance.now() - t0);
      tryUnmount(`${o}/m`);
      t0 = performance.now();
      spawnSync(helperPath(), ['version']);
      helper.push(performance.now() - t0);
    }
    console.log(
      `\nprepare a container root (${chainIds.length} layers, overlay, mounted on the host): ` +
        `median ${median(prepare).toFixed(2)} ms over ${prepare.length} (target < 5 ms)`,
    );
    console.log(
      `mount(2) of an overlay: in-process ${median(inProcess).toFixed(3)} ms; one C helper process ` +
        `(spawn + exit, no work: a lower bound for a helper mount subcommand) ${median(helper).toFixed(3)} ms ` +
        `(${(median(helper) / median(inProcess)).toFixed(1)}x)`,
    );
  } finally {
    for (const key of SnapshotStore.open({
      root: path.join(dir, 'prep'),
      snapshotter: 'overlay',
    }).list()) {
      SnapshotStore.open({ root: path.join(dir, 'prep'), snapshotter: 'overlay' }).remove(key);
    }
    tryUnmount(path.join(dir, 'o', 'm'));
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
