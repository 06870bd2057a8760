import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { SnapshotStore, type UnpackLayer } from '../../../src/snapshots/index.js';
import { volatileSupported } from '../../../src/snapshots/overlay-volatile.js';
import { markTopDir, planMount } from '../../../src/sys/index.js';
import { isChrunError } from '../../../src/util/index.js';
import { layerEntries, type EntrySpec } from '../../helpers/layer-entries.js';
import { leakCheckEachTest } from '../../helpers/leak-check.js';
import { needsRoot } from '../../helpers/requirements.js';
import { tempDir } from '../../helpers/temp.js';

// Only this file's temp dirs: other engineers' unit runs make their own meanwhile.
leakCheckEachTest({ files: [{ path: os.tmpdir(), match: /^chrun-(apply|snap|umoci|registry)/ }] });

/** A synthetic layer; its diffID is made up from its name (the content is not hashed here). */
function layer(name: string, specs: EntrySpec[], fail?: Error): UnpackLayer {
  const diffId = `sha256:${createHash('sha256').update(name).digest('hex')}`;
  return {
    digest: `sha256:${createHash('sha256').update(`blob ${name}`).digest('hex')}`,
    diffId,
    open: () => ({
      entries: layerEntries(specs),
      done: () => (fail === undefined ? Promise.resolve() : Promise.reject(fail)),
    }),
  };
}

const base = layer('base', [
  { path: 'etc/', type: 'directory' },
  { path: 'etc/os-release', type: 'file', body: 'base\n' },
  { path: 'bin/', type: 'directory' },
  { path: 'bin/sh', type: 'file', mode: 0o755, body: '#!\n' },
]);
const top = layer('top', [
  { path: 'etc/', type: 'directory' },
  { path: 'etc/.wh.os-release', type: 'file' },
  { path: 'etc/hostname', type: 'file', body: 'top\n' },
]);

async function store(t: TestContext, snapshotter: 'overlay' | 'copy' | 'auto') {
  const tmp = await tempDir('chrun-snap-');
  const s = SnapshotStore.open({ root: path.join(tmp.path, 'snapshots'), snapshotter });
  t.after(async () => {
    for (const key of s.list()) s.remove(key);
    await tmp.cleanup();
  });
  return s;
}

