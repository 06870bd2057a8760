import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, test, type TestContext } from 'node:test';
import { blobLayer, SnapshotStore, type LayerBlob } from '../../../src/snapshots/index.js';
import type { TarWriteEntry } from '../../../src/tar/index.js';
import { leakCheckEachTest } from '../../helpers/leak-check.js';
import { readOciImage, writeOciImage, type FixtureLayer } from '../../helpers/oci-image.js';
import { startRegistry } from '../../helpers/registry.js';
import { needsRootAnd } from '../../helpers/requirements.js';
import { tempDir } from '../../helpers/temp.js';
import { compareTrees, readTree } from '../../helpers/tree-compare.js';

const run = promisify(execFile);
// Only this file's temp dirs: other engineers' unit runs make their own meanwhile.
leakCheckEachTest({ files: [{ path: os.tmpdir(), match: /^chrun-(apply|snap|umoci|registry)/ }] });

const T = 1_650_000_000;
const CAP = Buffer.from('0100000200200000000000000000000000000000', 'hex');
const dir = (p: string, mode = 0o755, more: object = {}): TarWriteEntry => ({
  header: { path: p, type: 'directory', mode, mtime: T, ...more },
});
const file = (p: string, body: string | Buffer, more: object = {}): TarWriteEntry => ({
  header: { path: p, type: 'file', mode: 0o644, mtime: T + 1, ...more },
  body: Buffer.from(body),
});
const sym = (p: string, target: string): TarWriteEntry => ({
  header: { path: p, type: 'symlink', linkname: target, mtime: T + 2 },
});
const link = (p: string, target: string): TarWriteEntry => ({
  header: { path: p, type: 'hardlink', linkname: target, mtime: T + 2 },
});
const wh = (p: string): TarWriteEntry => ({ header: { path: p, type: 'file', mtime: T } });

