// Pulling a multi-layer image (> 100 MB of blobs, four gzip layers) from a loopback
// registry, side by side in one run: `chrun pull` (into a fresh store each run) vs
// `skopeo copy` to an OCI directory (the download alone) vs `podman pull` (into a fresh
// storage each run, layers applied). Ratios are to skopeo's median.
//
//   npm run build && env -u NODE_EXTRA_CA_CERTS node dist/bench/pull.js [--runs N]
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRegistry } from '../test/helpers/registry.js';
import { benchMain, type Prepared } from './cli.js';
import { probe, type Subject } from './harness.js';
import { benchImage } from './image-source.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const chrun = path.join(repoRoot, 'bin/chrun');

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
    const oci = path.join(work, 'skopeo');
    const podRoot = path.join(work, 'podman');
    const podRun = path.join(work, 'podman-run');
    const candidates: Subject[] = [
      {
        name: 'skopeo copy',
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
        setup: [['rm', '-rf', oci]],
      },
      {
        name: 'chrun pull',
        argv: [chrun, '--root', store, 'pull', '-q', ref],
        setup: [['rm', '-rf', store]],
      },
      {
        name: 'podman pull',
        argv: [
          'podman',
          '--root',
          podRoot,
          '--runroot',
          podRun,
          '--storage-driver',
          'overlay',
          'pull',
          '-q',
          '--tls-verify=false',
          ref,
        ],
        setup: [['rm', '-rf', podRoot, podRun]],
        cleanup: [
          [
            'podman',
            '--root',
            podRoot,
            '--runroot',
            podRun,
            '--storage-driver',
            'overlay',
            'system',
            'reset',
            '-f',
          ],
        ],
      },
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
  title: 'pull a 4-layer image (> 100 MB) from a loopback registry',
  defaults: { runs: 5, warmup: 1, baseline: 'skopeo copy' },
  prepare,
});
