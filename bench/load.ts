// Loading a `docker save` archive of a multi-layer image (> 100 MB of layers), side by
// side in one run: `chrun load -i` (into a fresh store each run) vs `skopeo copy
// docker-archive:` to an OCI directory vs `podman load` (into a fresh storage each run).
// Ratios are to skopeo's median.
//
//   npm run build && env -u NODE_EXTRA_CA_CERTS node dist/bench/load.js [--runs N]
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { benchMain, type Prepared } from './cli.js';
import { probe, type Subject } from './harness.js';
import { benchImage } from './image-source.js';
import { podmanSubject } from './podman.js';
import { Trash } from './trash.js';

const run = promisify(execFile);
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const chrun = path.join(repoRoot, 'bin/chrun');

async function prepare(): Promise<Prepared> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'chrun-bench-load-'));
  const dispose = (): Promise<void> => rm(work, { recursive: true, force: true });
  try {
    const image = await benchImage(work);
    const archive = path.join(work, 'image.tar');
    // skopeo writes the archive (gzip layers are stored as they are).
    await run('skopeo', [
      '--insecure-policy',
      'copy',
      '--quiet',
      `oci:${image.layout}:bench`,
      `docker-archive:${archive}:bench/image:1`,
    ]);
    process.stderr.write(
      `bench: docker archive of ${image.layers} layers, ${(image.bytes / 1e6).toFixed(1)} MB of blobs\n`,
    );
    const store = path.join(work, 'chrun');
    const oci = path.join(work, 'skopeo');
    // Each run's output is set aside, not deleted before the next run (see trash.ts), and
    // the disk is synced and the set-aside output evicted from the page cache first (see
    // evict.ts): no run pays for what the previous one freed, wrote or holds in memory.
    const trash = new Trash(path.join(work, 'trash'));
    const candidates: Subject[] = [
      {
        name: 'skopeo copy',
        argv: [
          'skopeo',
          '--insecure-policy',
          'copy',
          '--quiet',
          `docker-archive:${archive}`,
          `oci:${oci}:x`,
        ],
        setup: trash.clear(oci),
      },
      {
        name: 'chrun load',
        argv: [chrun, '--root', store, 'load', '-q', '-i', archive],
        setup: trash.clear(store),
      },
      podmanSubject('podman load', work, ['load', '-q', '-i', archive], trash),
    ];
    const subjects: Subject[] = [];
    const skipped: { name: string; reason: string }[] = [];
    for (const s of candidates) {
      const why = await probe(s);
      if (why === undefined) subjects.push(s);
      else skipped.push({ name: s.name, reason: why });
    }
    return { subjects, skipped, dispose };
  } catch (err) {
    await dispose();
    throw err;
  }
}

await benchMain({
  title: 'load a docker-archive of a 4-layer image (> 100 MB)',
  defaults: { runs: 5, warmup: 1, baseline: 'skopeo copy' },
  prepare,
});