function busybox(): FixtureLayer[] {
  const bb = readFileSync('/bin/busybox');
  return [
    {
      compression: 'gzip',
      entries: [
        dir('bin/'),
        file('bin/busybox', bb, { mode: 0o755 }),
        ...['sh', 'ls', 'cat', 'echo', 'true'].map((a) => sym(`bin/${a}`, 'busybox')),
        link('bin/bb', 'bin/busybox'),
        dir('etc/'),
        file('etc/passwd', 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n'),
        dir('tmp/', 0o1777),
        dir('root/', 0o700),
        dir('usr/'),
        dir('usr/bin/'),
        sym('usr/bin/env', '../../bin/busybox'),
      ],
    },
  ];
}

function features(): FixtureLayer[] {
  const long = `${'deep/'.repeat(30)}file-with-a-long-name`;
  return [
    {
      compression: 'zstd',
      entries: [
        dir('./', 0o755),
        dir('bin/'),
        file('bin/ping', 'ping', { mode: 0o4755, xattrs: new Map([['security.capability', CAP]]) }),
        file('bin/wall', 'wall', { mode: 0o2755, gid: 5 }),
        dir('tmp/', 0o1777, { mtime: T - 100 }),
        dir('srv/', 0o2770, { uid: 1000, gid: 1000 }),
        file('srv/owned', 'x', { uid: 100000, gid: 65534, mode: 0o600 }),
        file('srv/tagged', 'x', { xattrs: new Map([['user.tag', Buffer.from([0, 1, 2, 255])]]) }),
        dir('dev/'),
        {
          header: {
            path: 'dev/null',
            type: 'chardev',
            mode: 0o666,
            devmajor: 1,
            devminor: 3,
            mtime: T,
          },
        },
        {
          header: {
            path: 'dev/sda',
            type: 'blockdev',
            mode: 0o660,
            devmajor: 8,
            devminor: 0,
            gid: 6,
            mtime: T,
          },
        },
        { header: { path: 'dev/fifo', type: 'fifo', mode: 0o620, mtime: T } },
        dir('deep/'),
        ...Array.from({ length: 29 }, (_, i) => dir('deep/'.repeat(i + 2))),
        file(long, 'long'),
        sym('longlink', `/${long}`),
        file('caf\u00e9-\u65e5\u672c', 'utf8 name'),
        dir('etc/'),
        file('etc/old', 'old'),
        file('etc/keep', 'keep'),
        dir('etc/opq/'),
        file('etc/opq/a', 'a'),
        dir('etc/opq/sub/'),
        file('etc/opq/sub/b', 'b'),
        dir('var/'),
        dir('var/becomes-link/'),
        file('var/becomes-link/x', 'x'),
        file('var/becomes-dir', 'x'),
        dir('lib/'),
        file('lib/libc.so', 'libc', { mode: 0o755 }),
      ],
    },
    {
      compression: 'none',
      entries: [
        dir('etc/', 0o755, { mtime: T + 50 }),
        wh('etc/.wh.old'),
        dir('etc/opq/'),
        wh('etc/opq/.wh..wh..opq'),
        file('etc/opq/c', 'c'),
        dir('var/'),
        wh('var/.wh.becomes-link'),
        sym('var/becomes-link', '../etc'),
        dir('var/becomes-dir/'),
        file('var/becomes-dir/y', 'y'),
        dir('usr/'),
        dir('usr/lib/'),
        link('usr/lib/libc.so', 'lib/libc.so'),
        file('srv/added-without-parent', 'p'),
        file('bin/ping', 'ping2', {
          mode: 0o4755,
          xattrs: new Map([['security.capability', CAP]]),
        }),
      ],
    },
    {
      compression: 'gzip',
      entries: [
        wh('.wh.deep'),
        dir('deep/', 0o700),
        file('deep/new', 'n'),
        wh('tmp/.wh.nothing-there'),
      ],
    },
  ];
}

/** Whiteouts that come after entries of their own layer (umoci keeps what the layer wrote). */
function whiteoutOrder(): FixtureLayer[] {
  return [
    {
      compression: 'gzip',
      entries: [
        dir('a/'),
        file('a/old', 'old'),
        dir('a/sub/'),
        file('a/sub/old', 'old'),
        dir('b/'),
        file('b/old', 'old'),
        dir('c/'),
        file('c/old', 'old'),
        dir('c/sub/'),
        file('c/sub/old', 'old'),
        file('d', 'lower'),
      ],
    },
    {
      compression: 'gzip',
      entries: [
        // [a/new, .wh.a]: a was not an entry of this layer, only the way to a/new.
        file('a/new', 'new'),
        file('a/sub/new', 'new'),
        wh('.wh.a'),
        // [b/, b/new, .wh.b]
        dir('b/', 0o750),
        file('b/new', 'new'),
        wh('.wh.b'),
        // an opaque marker after entries below it
        file('c/sub/new', 'new'),
        wh('c/.wh..wh..opq'),
        file('d', 'upper'),
        wh('.wh.d'),
      ],
    },
  ];
}

/**
 * Directories umoci leaves with the time of the unpack rather than their own: its whiteout
 * walk deletes below them after it restored their metadata. chrun keeps their own time; the
 * comparison checks umoci's is the unpack's and compares everything else.
 */
const UNPACK_TIME_DIRS: Record<string, string[]> = {
  'whiteout-order': ['a', 'a/sub', 'b', 'c/sub'],
};

const FIXTURES: [string, () => FixtureLayer[]][] = [
  ['busybox', busybox],
  ['features', features],
  ['whiteout-order', whiteoutOrder],
];

const started = Math.floor(Date.now() / 1000);

/** Per test: container roots to remove before its temp dir goes. */
const cleanups = new Map<TestContext, (() => unknown)[]>();

async function scratch(t: TestContext, prefix: string): Promise<string> {
  const tmp = await tempDir(prefix);
  const list: (() => unknown)[] = [];
  cleanups.set(t, list);
  t.after(async () => {
    for (const fn of list.reverse()) await fn();
    cleanups.delete(t);
    await tmp.cleanup();
  });
  return tmp.path;
}

async function umociRoot(layout: string, tag: string): Promise<string> {
  const bundle = path.join(
    path.dirname(layout),
    `umoci-${tag}-${Math.random().toString(36).slice(2)}`,
  );
  await run('umoci', ['unpack', '--image', `${layout}:${tag}`, bundle]);
  return path.join(bundle, 'rootfs');
}

async function chrunRoot(
  t: TestContext,
  root: string,
  kind: 'overlay' | 'copy',
  layers: LayerBlob[],
  key: string,
): Promise<string> {
  const store = SnapshotStore.open({ root: path.join(root, 'snapshots'), snapshotter: kind });
  const { chainIds } = await store.unpack(layers.map(blobLayer));
  store.prepare(key, chainIds);
  cleanups.get(t)!.push(() => store.remove(key));
  return store.mountRoot(key);
}

function assertSame(ours: string, theirs: string, what: string, fixture: string): void {
  const a = readTree(ours, { ignoreXattr: (n) => n.startsWith('trusted.overlay.') });
  const b = readTree(theirs);
  for (const p of UNPACK_TIME_DIRS[fixture] ?? []) {
    const [ea, eb] = [a.get(p), b.get(p)];
    if (ea === undefined || eb === undefined) continue; // reported by the comparison
    assert.ok(eb.mtime >= started, `${what}: umoci's ${p} has the time of the unpack`);
    eb.mtime = ea.mtime;
  }
  const diffs = compareTrees(a, b, ['chrun', 'umoci'], { ignoreRoot: true });
  assert.deepEqual(
    diffs,
    [],
    `${what}: chrun's root differs from umoci's:\n  ${diffs.join('\n  ')}`,
  );
  assert.ok(a.size > 5, 'the trees are not empty');
}

describe('root file systems match umoci unpack', { skip: needsRootAnd('umoci') }, () => {
  for (const [name, make] of FIXTURES) {
    for (const kind of ['overlay', 'copy'] as const) {
      test(`${name} (${kind})`, async (t) => {
        const tmp = await scratch(t, 'chrun-umoci-');
        const img = await writeOciImage(path.join(tmp, 'layout'), name, make());
        // umoci 0.4 reads no zstd: it gets the same layers gzipped (same diffIDs).
        const gz = make().map((l) => ({
          ...l,
          compression: l.compression === 'zstd' ? ('gzip' as const) : l.compression,
        }));
        const forUmoci = await writeOciImage(path.join(tmp, 'layout-gzip'), name, gz);
        assert.deepEqual(
          forUmoci.layers.map((l) => l.diffId),
          img.layers.map((l) => l.diffId),
        );
        const theirs = await umociRoot(forUmoci.dir, name);
        const ours = await chrunRoot(t, tmp, kind, img.layers, 'cmp');
        assertSame(ours, theirs, `${name} (${kind})`, name);
      });
    }
  }

  test(
    'registry test images (pushed and fetched back by skopeo)',
    { skip: needsRootAnd('skopeo', 'docker-registry') },
    async (t) => {
      const tmp = { path: await scratch(t, 'chrun-umoci-reg-') };
      const reg = await startRegistry();
      cleanups.get(t)!.push(() => reg.stop());
      for (const [name, make] of FIXTURES) {
        for (const format of ['oci', 'v2s2'] as const) {
          const gz = make().map((l) => ({ ...l, compression: 'gzip' as const }));
          const src = await writeOciImage(path.join(tmp.path, `src-${name}-${format}`), name, gz);
          await reg.seed(`oci:${src.dir}:${name}`, `${name}:${format}`, { format });
          const back = path.join(tmp.path, `back-${name}-${format}`);
          await reg.fetch(`${name}:${format}`, `oci:${back}:${name}`);
          const layers = await readOciImage(back, name);
          const theirs = await umociRoot(back, name);
          const ours = await chrunRoot(t, tmp.path, 'overlay', layers, `reg-${name}-${format}`);
          assertSame(ours, theirs, `registry ${name} (${format})`, name);
        }
      }
    },
  );
});