describe('SnapshotStore', { skip: needsRoot() }, () => {
  test('auto picks overlay where it can be mounted', async (t) => {
    assert.equal((await store(t, 'auto')).snapshotter, 'overlay');
  });

  for (const kind of ['overlay', 'copy'] as const) {
    test(`${kind}: containers share the layers and never see each other's writes`, async (t) => {
      const s = await store(t, kind);
      const { chainIds, applied } = await s.unpack([base, top]);
      assert.equal(chainIds.length, 2);
      assert.deepEqual(applied.length, kind === 'overlay' ? 2 : 1);
      assert.deepEqual((await s.unpack([base, top])).applied, [], 'applied once per chain');
      const probe = path.join(s.root, 'topdir-probe');
      mkdirSync(probe);
      if (markTopDir(probe)) {
        const lsattr = spawnSync('lsattr', ['-d', path.join(s.root, kind, 'tmp')], {
          encoding: 'utf8',
        });
        assert.match(lsattr.stdout.split(' ')[0]!, /T/, 'snapshots are applied under chattr +T');
      }

      const a = s.prepare('a', chainIds);
      s.prepare('b', chainIds);
      assert.equal(a.snapshotter, kind);
      const ra = s.mountRoot('a');
      const rb = s.mountRoot('b');
      assert.equal(readFileSync(path.join(ra, 'etc/hostname'), 'utf8'), 'top\n');
      assert.equal(existsSync(path.join(ra, 'etc/os-release')), false, 'the whiteout hides it');
      writeFileSync(path.join(ra, 'etc/hostname'), 'changed by a\n');
      writeFileSync(path.join(ra, 'new'), 'a');
      assert.equal(readFileSync(path.join(rb, 'etc/hostname'), 'utf8'), 'top\n');
      assert.equal(existsSync(path.join(rb, 'new')), false);
      s.unmountRoot('b');
      s.remove('b');
      const c = s.prepare('c', chainIds);
      const rc = s.mountRoot('c');
      assert.equal(
        readFileSync(path.join(rc, 'etc/hostname'), 'utf8'),
        'top\n',
        'the image is unchanged',
      );
      assert.deepEqual(c.mounts, s.mounts('c'));

      const usage = s.usage();
      assert.equal(usage.containers.count, 2);
      assert.equal(usage.snapshots.count, kind === 'overlay' ? 2 : 1);
      assert.ok(usage.snapshots.bytes > 0 && usage.containers.bytes > 0);

      assert.equal(s.remove('a'), true);
      assert.equal(existsSync(ra), false, 'removing a container removes its mount and layer');
      assert.equal(s.remove('a'), false);
      assert.deepEqual(s.gc([]), [], 'a container still uses the snapshots');
      s.remove('c');
      assert.equal(s.gc([]).length, kind === 'overlay' ? 2 : 1, 'the last user gone, they go');
      assert.equal(s.usage().snapshots.count, 0);
    });

    test(`${kind}: a volatile root works like any other and is removed whole`, async (t) => {
      const s = await store(t, kind);
      const { chainIds } = await s.unpack([base, top]);
      const r = s.prepare('v', chainIds, { volatile: true });
      const options = r.mounts.flatMap((m) => m.options);
      assert.equal(
        options.includes('volatile'),
        kind === 'overlay' && volatileSupported(),
        'overlay mounts it volatile where the kernel can',
      );
      assert.equal(
        s
          .prepare('n', chainIds)
          .mounts.flatMap((m) => m.options)
          .includes('volatile'),
        false,
      );
      const root = s.mountRoot('v');
      writeFileSync(path.join(root, 'etc/hostname'), 'changed\n');
      assert.equal(readFileSync(path.join(root, 'etc/hostname'), 'utf8'), 'changed\n');
      assert.equal(s.remove('v'), true);
      assert.equal(existsSync(path.dirname(r.rootfs)), false);
      s.remove('n');
    });

    test(`${kind}: a read-only root cannot be written`, async (t) => {
      const s = await store(t, kind);
      const { chainIds } = await s.unpack([base, top]);
      s.prepare('ro', chainIds, { readOnly: true });
      const root = s.mountRoot('ro');
      assert.throws(() => writeFileSync(path.join(root, 'x'), 'x'), { code: 'EROFS' });
      assert.equal(readFileSync(path.join(root, 'etc/hostname'), 'utf8'), 'top\n');
      s.remove('ro');
      const { chainIds: one } = await s.unpack([base]);
      s.prepare('ro1', one, { readOnly: true });
      assert.throws(() => writeFileSync(path.join(s.mountRoot('ro1'), 'x'), 'x'), {
        code: 'EROFS',
      });
      s.remove('ro1');
    });

    test(`${kind}: a read-only root of one layer hides its whiteouts and cannot be made writable`, async (t) => {
      const s = await store(t, kind);
      const lone = layer('lone', [
        { path: 'etc/', type: 'directory' },
        { path: 'etc/.wh.gone', type: 'file' },
        { path: 'etc/keep', type: 'file', body: 'k' },
      ]);
      const { chainIds } = await s.unpack([lone]);
      s.prepare('ro', chainIds, { readOnly: true });
      s.prepare('other', chainIds);
      const root = s.mountRoot('ro');
      const other = s.mountRoot('other');
      assert.deepEqual(readdirSync(path.join(root, 'etc')), ['keep'], 'no whiteout shows');
      assert.deepEqual(readdirSync(path.join(other, 'etc')), ['keep'], 'nor in a writable root');
      // What a privileged container could do to its own root.
      const remount = spawnSync('mount', ['-o', 'remount,rw,bind', root], { encoding: 'utf8' });
      t.diagnostic(`mount -o remount,rw,bind: status ${remount.status} ${remount.stderr.trim()}`);
      let wrote = true;
      try {
        writeFileSync(path.join(root, 'etc/keep'), 'changed');
        writeFileSync(path.join(root, 'new'), 'x');
      } catch (err) {
        wrote = false;
        assert.equal((err as NodeJS.ErrnoException).code, 'EROFS');
      }
      if (kind === 'overlay') assert.equal(wrote, false, 'the overlay stays read-only');
      const snap = s.snapshots(chainIds).at(-1)!;
      assert.equal(
        readFileSync(path.join(snap.fs, 'etc/keep'), 'utf8'),
        'k',
        'the layer is unchanged',
      );
      assert.equal(existsSync(path.join(snap.fs, 'new')), false);
      assert.equal(readFileSync(path.join(other, 'etc/keep'), 'utf8'), 'k', 'others see nothing');
      assert.equal(existsSync(path.join(other, 'new')), false);
      s.remove('ro');
      s.remove('other');
    });

    test(`${kind}: a failing layer leaves nothing behind`, async (t) => {
      const s = await store(t, kind);
      const bad = layer('bad', [{ path: '../x', type: 'file', body: 'x' }]);
      await assert.rejects(s.unpack([base, bad]), (e: unknown) =>
        isChrunError(e, 'CHRUN_LAYER_UNSAFE'),
      );
      const mismatch = layer(
        'mismatch',
        [{ path: 'f', type: 'file', body: 'x' }],
        new Error('diff id mismatch'),
      );
      await assert.rejects(s.unpack([base, mismatch]), /diff id mismatch/);
      const st = s.stores[kind];
      assert.deepEqual(st.list(), []);
      assert.deepEqual(readdirSync(st.tmp), []);
      assert.deepEqual(readdirSync(st.layers), []);
    });
  }

  /** A layer whose open() waits for `gate`, then fails its diffID check. */
  function gated(name: string, gate: Promise<void>): UnpackLayer {
    const l = layer(name, [{ path: name, type: 'file', body: name }]);
    return {
      ...l,
      open: async () => {
        await gate;
        return { entries: layerEntries([]), done: () => Promise.reject(new Error('mismatch')) };
      },
    };
  }

  async function until(cond: () => boolean): Promise<void> {
    for (let i = 0; !cond(); i++) {
      if (i > 500) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  test('overlay: a failed unpack keeps a layer another unpack used meanwhile', async (t) => {
    const s = await store(t, 'overlay');
    // A second store object on the same root: its own open files, as another process has.
    const other = SnapshotStore.open({ root: s.root, snapshotter: 'overlay' });
    let open!: () => void;
    const failing = s.unpack([base, gated('late', new Promise((r) => (open = r)))]);
    await until(() => s.stores.overlay.get(base.diffId) !== undefined);
    const theirs = await other.unpack([base, top]);
    assert.deepEqual(theirs.applied, [theirs.chainIds[1]], 'base was reused');
    open();
    await assert.rejects(failing, /mismatch/);
    assert.ok(s.stores.overlay.get(base.diffId), 'the layer the other image uses stays');
    s.prepare('c', theirs.chainIds);
    const root = s.mountRoot('c');
    assert.equal(readFileSync(path.join(root, 'bin/sh'), 'utf8'), '#!\n');
    s.remove('c');
  });

  test('overlay: neither a failed unpack nor gc removes a chain another process holds', async (t) => {
    const s = await store(t, 'overlay');
    // Another process in the middle of an unpack of an image with the same base layer.
    const holder = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { SnapshotStore } = await import(${JSON.stringify(path.resolve('dist/src/snapshots/index.js'))});
         const s = SnapshotStore.open({ root: process.argv[1], snapshotter: 'overlay' });
         await s.stores.overlay.locks.shared(process.argv[2]);
         console.log('locked');
         process.stdin.resume();
         process.stdin.on('end', () => process.exit(0));`,
        s.root,
        base.diffId,
      ],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    t.after(() => holder.kill());
    await new Promise<void>((resolve, reject) => {
      holder.stdout.once('data', () => resolve());
      holder.once('exit', (c) => reject(new Error(`holder exited ${c}`)));
    });
    await assert.rejects(s.unpack([base, gated('late', Promise.resolve())]), /mismatch/);
    assert.ok(s.stores.overlay.get(base.diffId), 'kept while the other process holds it');
    assert.deepEqual(s.gc([]), [], 'gc leaves it too');
    holder.stdin.end();
    await new Promise((r) => holder.once('exit', r));
    assert.deepEqual(s.gc([]), [base.diffId], 'gone once nobody holds it');
  });

  test('overlay: prepare and gc exclude each other on a chain', async (t) => {
    const s = await store(t, 'overlay');
    const { chainIds } = await s.unpack([base, top]);
    // gc (here: its lock) in the middle of removing the top layer: prepare refuses it
    const removing = s.stores.overlay.locks.tryExclusive(chainIds[1]!)!;
    assert.throws(
      () => s.prepare('p', chainIds),
      (e: unknown) =>
        isChrunError(e, 'CHRUN_IMAGE_NOT_FOUND') &&
        e.message === `prepare root: layer snapshot ${chainIds[1]!} is being removed (overlay)`,
    );
    assert.deepEqual(s.list(), [], 'no half-made root');
    removing.release();
    // a removal asks again under the lock whether a root needs the chain
    s.prepare('p', chainIds);
    assert.equal(s.stores.overlay.remove(chainIds[1]!, { unlessNeeded: () => true }), false);
    assert.deepEqual(s.gc([]), [], 'the root keeps its layers');
    s.remove('p');
    assert.deepEqual(s.gc([]).sort(), [...chainIds].sort());
  });

  test('overlay: an image with more layers than fit in one page of mount options', async (t) => {
    const s = await store(t, 'overlay');
    const layers = Array.from({ length: 200 }, (_, i) =>
      layer(`many${i}`, [{ path: `f${i}`, type: 'file', body: String(i) }]),
    );
    const { chainIds } = await s.unpack(layers);
    const root = s.prepare('many', chainIds);
    const data = root.mounts[0]!.options.join(',');
    assert.ok(data.length > 4096, `the options are ${data.length} bytes`);
    const [call] = planMount(root.mounts[0]!);
    assert.ok(call?.chdir !== undefined && call.data.length < 4096);
    const dir = s.mountRoot('many');
    assert.equal(readFileSync(path.join(dir, 'f0'), 'utf8'), '0');
    assert.equal(readFileSync(path.join(dir, 'f199'), 'utf8'), '199');
    assert.equal(process.cwd(), path.resolve('.'), 'the working directory is restored');
    s.remove('many');
  });

  test('prepare refuses bad keys, missing snapshots and existing roots', async (t) => {
    const s = await store(t, 'overlay');
    assert.throws(() => s.prepare('../x', []), /not a valid name/);
    assert.throws(
      () => s.prepare('x', [top.diffId]),
      (e: unknown) => isChrunError(e, 'CHRUN_IMAGE_NOT_FOUND'),
    );
    s.prepare('x', []);
    assert.throws(
      () => s.prepare('x', []),
      (e: unknown) => isChrunError(e, 'CHRUN_CONTAINER_EXISTS'),
    );
    s.remove('x');
  });
});
