import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { FaultProxy } from '../helpers/fault-proxy.js';
import { leaks, seededImage } from '../helpers/image-fixtures.js';
import { testNoLeaks } from '../helpers/leak-check.js';
import { needsCommands, needsRootAnd } from '../helpers/requirements.js';
import { chrunBin, runChrun } from '../helpers/cli.js';

const opts = { skip: needsCommands('docker-registry', 'skopeo'), leaks };

/** Every visible blob verifies and every image's blobs are all there: what kill -9 must keep true. */
async function assertConsistent(root: string): Promise<void> {
  const blobs = path.join(root, 'content', 'blobs', 'sha256');
  const present = new Set<string>();
  for (const hex of await readdir(blobs).catch(() => [] as string[])) {
    const data = await readFile(path.join(blobs, hex));
    assert.equal(createHash('sha256').update(data).digest('hex'), hex, `blob ${hex} is damaged`);
    present.add(`sha256:${hex}`);
  }
  const index = await readFile(path.join(root, 'images', 'index.json'), 'utf8').catch(
    () => undefined,
  );
  if (index === undefined) return;
  const doc = JSON.parse(index) as { images: { target: { digest: string } }[] };
  for (const r of doc.images) {
    assert.ok(
      present.has(r.target.digest),
      `image ${r.target.digest} registered without its manifest`,
    );
    const m = JSON.parse(await readFile(path.join(blobs, r.target.digest.slice(7)), 'utf8')) as {
      config: { digest: string };
      layers: { digest: string }[];
    };
    for (const d of [m.config, ...m.layers])
      assert.ok(
        present.has(d.digest),
        `image ${r.target.digest} registered without blob ${d.digest}`,
      );
  }
}

/** Starts `chrun pull` and resolves with the process once it has written `bytes` of a layer. */
async function pullUntil(
  root: string,
  ref: string,
  bytes: number,
): Promise<ReturnType<typeof spawn>> {
  const child = spawn(chrunBin, ['--root', root, 'pull', '-q', ref], { stdio: 'ignore' });
  const ingest = path.join(root, 'tmp', 'ingest');
  for (let i = 0; i < 400; i++) {
    for (const name of await readdir(ingest).catch(() => [] as string[])) {
      const st = await stat(path.join(ingest, name)).catch(() => undefined);
      if (st !== undefined && st.size >= bytes) return child;
    }
    if (child.exitCode !== null) throw new Error(`pull ended early with ${child.exitCode}`);
    await sleep(25);
  }
  child.kill('SIGKILL');
  throw new Error('the pull never got going');
}

function exited(child: ReturnType<typeof spawn>): Promise<number | null> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve(child.exitCode)
    : new Promise((r) => child.once('exit', (code) => r(code)));
}

