// The image builder checked by independent peers: skopeo reads (and converts) what it writes,
// umoci unpacks it to the root file system CRAFTED_EXPECT describes, GNU tar lists its layers.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import type { ImageConfig, ImageIndex } from '../../../src/oci/index.js';
import { decompress, readTar } from '../../../src/tar/index.js';
import {
  BUSYBOX,
  CRAFTED_EXPECT,
  HOSTILE_KINDS,
  buildImage,
  buildIndex,
  busyboxBinary,
  busyboxLayer,
  craftedLayers,
  hostileLayers,
  writeDockerArchive,
  writeOciArchive,
  writeOciLayout,
  type BuiltImage,
  type ExpectedNode,
} from '../../helpers/image-builder.js';
import { readTree, type TreeNode } from '../../helpers/fs-tree.js';
import { leakCheckEachTest } from '../../helpers/leak-check.js';
import { needsCommands, needsRootAnd } from '../../helpers/requirements.js';
import { chunked, collect } from '../../helpers/tar-bytes.js';
import { tempDir } from '../../helpers/temp.js';

const PREFIX = 'chrun-imgb-it-';
leakCheckEachTest({ files: [{ path: os.tmpdir(), match: new RegExp(`^${PREFIX}`) }] });

const run = promisify(execFile);
const sha256hex = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const skopeo = async (...args: string[]): Promise<string> =>
  (await run('skopeo', args, { maxBuffer: 64 << 20 })).stdout;
const inspect = async (ref: string, ...flags: string[]): Promise<Record<string, unknown>> =>
  JSON.parse(await skopeo('inspect', ...flags, ref)) as Record<string, unknown>;

async function withTemp(fn: (dir: string) => Promise<void>): Promise<void> {
  const tmp = await tempDir(PREFIX);
  try {
    await fn(tmp.path);
  } finally {
    await tmp.cleanup();
  }
}

const CONFIG = {
  Entrypoint: ['/bin/sh', '-c'],
  Cmd: ['echo hello'],
  Env: ['PATH=/usr/bin:/bin', 'GREETING=hi there'],
  WorkingDir: '/tmp',
  User: '1000:1000',
  ExposedPorts: { '8080/tcp': {}, '53/udp': {} },
};

const image = (compression: 'gzip' | 'zstd' | 'none' = 'gzip'): Promise<BuiltImage> =>
  buildImage({
    layers: [busyboxLayer({ compression }), ...craftedLayers(compression)],
    config: CONFIG,
  });

