import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, readFile, readdir, stat, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { Engine } from '../../../src/engine/index.js';
import { isChrunError } from '../../../src/util/index.js';
import {
  buildImage,
  buildIndex,
  busyboxLayer,
  craftedLayers,
  writeDockerArchive,
  writeOciArchive,
  writeOciLayout,
  type BuiltImage,
} from '../../helpers/image-builder.js';
import { testNoLeaks } from '../../helpers/leak-check.js';
import { needsCommands } from '../../helpers/requirements.js';
import { dirFor, leaks } from '../../helpers/image-fixtures.js';

const run = promisify(execFile);
const opts = { skip: needsCommands('skopeo', 'zstd'), leaks };

async function skopeo(...args: string[]): Promise<string> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  return (await run('skopeo', ['--insecure-policy', ...args], { env, maxBuffer: 64 << 20 })).stdout;
}

/** The manifest, config and layer digests of the one image in an OCI layout dir. */
async function readLayout(dir: string): Promise<{
  manifestDigest: string;
  config: { rootfs: { diff_ids: string[] } };
  layers: string[];
}> {
  const index = JSON.parse(await readFile(path.join(dir, 'index.json'), 'utf8')) as {
    manifests: { digest: string }[];
  };
  const manifestDigest = index.manifests[0]!.digest;
  const blob = (d: string): Promise<string> =>
    readFile(path.join(dir, 'blobs', 'sha256', d.slice(7)), 'utf8');
  const manifest = JSON.parse(await blob(manifestDigest)) as {
    config: { digest: string };
    layers: { digest: string }[];
  };
  const config = JSON.parse(await blob(manifest.config.digest)) as {
    rootfs: { diff_ids: string[] };
  };
  return { manifestDigest, config, layers: manifest.layers.map((l) => l.digest) };
}

function testImage(crafted: 'gzip' | 'zstd' = 'zstd'): Promise<BuiltImage> {
  return buildImage({
    layers: [
      busyboxLayer(),
      ...craftedLayers(crafted),
      {
        entries: [{ header: { path: 'plain', type: 'file' }, body: Buffer.from('x') }],
        compression: 'none',
      },
    ],
    config: { Cmd: ['/bin/sh'], Env: ['PATH=/bin'] },
  });
}

async function assertNothingStored(engine: Engine): Promise<void> {
  assert.deepEqual(await engine.images.list(), []);
  assert.deepEqual(await engine.images.store.content.list(), []);
}

testNoLeaks(
  'load docker-save archives, OCI archives and OCI layouts (gzip, zstd and plain layers)',
  opts,
  async (t) => {
    const dir = await dirFor(t);
    const image = await testImage();
    const engine = new Engine({ root: path.join(dir, 'root') });
    const { archivePath: docker } = await writeDockerArchive(path.join(dir, 'docker.tar'), image, [
      'busybox:crafted',
      'localhost:5000/team/bb:2',
    ]);
    const fromDocker = await engine.images.load(docker);
    assert.equal(fromDocker.length, 1);
    assert.deepEqual(fromDocker[0]!.names, [
      'docker.io/library/busybox:crafted',
      'localhost:5000/team/bb:2',
    ]);
    const layers = await engine.images.store.layers(fromDocker[0]!.record);
    assert.deepEqual(
      layers.map((l) => l.diffId),
      image.layers.map((l) => l.diffId),
    );
    assert.equal(fromDocker[0]!.record.id, image.configDigest);

    await writeOciArchive(path.join(dir, 'oci.tar'), image, 'docker.io/library/busybox:oci');
    const fromOci = await engine.images.load(path.join(dir, 'oci.tar'));
    assert.equal(fromOci[0]!.record.target.digest, image.manifestDigest);
    assert.deepEqual(fromOci[0]!.names, ['docker.io/library/busybox:oci']);

    await writeOciLayout(path.join(dir, 'layout'), image, 'example.com/x/y:3');
    const fromDir = await engine.images.load(path.join(dir, 'layout'));
    assert.deepEqual(fromDir[0]!.names, ['example.com/x/y:3']);
    // A gzip-compressed archive, on a stream.
    const gz = path.join(dir, 'docker.tar.gz');
    await writeFile(gz, gzipSync(await readFile(docker)));
    const { createReadStream } = await import('node:fs');
    const fromStream = await engine.images.load(createReadStream(gz));
    assert.equal(fromStream[0]!.record.id, image.configDigest);
    const names = (await engine.images.list()).map((r) => `${r.Repository}:${r.Tag}`).sort();
    assert.deepEqual(names, [
      'busybox:crafted',
      'busybox:oci',
      'example.com/x/y:3',
      'localhost:5000/team/bb:2',
    ]);
  },
);

