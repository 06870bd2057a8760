// The download part of a chrun pull, for bench/pull.ts: the same library pull as
// `chrun pull` (manifests, blobs verified and stored, the name registered) with the
// snapshotter's unpack step left out, in a process of its own like the CLI's. bench/pull.ts
// runs it bundled into one CommonJS file as the CLI is (dist/bench/pull-download.cjs, see
// bundleDownloadPart()), not as ~100 ES modules from dist/src: loading those cost
// 0.15-0.25 s more than the CLI pays.
//
//   node dist/bench/pull-download.js STORE REFERENCE
import { Engine } from '../src/engine/index.js';

async function main(): Promise<void> {
  const [root, ref] = process.argv.slice(2);
  if (root === undefined || ref === undefined) {
    process.stderr.write('usage: pull-download.js STORE REFERENCE\n');
    process.exit(2);
  }
  const engine = new Engine({ root });
  engine.images.unpacker = undefined;
  await engine.images.pull(ref);
}

// no top-level await: the bench bundles this file as CommonJS
main().catch((err: unknown) => {
  process.stderr.write(`pull-download: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