describe(
  'skopeo reads what the builder writes',
  { skip: needsCommands('skopeo', BUSYBOX, 'zstd') },
  () => {
    test('OCI layout and OCI archive, with gzip, zstd and uncompressed layers', async () => {
      await withTemp(async (dir) => {
        const img = await buildImage({
          layers: [
            busyboxLayer({ compression: 'none' }),
            ...craftedLayers('gzip'),
            { ...craftedLayers('zstd')[1]!, createdBy: 'zstd' },
          ],
          config: CONFIG,
        });
        await writeOciLayout(path.join(dir, 'layout'), img, 'v1');
        await writeOciArchive(path.join(dir, 'oci.tar'), img, 'v1');
        for (const ref of [`oci:${dir}/layout:v1`, `oci-archive:${dir}/oci.tar:v1`]) {
          const info = await inspect(ref);
          assert.equal(info.Digest, img.manifestDigest, ref);
          assert.deepEqual(
            info.Layers,
            img.layers.map((l) => l.digest),
            ref,
          );
          assert.deepEqual(info.Env, CONFIG.Env);
          assert.deepEqual([info.Os, info.Architecture], ['linux', 'amd64']);
          const config = (await inspect(ref, '--config')) as unknown as ImageConfig;
          assert.deepEqual(config.config, CONFIG);
          assert.deepEqual(
            config.rootfs.diff_ids,
            img.layers.map((l) => l.diffId),
          );
          assert.equal(await skopeo('inspect', '--raw', ref), img.manifestBytes.toString());
        }
      });
    });

    test('docker archive, and conversions both ways keep the config and diff IDs', async () => {
      await withTemp(async (dir) => {
        const img = await image('gzip');
        const archive = path.join(dir, 'docker.tar');
        const written = await writeDockerArchive(archive, img, [
          'busybox:v1',
          'localhost/test/busybox:extra',
        ]);
        assert.equal(written.manifest[0]!.Layers.length, 3);
        const info = await inspect(`docker-archive:${archive}`);
        assert.deepEqual(
          info.Layers,
          img.layers.map((l) => l.diffId),
          'docker-save layers are uncompressed',
        );
        assert.deepEqual(info.Env, CONFIG.Env);
        const raw = JSON.parse(await skopeo('inspect', '--raw', `docker-archive:${archive}`)) as {
          config: { digest: string };
        };
        assert.equal(raw.config.digest, img.configDigest, 'the config blob is ours, byte for byte');
        // Ours -> OCI layout through skopeo, and our OCI layout -> docker-archive through skopeo.
        await skopeo('copy', '-q', `docker-archive:${archive}`, `oci:${dir}/from-docker:v1`);
        const back = (await inspect(
          `oci:${dir}/from-docker:v1`,
          '--config',
        )) as unknown as ImageConfig;
        assert.deepEqual(
          back.rootfs.diff_ids,
          img.layers.map((l) => l.diffId),
        );
        await writeOciLayout(path.join(dir, 'layout'), img, 'v1');
        await skopeo(
          'copy',
          '-q',
          `oci:${dir}/layout:v1`,
          `docker-archive:${dir}/skopeo.tar:busybox:v1`,
        );
        const theirs = JSON.parse(
          await skopeo('inspect', '--raw', `docker-archive:${dir}/skopeo.tar`),
        ) as { config: { digest: string } };
        assert.equal(theirs.config.digest, img.configDigest);
        // GNU tar sees the layout docker writes.
        const names = spawnSync('tar', ['-tf', archive], { encoding: 'utf8' }).stdout.split('\n');
        const id = written.manifest[0]!.Layers[0]!.split('/')[0]!;
        for (const n of [
          'manifest.json',
          'repositories',
          `${img.configDigest.slice(7)}.json`,
          `${id}/VERSION`,
          `${id}/json`,
          `${id}/layer.tar`,
        ]) {
          assert.ok(names.includes(n), n);
        }
        const top = written.manifest[0]!.Layers[2]!.split('/')[0]!;
        const files = new Map<string, Buffer>();
        for await (const e of readTar(chunked(await readFile(archive), 65536))) {
          files.set(e.header.path, await collect(e.body));
        }
        assert.deepEqual(JSON.parse(files.get('repositories')!.toString()), {
          busybox: { v1: top },
          'localhost/test/busybox': { extra: top },
        });
        assert.deepEqual(files.get(`${id}/layer.tar`), img.layers[0]!.tar);
      });
    });

    test('multi-platform index: skopeo selects each platform', async () => {
      await withTemp(async (dir) => {
        const layers = [busyboxLayer()];
        const amd64 = await buildImage({
          layers,
          platform: { os: 'linux', architecture: 'amd64' },
        });
        const arm64 = await buildImage({
          layers,
          platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
        });
        const armv7 = await buildImage({
          layers,
          platform: { os: 'linux', architecture: 'arm', variant: 'v7' },
        });
        const index = buildIndex([amd64, arm64, armv7]);
        await writeOciLayout(path.join(dir, 'layout'), index, 'multi');
        const ref = `oci:${dir}/layout:multi`;
        assert.equal(await skopeo('inspect', '--raw', ref), index.indexBytes.toString());
        // skopeo reports the index digest; the platform it picked shows in the config it reads.
        const picked = (...flags: string[]): Promise<string> =>
          skopeo('inspect', '--config', '--raw', ...flags, ref);
        assert.equal(await picked('--override-arch', 'amd64'), amd64.configBytes.toString());
        assert.equal(await picked('--override-arch', 'arm64'), arm64.configBytes.toString());
        assert.equal(
          await picked('--override-arch', 'arm', '--override-variant', 'v7'),
          armv7.configBytes.toString(),
        );
        assert.equal((await inspect(ref, '--override-arch', 'arm64')).Digest, index.indexDigest);
        await skopeo('copy', '-q', '--all', ref, `oci:${dir}/copy:multi`);
        const copied = JSON.parse(
          await readFile(path.join(dir, 'copy/index.json'), 'utf8'),
        ) as ImageIndex;
        assert.equal(
          copied.manifests[0]!.digest,
          index.indexDigest,
          'skopeo copied the index unchanged',
        );
      });
    });
  },
);

/** Asserts that the tree umoci unpacked is what CRAFTED_EXPECT (and busybox) say. */
function assertCrafted(tree: Map<string, TreeNode>): void {
  const expected = Object.entries(CRAFTED_EXPECT).filter(
    (e): e is [string, ExpectedNode] => e[1] !== 'absent',
  );
  const present = [...tree.keys()].filter((p) => p === 'crafted' || p.startsWith('crafted/'));
  assert.deepEqual(present.sort(), expected.map(([p]) => p).sort(), 'exactly the expected paths');
  for (const [p, want] of Object.entries(CRAFTED_EXPECT)) {
    const got = tree.get(p);
    if (want === 'absent') {
      assert.equal(got, undefined, `${p} must not exist`);
      continue;
    }
    assert.ok(got !== undefined, `${p} exists`);
    const what = `${p}: `;
    assert.equal(got.type, want.type, `${what}type`);
    assert.equal(got.mode, want.mode, `${what}mode ${got.mode.toString(8)}`);
    if (want.uid !== undefined)
      assert.deepEqual([got.uid, got.gid], [want.uid, want.gid], `${what}owner`);
    if (want.linkname !== undefined) assert.equal(got.linkname, want.linkname, `${what}link`);
    if (want.devmajor !== undefined)
      assert.deepEqual(
        [got.devmajor, got.devminor],
        [want.devmajor, want.devminor],
        `${what}device`,
      );
    if (want.content !== undefined) {
      assert.equal(got.sha256, sha256hex(want.content), `${what}content`);
    }
    if (want.hardlinkOf !== undefined)
      assert.equal(got.ino, tree.get(want.hardlinkOf)!.ino, `${what}hardlink`);
    if (want.mtime !== undefined)
      assert.ok(Math.abs(got.mtimeMs / 1000 - want.mtime) < 1e-6, `${what}mtime ${got.mtimeMs}`);
    const xattrs = new Map([...got.xattrs].filter(([k]) => k !== 'security.selinux'));
    assert.deepEqual(xattrs, new Map(Object.entries(want.xattrs ?? {})), `${what}xattrs`);
  }
}