testNoLeaks(
  'chrun save: skopeo reads both formats, oci-image-tool validates the layout, chrun loads it back',
  { ...opts, skip: needsCommands('skopeo', 'oci-image-tool') },
  async (t) => {
    const dir = await dirFor(t);
    const image = await testImage();
    const engine = new Engine({ root: path.join(dir, 'root') });
    await writeOciLayout(path.join(dir, 'src'), image, 'docker.io/library/src:1');
    await engine.images.load(path.join(dir, 'src'));

    const dockerTar = path.join(dir, 'save-docker.tar');
    await engine.images.save(['src:1'], dockerTar, { format: 'docker-archive' });
    const inspect = JSON.parse(await skopeo('inspect', `docker-archive:${dockerTar}`)) as {
      RepoTags: string[];
      Layers: string[];
    };
    assert.deepEqual(
      inspect.Layers,
      image.layers.map((l) => l.diffId),
    );
    await skopeo(
      'copy',
      '--quiet',
      '--dest-oci-accept-uncompressed-layers',
      `docker-archive:${dockerTar}`,
      `oci:${path.join(dir, 'via-docker')}:x`,
    );
    const viaDocker = await readLayout(path.join(dir, 'via-docker'));
    assert.deepEqual(
      viaDocker.config.rootfs.diff_ids,
      image.layers.map((l) => l.diffId),
    );
    assert.deepEqual(
      viaDocker.layers,
      image.layers.map((l) => l.diffId),
    );

    const ociTar = path.join(dir, 'save-oci.tar');
    await engine.images.save(['src:1'], ociTar, { format: 'oci-archive' });
    await skopeo(
      'copy',
      '--quiet',
      '--preserve-digests',
      `oci-archive:${ociTar}`,
      `oci:${path.join(dir, 'via-oci')}:x`,
    );
    const viaOci = await readLayout(path.join(dir, 'via-oci'));
    assert.equal(viaOci.manifestDigest, image.manifestDigest);
    assert.deepEqual(
      viaOci.layers,
      image.layers.map((l) => l.digest),
    );
    // oci-image-tool 1.0.0-rc1 cannot walk tar files ("end of walk", skopeo's too) and
    // predates the zstd media type: validate the extracted layout of a gzip image.
    const gz = await testImage('gzip');
    await writeOciLayout(path.join(dir, 'src-gz'), gz, 'docker.io/library/gz:1');
    await engine.images.load(path.join(dir, 'src-gz'));
    const gzTar = path.join(dir, 'save-gz.tar');
    await engine.images.save(['gz:1'], gzTar, { format: 'oci-archive' });
    const extracted = path.join(dir, 'extracted');
    await mkdir(extracted);
    await run('tar', ['-C', extracted, '-xf', gzTar]);
    const { stdout } = await run('oci-image-tool', ['validate', '--type', 'image', extracted]);
    assert.match(stdout, /Validation succeeded/);

    // And back into another store: the same image.
    const other = new Engine({ root: path.join(dir, 'other') });
    const [d] = await other.images.load(dockerTar);
    assert.equal(d!.record.id, image.configDigest);
    assert.deepEqual(d!.names, ['docker.io/library/src:1']);
    const [o] = await other.images.load(ociTar);
    assert.equal(o!.record.target.digest, image.manifestDigest);
  },
);

