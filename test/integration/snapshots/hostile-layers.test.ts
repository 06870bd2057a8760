import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { Engine } from '../../../src/engine/index.js';
import { blobLayer, SnapshotStore } from '../../../src/snapshots/index.js';
import { isChrunError } from '../../../src/util/index.js';
import {
  HOSTILE_KINDS,
  buildImage,
  busyboxLayer,
  hostileLayers,
  writeOciLayout,
  type BuiltImage,
  type HostileKind,
} from '../../helpers/image-builder.js';
import { dirFor, leaks, registryFor } from '../../helpers/image-fixtures.js';
import { testNoLeaks } from '../../helpers/leak-check.js';
import { needsRoot, needsRootAnd } from '../../helpers/requirements.js';

/*
 * Every hostile kind of test/helpers/images/hostile.ts through the snapshotter (both forms)
 * and through a pull from a registry (load is covered through bin/chrun in
 * test/e2e/run-images.test.ts). A kind whose entries name a place outside the root is refused
 * with a clear message, and nothing of the image stays; a kind that only goes through
 * symlinks lands inside the root, where the container would see it.
 */

/** Where each contained kind's write lands inside the root (VICTIM: the victim's path). */
const CONTAINED: Partial<Record<HostileKind, string | null>> = {
  'symlink-write': 'VICTIM/pwned',
  'symlink-relative-write': 'VICTIM/pwned',
  'symlink-chain-write': 'VICTIM/pwned',
  'symlink-then-dir': 'etc/pwned',
  'symlink-lower-layer': 'VICTIM/pwned',
  'symlink-overwrite-target': 'victim-link',
  'whiteout-through-symlink': null,
  'opaque-through-symlink': null,
};

function setUpVictim(dir: string): string {
  const victim = path.join(dir, 'victim');
  mkdirSync(victim);
  writeFileSync(path.join(victim, 'secret'), 'do not touch\n');
  return victim;
}

function victimIntact(victim: string, kind: string): void {
  assert.deepEqual(readdirSync(victim), ['secret'], kind);
  assert.equal(readFileSync(path.join(victim, 'secret'), 'utf8'), 'do not touch\n', kind);
}

function image(kind: HostileKind, victim: string): Promise<BuiltImage> {
  return buildImage({
    layers: [busyboxLayer(), ...hostileLayers(kind, { victim, compression: 'gzip' })],
    config: { Cmd: ['sh'] },
  });
}

function refusal(err: unknown, kind: string): void {
  assert.ok(
    isChrunError(err, 'CHRUN_LAYER_UNSAFE') || isChrunError(err, 'CHRUN_LAYER_INVALID'),
    `${kind}: refused with a clear error, got ${String(err)}`,
  );
  assert.match(err.message, /^apply layer sha256:[0-9a-f]{64}: entry '.+' /, kind);
}

for (const form of ['overlay', 'copy'] as const) {
  describe(`hostile layers through the snapshotter (${form})`, { skip: needsRoot() }, () => {
    for (const kind of HOSTILE_KINDS) {
      test(kind, async (t: TestContext) => {
        const dir = await dirFor(t, 'chrun-snap-hostile-');
        const victim = setUpVictim(dir);
        const img = await image(kind, victim);
        const store = SnapshotStore.open({ root: path.join(dir, 's'), snapshotter: form });
        const layers = img.layers.map((l) =>
          blobLayer({
            digest: l.digest,
            size: l.size,
            diffId: l.diffId,
            open: () =>
              (async function* () {
                yield await Promise.resolve(l.blob);
              })(),
          }),
        );
        const result = await store.unpack(layers).then(
          (r) => r,
          (e: unknown) => e,
        );
        victimIntact(victim, kind);
        assert.deepEqual(readdirSync(path.join(dir)).sort(), ['s', 'victim'], 'nothing beside');
        const landed = CONTAINED[kind];
        if (landed === undefined) {
          refusal(result, kind);
          assert.deepEqual(store.stores[form].list(), [], `${kind}: no snapshot kept`);
          assert.deepEqual(
            readdirSync(store.stores[form].tmp),
            [],
            `${kind}: nothing half applied`,
          );
          return;
        }
        assert.ok(!(result instanceof Error), `${kind}: ${String(result)}`);
        if (landed === null) return;
        const { chainIds } = result as { chainIds: string[] };
        store.prepare('c', chainIds);
        try {
          const root = store.mountRoot('c');
          const inside = path.join(root, landed.replace('VICTIM', victim.slice(1)));
          assert.ok(readFileSync(inside, 'utf8').length > 0, `${kind}: ${landed} in the root`);
        } finally {
          store.remove('c');
        }
      });
    }
  });
}

testNoLeaks(
  'hostile layers through a pull: refused ones register nothing, contained ones stay inside',
  { skip: needsRootAnd('docker-registry', 'skopeo'), leaks },
  async (t) => {
    const reg = await registryFor(t);
    const dir = await dirFor(t);
    const victim = setUpVictim(dir);
    const layout = path.join(dir, 'layout');
    for (const kind of HOSTILE_KINDS) {
      await writeOciLayout(layout, await image(kind, victim), kind);
      await reg.seed(`oci:${layout}:${kind}`, `hostile/${kind}:1`);
    }
    const engine = new Engine({ root: path.join(dir, 'root') });
    const chains = () => engine.snapshots.stores[engine.snapshots.snapshotter].list().length;
    for (const kind of HOSTILE_KINDS) {
      const before = chains();
      const ref = `${reg.host}/hostile/${kind}:1`;
      const r = await engine.images.pull(ref).then(
        () => undefined,
        (e: unknown) => e,
      );
      victimIntact(victim, kind);
      if (kind in CONTAINED) {
        assert.equal(r, undefined, `${kind}: ${String(r)}`);
        await engine.images.remove(ref);
      } else {
        refusal(r, kind);
        assert.equal(chains(), before, `${kind}: no snapshot kept`);
      }
      assert.deepEqual(await engine.images.list(), [], `${kind}: nothing registered`);
    }
  },
);