describe(
  'umoci unpacks the crafted layers to CRAFTED_EXPECT',
  { skip: needsRootAnd('umoci', 'getfattr', BUSYBOX) },
  () => {
    for (const compression of ['gzip', 'none'] as const) {
      test(`busybox + crafted, ${compression}`, async () => {
        await withTemp(async (dir) => {
          const img = await image(compression);
          await writeOciLayout(path.join(dir, 'layout'), img, 'v1');
          await run('umoci', ['unpack', '--image', `${dir}/layout:v1`, `${dir}/bundle`]);
          const rootfs = path.join(dir, 'bundle', 'rootfs');
          const tree = await readTree(rootfs);
          assertCrafted(tree);
          const bb = tree.get('bin/busybox')!;
          assert.equal(bb.sha256, sha256hex(busyboxBinary()));
          assert.equal(bb.mode, 0o755);
          assert.equal(tree.get('bin/sh')!.linkname, 'busybox');
          assert.equal(tree.get('tmp')!.mode, 0o1777);
          assert.deepEqual([tree.get('home/user')!.uid, tree.get('home/user')!.gid], [1000, 1000]);
          const config = JSON.parse(
            await readFile(path.join(dir, 'bundle', 'config.json'), 'utf8'),
          ) as {
            process: {
              args: string[];
              env: string[];
              cwd: string;
              user: { uid: number; gid: number };
            };
          };
          assert.deepEqual(config.process.args, ['/bin/sh', '-c', 'echo hello']);
          assert.ok(config.process.env.includes('GREETING=hi there'));
          assert.equal(config.process.cwd, '/tmp');
          assert.deepEqual([config.process.user.uid, config.process.user.gid], [1000, 1000]);
        });
      });
    }
  },
);

describe('GNU tar lists every layer', { skip: needsCommands('tar', 'zstd', BUSYBOX) }, () => {
  test('gzip, zstd and plain layers, with xattrs and long names', async () => {
    for (const compression of ['gzip', 'zstd', 'none'] as const) {
      const img = await image(compression);
      for (const layer of img.layers) {
        const args = ['--xattrs', '--xattrs-include=*', '-tvf', '-'];
        if (compression === 'zstd') args.unshift('--zstd');
        if (compression === 'gzip') args.unshift('-z');
        const r = spawnSync('tar', args, {
          input: layer.blob,
          encoding: 'utf8',
          maxBuffer: 64 << 20,
        });
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stderr, '');
        const lines = r.stdout.trimEnd().split('\n');
        const ours: string[] = [];
        for await (const e of readTar(decompress(chunked(layer.blob, 65536)))) {
          ours.push(e.header.path);
        }
        assert.equal(lines.length, ours.length);
        for (const [i, p] of ours.entries())
          assert.ok(lines[i]!.includes(` ${p}`), `${lines[i]!} lists ${p}`);
      }
    }
  });

  test('hostile layers: GNU tar lists the escapes as written, and warns about them', async () => {
    for (const kind of HOSTILE_KINDS) {
      const img = await buildImage({
        layers: hostileLayers(kind, { victim: '/tmp/chrun-victim' }),
      });
      const layer = img.layers[img.layers.length - 1]!;
      const r = spawnSync('tar', ['-tvf', '-'], { input: layer.tar, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const lines = r.stdout.trimEnd().split('\n');
      const ours: string[] = [];
      for await (const e of readTar(chunked(layer.tar, 65536))) ours.push(e.header.path);
      assert.equal(lines.length, ours.length, kind);
      for (const [i, p] of ours.entries()) assert.ok(lines[i]!.includes(` ${p}`), `${kind}: ${p}`);
      const climbs = [
        'dotdot',
        'absolute',
        'hardlink-outside',
        'hardlink-absolute',
        'whiteout-escape',
      ];
      if (climbs.includes(kind)) assert.match(r.stderr, /Removing leading/, kind);
    }
  });
});