testNoLeaks('archives written by skopeo load in chrun', opts, async (t) => {
  const dir = await dirFor(t);
  // skopeo's docker-archive writer cannot take zstd layers.
  const image = await testImage('gzip');
  await writeOciLayout(path.join(dir, 'src'), image, 'latest');
  const dockerTar = path.join(dir, 'sk-docker.tar');
  const ociTar = path.join(dir, 'sk-oci.tar');
  await skopeo(
    'copy',
    '--quiet',
    `oci:${path.join(dir, 'src')}:latest`,
    `docker-archive:${dockerTar}:skopeo/docker:1`,
  );
  await skopeo(
    'copy',
    '--quiet',
    `oci:${path.join(dir, 'src')}:latest`,
    `oci-archive:${ociTar}:skopeo/oci:2`,
  );
  const engine = new Engine({ root: path.join(dir, 'root') });
  const [d] = await engine.images.load(dockerTar);
  assert.deepEqual(d!.names, ['docker.io/skopeo/docker:1']);
  assert.deepEqual(
    (await engine.images.store.layers(d!.record)).map((l) => l.diffId),
    image.layers.map((l) => l.diffId),
  );
  const [o] = await engine.images.load(ociTar);
  assert.deepEqual(o!.names, ['docker.io/skopeo/oci:2']);
  assert.deepEqual(
    (await engine.images.store.layers(o!.record)).map((l) => l.diffId),
    image.layers.map((l) => l.diffId),
  );
});

testNoLeaks(
  'a multi-platform OCI archive loads the host platform, or the one asked for',
  opts,
  async (t) => {
    const dir = await dirFor(t);
    const { hostPlatform, parsePlatform } = await import('../../../src/oci/index.js');
    const host = hostPlatform();
    const other =
      host.architecture === 's390x' ? parsePlatform('linux/ppc64le') : parsePlatform('linux/s390x');
    const layer = {
      entries: [{ header: { path: 'f', type: 'file' as const }, body: Buffer.from('1') }],
    };
    const mine = await buildImage({ layers: [layer], platform: host });
    const theirs = await buildImage({ layers: [layer], platform: other });
    await writeOciArchive(
      path.join(dir, 'multi.tar'),
      buildIndex([theirs, mine]),
      'docker.io/library/multi:1',
    );
    const e1 = new Engine({ root: path.join(dir, 'r1') });
    const [a] = await e1.images.load(path.join(dir, 'multi.tar'));
    assert.equal(a!.record.target.digest, mine.manifestDigest);
    const e2 = new Engine({ root: path.join(dir, 'r2') });
    const [b] = await e2.images.load(path.join(dir, 'multi.tar'), { platform: other });
    assert.equal(b!.record.target.digest, theirs.manifestDigest);
    const e3 = new Engine({ root: path.join(dir, 'r3') });
    await assert.rejects(
      e3.images.load(path.join(dir, 'multi.tar'), { platform: parsePlatform('linux/mips64') }),
      (err) => isChrunError(err, 'CHRUN_PLATFORM_NOT_FOUND'),
    );
    await assertNothingStored(e3);
  },
);

