import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  HOSTILE_KINDS,
  buildImage,
  busyboxLayer,
  hostileLayers,
  writeDockerArchive,
  writeOciLayout,
} from '../helpers/image-builder.js';
import { registryFor } from '../helpers/image-fixtures.js';
import { testNoLeaks } from '../helpers/leak-check.js';
import { needsCommands } from '../helpers/requirements.js';
import { BUSYBOX_CONFIG, fileRunEnv } from '../helpers/run-env.js';

/*
 * Images and their layer snapshots through bin/chrun: pull, load and import apply layers
 * before a name is registered (a hostile layer fails and registers nothing), rmi and image
 * prune collect the snapshots, run pulls a missing image.
 */

const { env, opts } = fileRunEnv();

/** The layer snapshots of the store (overlay form), by chain. */
function snapshotChains(): string[] {
  try {
    return readdirSync(path.join(env.root, 'snapshots', 'overlay', 'chains')).sort();
  } catch {
    return [];
  }
}

/**
 * Kinds whose entries land inside the root, not refused: a symlink replaced (as docker does),
 * or followed the way the container would see it (absolute targets from the root, '..'
 * stopping at the root, as umoci and containerd do).
 */
const CONTAINED = new Set([
  'symlink-write',
  'symlink-relative-write',
  'symlink-chain-write',
  'symlink-then-dir',
  'symlink-lower-layer',
  'symlink-overwrite-target',
  'whiteout-through-symlink',
  'opaque-through-symlink',
]);

function victimIntact(victim: string): void {
  assert.deepEqual(readdirSync(victim), ['secret']);
  assert.equal(readFileSync(path.join(victim, 'secret'), 'utf8'), 'do not touch\n');
}

testNoLeaks(
  'a hostile layer fails the load with a clear message and registers nothing',
  opts,
  async () => {
    const victim = path.join(env.dir, 'victim');
    await mkdir(victim, { recursive: true });
    await writeFile(path.join(victim, 'secret'), 'do not touch\n');
    const images = (await env.chrun(['images', '-q'])).stdout;
    const chains = snapshotChains();
    for (const kind of HOSTILE_KINDS) {
      const image = await buildImage({
        layers: [busyboxLayer(), ...hostileLayers(kind, { victim })],
        config: BUSYBOX_CONFIG,
      });
      const file = path.join(env.dir, `hostile-${kind}.tar`);
      await writeDockerArchive(file, image, [`hostile/${kind}:1`]);
      const r = await env.chrun(['load', '-i', file]);
      victimIntact(victim);
      if (CONTAINED.has(kind)) {
        assert.equal(r.code, 0, `${kind}: ${r.stderr}`);
        assert.equal((await env.chrun(['rmi', `hostile/${kind}:1`])).code, 0);
      } else {
        assert.equal(r.code, 125, `${kind}: ${r.stdout}${r.stderr}`);
        const lines = r.stderr.trimEnd().split('\n');
        assert.equal(lines.length, 1, `${kind}: ${r.stderr}`);
        assert.match(lines[0]!, /^chrun: apply layer sha256:[0-9a-f]{64}: /, kind);
      }
      assert.equal(
        (await env.chrun(['images', '-q'])).stdout,
        images,
        `${kind}: nothing registered`,
      );
      assert.deepEqual(snapshotChains(), chains, `${kind}: no snapshot left`);
    }
  },
);

testNoLeaks(
  'a hostile layer fails the pull from a registry; run pulls a missing image',
  { ...opts, skip: opts.skip || needsCommands('docker-registry', 'skopeo') },
  async (t) => {
    const reg = await registryFor(t);
    const victim = path.join(env.dir, 'victim-pull');
    await mkdir(victim, { recursive: true });
    await writeFile(path.join(victim, 'secret'), 'do not touch\n');
    const layout = path.join(env.dir, 'layout');
    const evil = await buildImage({
      layers: [busyboxLayer(), ...hostileLayers('dotdot', { victim })],
      config: BUSYBOX_CONFIG,
    });
    await writeOciLayout(layout, evil, 'evil');
    await reg.seed(`oci:${layout}:evil`, 'test/evil:1');
    const chains = snapshotChains();
    const pull = await env.chrun(['pull', '-q', `${reg.host}/test/evil:1`]);
    assert.equal(pull.code, 125, pull.stderr);
    assert.match(pull.stderr, /^chrun: apply layer sha256:[0-9a-f]{64}: entry '.*pwned' .*\n$/);
    victimIntact(victim);
    assert.doesNotMatch((await env.chrun(['images'])).stdout, /test\/evil/);
    assert.deepEqual(snapshotChains(), chains);

    const good = await buildImage({
      layers: [busyboxLayer()],
      config: { ...BUSYBOX_CONFIG, Cmd: ['echo', 'pulled and run'] },
    });
    await writeOciLayout(layout, good, 'good');
    await reg.seed(`oci:${layout}:good`, 'test/good:1');
    const ref = `${reg.host}/test/good:1`;
    const r = await env.chrun(['run', '--rm', ref]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'pulled and run\n');
    assert.match(r.stderr, new RegExp(`^Unable to find image '${ref}' locally\n`));
    const again = await env.chrun(['run', '--rm', ref]);
    assert.equal(again.stderr, '', 'no pull when the image is there');
    assert.equal((await env.chrun(['rmi', ref])).code, 0);
    assert.deepEqual(snapshotChains(), chains, 'rmi collects its snapshots');
  },
);

testNoLeaks(
  'rmi and image prune collect layer snapshots no image or container needs',
  opts,
  async () => {
    const before = snapshotChains();
    await env.load('extra:1', [
      busyboxLayer(),
      {
        entries: [{ header: { path: 'extra', type: 'file', mode: 0o644 }, body: Buffer.from('x') }],
      },
    ]);
    const loaded = snapshotChains();
    assert.equal(loaded.length, before.length + 2, 'two layers applied once each');
    // a stopped container keeps its image (and its snapshots) until it is removed
    assert.equal(
      (await env.chrun(['run', '--name', 'user1', 'extra:1', 'cat', '/extra'])).stdout,
      'x',
    );
    assert.equal((await env.chrun(['rmi', 'extra:1'])).code, 125);
    const forced = await env.chrun(['rmi', '-f', 'extra:1']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.deepEqual(snapshotChains(), loaded, 'the container still needs them');
    assert.equal((await env.chrun(['rm', 'user1'])).code, 0);
    const prune = await env.chrun(['image', 'prune', '-f']);
    assert.equal(prune.code, 0, prune.stderr);
    assert.deepEqual(snapshotChains(), before);
    const df = JSON.parse((await env.chrun(['system', 'df', '--format', 'json'])).stdout) as {
      snapshots: { count: number };
      containers: { count: number };
    };
    assert.equal(df.snapshots.count, before.length);
    assert.equal(df.containers.count, 0);
  },
);
