import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SnapshotStore, type UnpackLayer } from '../../../src/snapshots/index.js';
import { planMount } from '../../../src/sys/index.js';
import { defaultSpec } from '../../helpers/busybox-bundle.js';
import { layerEntries, type EntrySpec } from '../../helpers/layer-entries.js';
import { testNoLeaks } from '../../helpers/leak-check.js';
import { fileFixture } from '../runtime/fixture.js';

const { f, skip } = fileFixture();

function layer(name: string, specs: EntrySpec[]): UnpackLayer {
  return {
    digest: `sha256:${createHash('sha256').update(`blob ${name}`).digest('hex')}`,
    diffId: `sha256:${createHash('sha256').update(name).digest('hex')}`,
    open: () => ({ entries: layerEntries(specs), done: () => Promise.resolve() }),
  };
}

const LAYERS = 130;

testNoLeaks(`a container runs from an image of ${LAYERS} layers (overlay)`, { skip }, async () => {
  const store = SnapshotStore.open({ root: path.join(f.dir, 'snapshots'), snapshotter: 'overlay' });
  const bottom = layer('busybox', [
    { path: 'bin/', type: 'directory' },
    { path: 'bin/busybox', type: 'file', mode: 0o755, body: readFileSync('/bin/busybox') },
    ...['sh', 'cat', 'ls', 'wc'].map((a): EntrySpec => ({
      path: `bin/${a}`,
      type: 'symlink',
      linkname: 'busybox',
    })),
    { path: 'proc/', type: 'directory' },
    { path: 'dev/', type: 'directory' },
    { path: 'sys/', type: 'directory' },
    { path: 'layers/', type: 'directory' },
  ]);
  const rest = Array.from({ length: LAYERS - 1 }, (_, i) =>
    layer(`many ${i}`, [{ path: `layers/f${i + 1}`, type: 'file', body: `${i + 1}\n` }]),
  );
  const { chainIds } = await store.unpack([bottom, ...rest]);
  assert.equal(chainIds.length, LAYERS);
  const root = store.prepare('many', chainIds);
  try {
    // The option string with absolute paths would not fit in a page: this run needs the
    // short relative lowerdirs.
    const [m] = root.mounts;
    assert.ok(m!.options.join(',').length > 4096, `${m!.options.join(',').length} bytes`);
    assert.ok(planMount(m!)[0]!.chdir !== undefined);

    const spec = defaultSpec(['sh', '-c', 'cat /layers/f1 /layers/f129; ls /layers | wc -l']);
    spec.root = { path: root.rootfs, readonly: false };
    const p = await f.rt.run('many', f.bundle, {
      spec,
      stdio: ['ignore', 'pipe', 'pipe'],
      rootMounts: root.mounts,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    p.stdout?.on('data', (d: Buffer) => out.push(d));
    p.stderr?.on('data', (d: Buffer) => err.push(d));
    const st = await p.wait();
    await new Promise((r) => setImmediate(r));
    assert.equal(st.exitCode, 0, Buffer.concat(err).toString());
    assert.equal(Buffer.concat(out).toString().replace(/ +/g, ''), `1\n129\n${LAYERS - 1}\n`);
  } finally {
    store.remove('many');
  }
});