testNoLeaks(
  'bad archives are refused with one clear error and leave the store as it was',
  opts,
  async (t) => {
    const dir = await dirFor(t);
    const image = await testImage();
    const engine = new Engine({ root: path.join(dir, 'root') });
    const docker = path.join(dir, 'docker.tar');
    await writeDockerArchive(docker, image, ['bb:1']);
    const size = (await stat(docker)).size;
    const cut = path.join(dir, 'cut.tar');
    await writeFile(cut, (await readFile(docker)).subarray(0, Math.floor(size / 2)));
    await assert.rejects(
      engine.images.load(cut),
      (err) => isChrunError(err, 'CHRUN_ARCHIVE_INVALID') && /truncated/.test(err.message),
    );
    await assertNothingStored(engine);

    const lying = await buildImage({
      layers: [
        {
          entries: [{ header: { path: 'a', type: 'file' }, body: Buffer.from('a') }],
          lie: { diffId: `sha256:${'1'.repeat(64)}` },
        },
      ],
    });
    await writeDockerArchive(path.join(dir, 'lie.tar'), lying, ['lie:1']);
    await assert.rejects(
      engine.images.load(path.join(dir, 'lie.tar')),
      (err) => isChrunError(err, 'CHRUN_DIGEST_MISMATCH') && /diffID/.test(err.message),
    );
    await assertNothingStored(engine);

    await writeOciLayout(path.join(dir, 'tampered'), image, 'docker.io/library/t:1');
    const victim = image.layers[0]!.digest.slice(7);
    await writeFile(path.join(dir, 'tampered', 'blobs', 'sha256', victim), 'not the layer');
    await assert.rejects(
      engine.images.load(path.join(dir, 'tampered')),
      (err) =>
        isChrunError(err, 'CHRUN_SIZE_MISMATCH') || isChrunError(err, 'CHRUN_DIGEST_MISMATCH'),
    );
    await assertNothingStored(engine);

    await writeFile(path.join(dir, 'junk.tar'), 'this is not a tar archive at all'.repeat(40));
    await assert.rejects(engine.images.load(path.join(dir, 'junk.tar')), (err) =>
      isChrunError(err, 'CHRUN_ARCHIVE_INVALID'),
    );
    const empty = path.join(dir, 'empty');
    await mkdir(empty);
    await assert.rejects(
      engine.images.load(empty),
      (err) =>
        isChrunError(err, 'CHRUN_ARCHIVE_INVALID') && /not an image archive/.test(err.message),
    );
    await assert.rejects(
      engine.images.load(path.join(dir, 'missing.tar')),
      (err) => isChrunError(err, 'CHRUN_INVALID_ARGUMENT') && /no such file/.test(err.message),
    );
    await assertNothingStored(engine);
    assert.deepEqual(await readdir(path.join(engine.paths.tmp, 'ingest')), []);
    await truncate(cut, 0);
  },
);

testNoLeaks('import a rootfs tarball (as docker export writes) with --change', opts, async (t) => {
  const dir = await dirFor(t);
  const image = await buildImage({ layers: [busyboxLayer({ compression: 'none' })] });
  const rootfs = image.layers[0]!.tar;
  const engine = new Engine({ root: path.join(dir, 'root') });
  await writeFile(path.join(dir, 'rootfs.tar.gz'), gzipSync(rootfs));
  const record = await engine.images.import(path.join(dir, 'rootfs.tar.gz'), 'imported:1', {
    changes: [
      'CMD ["/bin/sh", "-c", "echo hi"]',
      'ENTRYPOINT /bin/env',
      'ENV A=1 B="two words"',
      'ENV C 3',
      'WORKDIR /srv',
      'USER 1000:1000',
      'EXPOSE 8080 53/udp',
      'LABEL org.example=yes',
    ],
    message: 'from a test',
  });
  const info = await engine.images.inspect('imported:1');
  assert.equal(info.Id, record.id);
  assert.deepEqual(info.RootFS.Layers, [image.layers[0]!.diffId]);
  assert.deepEqual(info.Config, {
    Cmd: ['/bin/sh', '-c', 'echo hi'],
    Entrypoint: ['/bin/sh', '-c', '/bin/env'],
    Env: ['A=1', 'B=two words', 'C=3'],
    WorkingDir: '/srv',
    User: '1000:1000',
    ExposedPorts: { '8080/tcp': {}, '53/udp': {} },
    Labels: { 'org.example': 'yes' },
  });
  assert.equal(info.History[0]?.comment, 'from a test');
  const layers = await engine.images.store.layers(record);
  assert.equal(layers[0]!.compression, 'gzip');
  // Not a tar: refused, nothing kept; bad --change: refused before reading anything.
  await writeFile(path.join(dir, 'junk'), 'junk'.repeat(300));
  await assert.rejects(
    engine.images.import(path.join(dir, 'junk'), 'junk:1'),
    (err) =>
      isChrunError(err, 'CHRUN_ARCHIVE_INVALID') && /import: not a tar archive/.test(err.message),
  );
  await assert.rejects(
    engine.images.import(path.join(dir, 'rootfs.tar.gz'), undefined, { changes: ['RUN make'] }),
    (err) =>
      isChrunError(err, 'CHRUN_INVALID_ARGUMENT') && /RUN is not supported/.test(err.message),
  );
  assert.equal((await engine.images.list()).length, 1);
  assert.equal((await engine.images.store.content.list()).length, 3);
});
