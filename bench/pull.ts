// Pulling a multi-layer image (> 100 MB of blobs, four gzip layers) from a loopback
// registry, side by side in one run:
//   - `skopeo copy` to an OCI directory: the download alone (verified blobs on disk);
//   - `chrun pull -q`: into a fresh store each run, layers applied into snapshots, and the
//     same with CHRUN_GUNZIP=zlib (node:zlib instead of libchrun-gunzip.so's ISA-L);
//   - chrun's download part: the same library pull without the unpack step
//     (bench/pull-download.ts, bundled as the CLI is, a process of its own);
//   - `podman pull -q`: a fresh storage each run, layers applied (runc and the ulimits of
//     bench/install-peers.sh, see bench/podman.ts).
// The targets are printed after the table: chrun pull <= 1/3 of podman pull, and
// chrun's download part <= 1.5x skopeo copy.
//
//   npm run build && env -u NODE_EXTRA_CA_CERTS node dist/bench/pull.js [--runs N]
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startRegistry } from '../test/helpers/registry.js';
import { benchMain, type Prepared } from './cli.js';
import { probe, type BenchResult, type Subject } from './harness.js';
import { benchImage } from './image-source.js';
import { podmanSetupProblem, podmanSubject } from './podman.js';
import { Trash } from './trash.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../..');
const chrun = path.join(repoRoot, 'bin/chrun');

const SKOPEO = 'skopeo copy';
const CHRUN = 'chrun pull';
const CHRUN_ZLIB = 'chrun pull, node:zlib';
const DOWNLOAD = 'chrun pull, download part';
const PODMAN = 'podman pull';

/**
 * bench/pull-download.ts bundled as the CLI is (scripts/bundle.mjs's bundle()), into
 * dist/bench/pull-download.cjs.
 */
async function bundleDownloadPart(): Promise<string> {
  const script = pathToFileURL(path.join(repoRoot, 'scripts', 'bundle.mjs')).href;
  const { bundle } = (await import(script)) as {
    bundle: (entryPoints: Record<string, string>, outdir: string) => Promise<void>;
  };
  await bundle({ 'pull-download': 'bench/pull-download.ts' }, here);
  return path.join(here, 'pull-download.cjs');
}

async function prepare(): Promise<Prepared> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'chrun-bench-pull-'));
  const reg = await startRegistry();
  const dispose = async (): Promise<void> => {
    await reg.stop();
    await rm(work, { recursive: true, force: true });
  };
  try {
    const image = await benchImage(work);
    process.stderr.write(
      `bench: image of ${image.layers} layers, ${(image.bytes / 1e6).toFixed(1)} MB of blobs\n`,
    );
    await reg.seed(`oci:${image.layout}:bench`, 'bench/image:1');
    const ref = `${reg.host}/bench/image:1`;
    const store = path.join(work, 'chrun');
    const downloadStore = path.join(work, 'chrun-download');
    const oci = path.join(work, 'skopeo');
    // Each run's output is set aside, not deleted before the next run (see trash.ts), and
    // the disk is synced and the set-aside output evicted from the page cache first (see
    // evict.ts): no run pays for writing back, or for the memory of, what the previous wrote.
    const trash = new Trash(path.join(work, 'trash'));
    const candidates: Subject[] = [
      {
        name: SKOPEO,
        argv: [
          'skopeo',
          '--insecure-policy',
          'copy',
          '--quiet',
          '--src-tls-verify=false',
          `docker://${ref}`,
          `oci:${oci}:x`,
        ],
        env: { REGISTRY_AUTH_FILE: path.join(reg.dir, 'auth.json') },
        setup: trash.clear(oci),
      },
      {
        name: CHRUN,
        argv: [chrun, '--root', store, 'pull', '-q', ref],
        setup: trash.clear(store),
      },
      // The same pull without libchrun-gunzip.so (ISA-L): what a build without libisal-dev gets.
      {
        name: CHRUN_ZLIB,
        argv: [chrun, '--root', store, 'pull', '-q', ref],
        env: { CHRUN_GUNZIP: 'zlib' },
        setup: trash.clear(store),
      },
      {
        name: DOWNLOAD,
        argv: [process.execPath, await bundleDownloadPart(), downloadStore, ref],
        setup: trash.clear(downloadStore),
      },
      podmanSubject(PODMAN, work, ['pull', '-q', '--tls-verify=false', ref], trash),
    ];
    const subjects: Subject[] = [];
    const skipped: { name: string; reason: string }[] = [];
    for (const s of candidates) {
      const why = s.name === PODMAN ? (podmanSetupProblem() ?? (await probe(s))) : await probe(s);
      if (why === undefined) subjects.push(s);
      else skipped.push({ name: s.name, reason: why });
    }
    return { subjects, skipped, dispose };
  } catch (err) {
    await dispose();
    throw err;
  }
}

/** The two targets, from the medians of one run. */
function targets(result: BenchResult): string[] {
  const median = (name: string): number | undefined =>
    result.subjects.find((s) => s.name === name)?.median;
  const lines: string[] = [];
  const c = median(CHRUN);
  const p = median(PODMAN);
  const d = median(DOWNLOAD);
  const s = median(SKOPEO);
  if (c !== undefined && p !== undefined) {
    const r = c / p;
    lines.push(
      `target: chrun pull / podman pull = ${r.toFixed(2)} (<= 0.33: ${r <= 1 / 3 ? 'met' : 'NOT met'})`,
    );
  }
  if (d !== undefined && s !== undefined) {
    const r = d / s;
    lines.push(
      `target: chrun download part / skopeo copy = ${r.toFixed(2)} (<= 1.50: ${r <= 1.5 ? 'met' : 'NOT met'})`,
    );
  }
  return lines;
}

const result = await benchMain({
  title: 'pull a 4-layer image (> 100 MB) from a loopback registry',
  defaults: { runs: 5, warmup: 1, baseline: SKOPEO },
  prepare,
});
if (result !== undefined && !process.argv.includes('--json')) {
  process.stdout.write(`${targets(result).join('\n')}\n`);
}
