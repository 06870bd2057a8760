import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, mkdir, readFile, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { packTar } from '../../src/tar/index.js';
import { chrunBin, runChrun } from '../helpers/cli.js';
import { dirFor, leaks } from '../helpers/image-fixtures.js';
import { testNoLeaks } from '../helpers/leak-check.js';
import { needsCommands, needsRoot } from '../helpers/requirements.js';

async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of it) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

/** A store with one imported image, "small:1", larger than a pipe's buffer. */
async function storeWithImage(t: TestContext): Promise<{ dir: string; root: string }> {
  const dir = await dirFor(t);
  const root = path.join(dir, 'root');
  const tar = await collect(
    packTar([
      { header: { path: 'etc/', type: 'directory', mode: 0o755, mtime: 1 } },
      {
        header: { path: 'etc/hello', type: 'file', mode: 0o644, mtime: 1 },
        body: randomBytes(1 << 20),
      },
    ]),
  );
  const imp = await runChrun(['import', '-', 'small:1'], { root, input: tar });
  assert.equal(imp.code, 0, imp.stderr);
  return { dir, root };
}

testNoLeaks(
  'save -o follows a symlink and writes into fifos and devices instead of replacing them',
  { skip: needsRoot() || needsCommands('mkfifo', 'mknod'), leaks },
  async (t) => {
    const { dir, root } = await storeWithImage(t);
    const reference = path.join(dir, 'reference.tar');
    const plain = await runChrun(['save', '-o', reference, 'small:1'], { root });
    assert.equal(plain.code, 0, plain.stderr);
    const expected = await readFile(reference);

    // A symlink stays a symlink; its target gets the archive.
    await writeFile(path.join(dir, 'target.tar'), 'old');
    await symlink('target.tar', path.join(dir, 'link.tar'));
    const viaLink = await runChrun(['save', '-o', path.join(dir, 'link.tar'), 'small:1'], { root });
    assert.equal(viaLink.code, 0, viaLink.stderr);
    assert.ok((await lstat(path.join(dir, 'link.tar'))).isSymbolicLink());
    assert.equal(await readlink(path.join(dir, 'link.tar')), 'target.tar');
    assert.deepEqual(await readFile(path.join(dir, 'target.tar')), expected);

    // A fifo: its reader gets the archive, and the fifo is still a fifo.
    const fifo = path.join(dir, 'fifo');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    const reading = collect(createReadStream(fifo));
    const viaFifo = await runChrun(['save', '-o', fifo, 'small:1'], { root, timeoutMs: 20_000 });
    assert.equal(viaFifo.code, 0, viaFifo.stderr);
    assert.deepEqual(await reading, expected);
    assert.ok((await stat(fifo)).isFIFO());

    // A character device (a private /dev/null): written to, not replaced.
    const devNull = path.join(dir, 'null');
    assert.equal(spawnSync('mknod', [devNull, 'c', '1', '3']).status, 0);
    const viaDevice = await runChrun(['save', '-o', devNull, 'small:1'], { root });
    assert.equal(viaDevice.code, 0, viaDevice.stderr);
    const st = await stat(devNull);
    assert.ok(st.isCharacterDevice(), 'the device was replaced');
    assert.equal(st.rdev, (1 << 8) | 3);

    // A directory is refused in one line.
    await mkdir(path.join(dir, 'adir'));
    const intoDir = await runChrun(['save', '-o', path.join(dir, 'adir'), 'small:1'], { root });
    assert.equal(intoDir.code, 125);
    assert.equal(intoDir.stderr, `chrun: save ${path.join(dir, 'adir')}: is a directory\n`);
  },
);

testNoLeaks(
  'save into a pipe whose reader goes away ends quietly, with the status of SIGPIPE',
  { leaks },
  async (t) => {
    const { root } = await storeWithImage(t);
    const child = spawn(chrunBin, ['--root', root, 'save', 'small:1'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // Read a little, as `head -c10` does, then close the pipe.
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.stdout.destroy();
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(stderr, '');
    assert.equal(code, 141);
  },
);