testNoLeaks(
  'kill -9 during a pull leaves nothing half-done; the next pull resumes and finishes',
  opts,
  async (t) => {
    const { reg, dir, img } = await seededImage(t, 'test/kill:1', {
      spec: {
        layers: [
          { compression: 'gzip', bytes: 5_000_000 },
          { compression: 'gzip', bytes: 5_000_000 },
        ],
      },
    });
    // Each blob response stops after 1.5 MB: a pull gets somewhere, then hangs until killed.
    const proxy = await FaultProxy.start(reg.host, { stallBlobsAfter: 1_500_000 });
    t.after(() => proxy.stop());
    const root = path.join(dir, 'root');
    const ref = `${proxy.host}/test/kill:1`;

    const child = await pullUntil(root, ref, 1 << 20);
    child.kill('SIGKILL');
    await exited(child);
    await assertConsistent(root);
    assert.equal((await runChrun(['images', '-q'], { root })).stdout, '', 'no image registered');
    for (const l of img.layers) {
      await assert.rejects(
        stat(path.join(root, 'content', 'blobs', 'sha256', l.digest.slice(7))),
        `layer ${l.digest} must not be visible`,
      );
    }
    const partial = await readdir(path.join(root, 'tmp', 'ingest'));
    assert.ok(partial.length >= 1, 'the partial download stays for a resume');
    const firstKill = proxy.blobGets().length;

    // Two more kills, each after the pull went further: each leaves a consistent store.
    for (const bytes of [2 << 20, 3 << 20]) {
      const c = await pullUntil(root, ref, bytes);
      c.kill('SIGKILL');
      await exited(c);
      await assertConsistent(root);
    }

    proxy.options = {};
    const done = await runChrun(['pull', '-q', ref], { root });
    assert.equal(done.code, 0, done.stderr);
    await assertConsistent(root);
    // The pulls after the first kill went on from the bytes on disk, not from zero.
    const later = proxy.blobGets().slice(firstKill);
    const resumed = later.filter(
      (g) => g.range !== undefined && /^bytes=[1-9]\d{6,}-$/.test(g.range),
    );
    assert.ok(resumed.length >= 2, `layers resumed with Range: ${JSON.stringify(later)}`);
    assert.equal(
      (await runChrun(['images', '-q'], { root })).stdout.split('\n').filter(Boolean).length,
      1,
    );
    assert.deepEqual(await readdir(path.join(root, 'tmp', 'ingest')), []);
  },
);

testNoLeaks(
  'two pulls of one image from two processes both succeed, and each blob is downloaded once',
  opts,
  async (t) => {
    const { reg, dir } = await seededImage(t, 'test/twice:1', {
      spec: {
        layers: [
          { compression: 'gzip', bytes: 300_000 },
          { compression: 'zstd', bytes: 300_000 },
          { compression: 'gzip', bytes: 300_000 },
        ],
      },
    });
    const proxy = await FaultProxy.start(reg.host, { throttleBlobs: 65_536 });
    t.after(() => proxy.stop());
    const root = path.join(dir, 'root');
    const ref = `${proxy.host}/test/twice:1`;
    const [a, b] = await Promise.all([
      runChrun(['pull', '-q', ref], { root }),
      runChrun(['pull', '-q', ref], { root }),
    ]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    const gets = proxy.blobGets().map((g) => g.url.slice(g.url.lastIndexOf('/') + 1));
    const counts = new Map<string, number>();
    for (const g of gets) counts.set(g, (counts.get(g) ?? 0) + 1);
    assert.equal(counts.size, 4, JSON.stringify([...counts]));
    assert.ok(
      [...counts.values()].every((n) => n === 1),
      JSON.stringify([...counts]),
    );
    await assertConsistent(root);
    assert.equal(
      (await runChrun(['images', '-q'], { root })).stdout.split('\n').filter(Boolean).length,
      1,
    );
  },
);

testNoLeaks(
  'disk full during a pull: a clear error, nothing kept',
  { skip: needsRootAnd('docker-registry', 'skopeo'), leaks },
  async (t) => {
    const { reg, dir, img } = await seededImage(t, 'test/big:1', {
      spec: {
        layers: [{ compression: 'gzip', bytes: 3_000_000 }],
      },
    });
    const root = path.join(dir, 'small');
    await mkdir(root);
    assert.equal(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', root]).status, 0);
    // Unmounted here, not in t.after: the temp dir's removal (registered first) runs first.
    try {
      const res = await runChrun(['pull', '-q', `${reg.host}/test/big:1`], { root });
      assert.equal(res.code, 125);
      assert.match(res.stderr, /^chrun: ingest sha256:[0-9a-f]{64}: no space left on device\n$/);
      await assertConsistent(root);
      assert.equal((await runChrun(['images', '-q'], { root })).stdout, '');
      assert.deepEqual(await readdir(path.join(root, 'tmp', 'ingest')), []);
      const left = await readdir(path.join(root, 'content', 'blobs', 'sha256'));
      assert.deepEqual(
        left.filter((h) => img.layers.some((x) => x.digest.endsWith(h))),
        [],
      );
    } finally {
      spawnSync('umount', [root]);
    }
  },
);
