import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import os from 'node:os';
import { test } from 'node:test';
import { Engine } from '../../src/engine/index.js';
import { SnapshotStore } from '../../src/snapshots/index.js';
import { runChrun } from '../helpers/cli.js';
import { layerEntries } from '../helpers/layer-entries.js';
import { leakCheckEachTest } from '../helpers/leak-check.js';
import { needsRoot } from '../helpers/requirements.js';
import { tempDir } from '../helpers/temp.js';

leakCheckEachTest({ files: [{ path: os.tmpdir(), match: /^chrun-(apply|snap|umoci|registry)/ }] });

test(
  'system df shows the space of layer snapshots and container roots',
  { skip: needsRoot() },
  async (t) => {
    const tmp = await tempDir('chrun-snap-df-');
    t.after(tmp.cleanup);
    const engine = new Engine({ root: tmp.path });
    const empty = await runChrun(['system', 'df', '--format', 'json'], { root: tmp.path });
    assert.equal(empty.code, 0, empty.stderr);
    assert.deepEqual(JSON.parse(empty.stdout), {
      images: { count: 0, bytes: 0 },
      containers: { count: 0, bytes: 0 },
      snapshots: { count: 0, bytes: 0 },
    });

    const store = SnapshotStore.open({ root: engine.paths.snapshots, snapshotter: 'overlay' });
    const body = Buffer.alloc(200_000, 7);
    const { chainIds } = await store.unpack([
      {
        digest: `sha256:${'a'.repeat(64)}`,
        diffId: `sha256:${createHash('sha256').update('df').digest('hex')}`,
        open: () => ({
          entries: layerEntries([{ path: 'big', type: 'file', body }]),
          done: () => Promise.resolve(),
        }),
      },
    ]);
    store.prepare('c1', chainIds);
    t.after(() => {
      store.remove('c1');
    });

    const df = await engine.systemDf();
    assert.equal(df.snapshots.count, 1);
    assert.ok(df.snapshots.bytes >= body.length, `snapshots use ${df.snapshots.bytes} bytes`);
    assert.equal(df.containers.count, 1);
    const text = await runChrun(['system', 'df'], { root: tmp.path });
    assert.equal(text.code, 0, text.stderr);
    assert.match(
      text.stdout,
      /^TYPE\s+TOTAL\s+SIZE\nImages\s+0\s+0B\nContainers\s+1\s+\S+\nSnapshots\s+1\s+2\d\d(\.\d)?kB\n$/,
    );
  },
);
