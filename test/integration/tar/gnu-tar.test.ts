// Cross-checks of src/tar against GNU tar, both ways: archives GNU tar writes from a real tree
// (pax with xattrs, gnu, gzip, zstd) are read by readTar and compared with the tree; archives
// packTar writes are listed and extracted by GNU tar and the extracted tree compared with them.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, symlink, link, utimes, writeFile, chown, chmod, lstat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  decompress,
  packTar,
  readTar,
  type TarHeader,
  type TarWriteEntry,
} from '../../../src/tar/index.js';
import { leakCheckEachTest } from '../../helpers/leak-check.js';
import { needsRootAnd } from '../../helpers/requirements.js';
import { readTree, type TreeNode } from '../../helpers/fs-tree.js';
import { tempDir } from '../../helpers/temp.js';
import { collect } from '../../helpers/tar-bytes.js';

const PREFIX = 'chrun-tar-it-';
leakCheckEachTest({ files: [{ path: os.tmpdir(), match: new RegExp(`^${PREFIX}`) }] });

const CAP = Buffer.from('0100000200200000000000000000000000000000', 'hex');
const BIN = Buffer.from([0xff, 0xfe, 0x80, 0x00, 0x0a, 0x3d, 0x20, 0x31]);
const LONG_DIR = `${'a'.repeat(120)}/${'b'.repeat(150)}`;
const LONG_TARGET = `../${'t'.repeat(200)}`;
const BIG = randomBytes(1_500_000);

const run = (cmd: string, args: string[], cwd?: string): string => {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
  assert.equal(r.stderr, '', `${cmd} ${args.join(' ')} warned`);
  return r.stdout;
};

/** A tree with every feature, made with the usual tools (mknod, setcap, setfattr). */
async function makeTree(root: string): Promise<void> {
  await mkdir(path.join(root, 'dir'));
  await mkdir(path.join(root, LONG_DIR), { recursive: true });
  await mkdir(path.join(root, 'dev'));
  await writeFile(path.join(root, 'dir/file'), '#!/bin/sh\necho hi\n');
  await writeFile(path.join(root, 'dir/big'), BIG);
  await writeFile(path.join(root, LONG_DIR, 'deep-file'), 'deep');
  await writeFile(path.join(root, 'h\u00e9llo'), 'unicode');
  await writeFile(path.join(root, 'bigids'), '');
  await writeFile(path.join(root, 'old'), '');
  await link(path.join(root, 'dir/file'), path.join(root, 'dir/hard'));
  await symlink('../etc/passwd', path.join(root, 'dir/sym'));
  await symlink(LONG_TARGET, path.join(root, 'longsym'));
  run('mknod', [path.join(root, 'dev/null'), 'c', '1', '3']);
  run('mknod', [path.join(root, 'dev/sda'), 'b', '8', '0']);
  run('mkfifo', [path.join(root, 'fifo')]);
  await chown(path.join(root, 'dir/file'), 1000, 1000);
  await chown(path.join(root, 'bigids'), 3_000_000, 4_000_000);
  await chmod(path.join(root, 'dir/file'), 0o4755); // after chown, which clears setuid
  await chmod(path.join(root, 'dir'), 0o2775);
  run('setcap', ['cap_net_raw+ep', path.join(root, 'dir/file')]); // after chown, which drops it
  run('setfattr', [
    '-n',
    'user.bin',
    '-v',
    `0x${BIN.toString('hex')}`,
    path.join(root, 'dir/file'),
  ]);
  run('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', path.join(root, 'dir')]);
  run('setfattr', ['-n', 'user.empty', '-v', '', path.join(root, 'old')]);
  await utimes(path.join(root, 'old'), 0, -86400 * 365 * 10 + 0.25);
  await utimes(path.join(root, 'fifo'), 0, 1700000000.125);
}

interface Got {
  header: TarHeader;
  sha256: string;
}

async function readArchive(file: string): Promise<Map<string, Got>> {
  const out = new Map<string, Got>();
  for await (const e of readTar(decompress(createReadStream(file)))) {
    const hash = createHash('sha256');
    for await (const c of e.body) hash.update(c);
    const key = e.header.path.replace(/^\.\//, '').replace(/\/$/, '');
    if (key !== '.' && key !== '') out.set(key, { header: e.header, sha256: hash.digest('hex') });
  }
  return out;
}

/** Checks that what readTar gave for an archive of `tree` describes it exactly. */
function assertMatchesTree(
  got: Map<string, Got>,
  tree: Map<string, TreeNode>,
  opts: { xattrs: boolean; subsecond: boolean },
): void {
  assert.deepEqual([...got.keys()].sort(), [...tree.keys()].sort());
  const hardlinks = [...got.values()].filter((g) => g.header.type === 'hardlink');
  assert.equal(hardlinks.length, 1, 'one of dir/file and dir/hard is a hardlink to the other');
  for (const [p, node] of tree) {
    const { header: h, sha256 } = got.get(p)!;
    const what = `${p}: `;
    if (h.type === 'hardlink') {
      assert.ok(['dir/file', 'dir/hard'].includes(p), what);
      assert.equal(h.linkname.replace(/^\.\//, ''), p === 'dir/file' ? 'dir/hard' : 'dir/file');
      continue;
    }
    assert.equal(h.type, node.type, `${what}type`);
    assert.equal(h.mode, node.mode, `${what}mode`);
    assert.deepEqual([h.uid, h.gid], [node.uid, node.gid], `${what}owner`);
    assert.equal(h.size, node.size, `${what}size`);
    assert.equal(h.linkname, node.linkname, `${what}link`);
    assert.deepEqual([h.devmajor, h.devminor], [node.devmajor, node.devminor], `${what}device`);
    if (node.type === 'file') assert.equal(sha256, node.sha256, `${what}content`);
    const mtime = opts.subsecond ? node.mtimeMs / 1000 : Math.floor(node.mtimeMs / 1000);
    assert.ok(Math.abs(h.mtime - mtime) < 1e-6, `${what}mtime ${h.mtime} != ${mtime}`);
    // GNU tar writes an empty xattr as an empty PAX value, which deletes the record: readTar
    // drops it, as Go's archive/tar does.
    const nonEmpty = new Map([...node.xattrs].filter(([, v]) => v.length > 0));
    if (opts.xattrs) assert.deepEqual(h.xattrs, nonEmpty, `${what}xattrs`);
    else assert.equal(h.xattrs.size, 0);
  }
}

describe(
  'GNU tar writes, readTar reads',
  { skip: needsRootAnd('tar', 'setcap', 'setfattr', 'getfattr', 'zstd') },
  () => {
    test('pax with xattrs (binary security.capability included), gzip and zstd', async () => {
      const tmp = await tempDir(PREFIX);
      try {
        const root = path.join(tmp.path, 'root');
        await mkdir(root);
        await makeTree(root);
        const tree = await readTree(root);
        assert.deepEqual(
          tree.get('dir/file')!.xattrs.get('security.capability'),
          CAP,
          'setcap worked',
        );
        const base = ['--xattrs', '--xattrs-include=*', '--format=pax', '-C', root];
        run('tar', [...base, '-cf', path.join(tmp.path, 'a.tar'), '.']);
        run('tar', [...base, '-czf', path.join(tmp.path, 'a.tar.gz'), '.']);
        run('tar', [...base, '--zstd', '-cf', path.join(tmp.path, 'a.tar.zst'), '.']);
        for (const f of ['a.tar', 'a.tar.gz', 'a.tar.zst']) {
          assertMatchesTree(await readArchive(path.join(tmp.path, f)), tree, {
            xattrs: true,
            subsecond: true,
          });
        }
      } finally {
        await tmp.cleanup();
      }
    });

    test('gnu format: long names (L/K) and base-256 numbers', async () => {
      const tmp = await tempDir(PREFIX);
      try {
        const root = path.join(tmp.path, 'root');
        await mkdir(root);
        await makeTree(root);
        const tree = await readTree(root);
        run('tar', ['--format=gnu', '-C', root, '-cf', path.join(tmp.path, 'g.tar'), '.']);
        const raw = execFileSync('grep', ['-c', '././@LongLink', path.join(tmp.path, 'g.tar')], {
          encoding: 'utf8',
        });
        assert.ok(Number(raw) > 0, 'GNU tar used long-name entries');
        assertMatchesTree(await readArchive(path.join(tmp.path, 'g.tar')), tree, {
          xattrs: false,
          subsecond: false,
        });
      } finally {
        await tmp.cleanup();
      }
    });
  },
);

describe(
  'packTar writes, GNU tar lists and extracts',
  { skip: needsRootAnd('tar', 'getfattr') },
  () => {
    const entries: TarWriteEntry[] = [
      {
        header: {
          path: 'dir/',
          type: 'directory',
          mode: 0o2775,
          uid: 1000,
          gid: 1000,
          mtime: 1600000000,
          xattrs: new Map([['trusted.overlay.opaque', Buffer.from('y')]]),
        },
      },
      {
        header: {
          path: 'dir/file',
          type: 'file',
          mode: 0o4755,
          uid: 1000,
          gid: 1000,
          mtime: 1700000000.5,
          xattrs: new Map([
            ['security.capability', CAP],
            ['user.bin', BIN],
            ['user.empty', Buffer.alloc(0)],
          ]),
        },
        body: Buffer.from('#!/bin/sh\n'),
      },
      { header: { path: 'dir/big', type: 'file', mtime: 1700000001 }, body: BIG },
      { header: { path: 'dir/hard', type: 'hardlink', linkname: 'dir/file' } },
      {
        header: { path: 'dir/sym', type: 'symlink', linkname: '../etc/passwd', mtime: 1700000002 },
      },
      { header: { path: 'longsym', type: 'symlink', linkname: LONG_TARGET, mtime: 1700000003 } },
      { header: { path: 'dev/', type: 'directory', mtime: 1700000004 } },
      {
        header: {
          path: 'dev/null',
          type: 'chardev',
          mode: 0o666,
          devmajor: 1,
          devminor: 3,
          mtime: 1700000005,
        },
      },
      {
        header: {
          path: 'dev/sda',
          type: 'blockdev',
          mode: 0o660,
          devmajor: 8,
          devminor: 0,
          mtime: 1700000006,
        },
      },
      { header: { path: 'fifo', type: 'fifo', mode: 0o600, mtime: 1700000007.25 } },
      { header: { path: `${LONG_DIR.split('/')[0]!}/`, type: 'directory', mtime: 1700000008 } },
      { header: { path: `${LONG_DIR}/`, type: 'directory', mtime: 1700000009 } },
      {
        header: { path: `${LONG_DIR}/deep-file`, type: 'file', mtime: 1700000010 },
        body: Buffer.from('deep'),
      },
      {
        header: { path: 'h\u00e9llo', type: 'file', mtime: 1700000011 },
        body: Buffer.from('unicode'),
      },
      {
        header: { path: 'bigids', type: 'file', uid: 3_000_000, gid: 4_000_000, mtime: 1700000012 },
      },
      { header: { path: 'old', type: 'file', mtime: -315360000 } },
    ];

    test('tar -tv lists every entry as written', async () => {
      const tmp = await tempDir(PREFIX);
      try {
        const file = path.join(tmp.path, 'ours.tar');
        await writeFile(file, await collect(packTar(entries)));
        const listing = run('tar', [
          '--xattrs',
          '--xattrs-include=*',
          '--numeric-owner',
          '--full-time',
          '-tvf',
          file,
        ]);
        const lines = listing.trimEnd().split('\n');
        assert.equal(lines.length, entries.length);
        for (const [i, { header: h }] of entries.entries()) {
          const line = lines[i]!;
          assert.ok(line.includes(` ${h.path}`), `${line} names ${h.path}`);
          assert.ok(line.includes(`${h.uid ?? 0}/${h.gid ?? 0}`), `${line}: owner`);
          if (h.type === 'symlink') assert.ok(line.endsWith(`-> ${h.linkname!}`), line);
          if (h.type === 'hardlink') assert.ok(line.endsWith(`link to ${h.linkname!}`), line);
          if (h.type === 'chardev' || h.type === 'blockdev')
            assert.ok(line.includes(`${h.devmajor!},${h.devminor!}`), line);
        }
        assert.match(lines[1]!, /^-rwsr-xr-x\* 1000\/1000 +10 /, 'setuid file with xattrs (*)');
      } finally {
        await tmp.cleanup();
      }
    });

    test('tar -x extracts a tree identical to the entries', async () => {
      const tmp = await tempDir(PREFIX);
      try {
        const file = path.join(tmp.path, 'ours.tar');
        const out = path.join(tmp.path, 'out');
        await mkdir(out);
        await writeFile(file, await collect(packTar(entries)));
        run('tar', [
          '--xattrs',
          '--xattrs-include=*',
          '--numeric-owner',
          '--warning=no-timestamp',
          '-xpf',
          file,
          '-C',
          out,
        ]);
        const tree = await readTree(out);
        assert.deepEqual(
          [...tree.keys()].sort(),
          entries.map((e) => e.header.path.replace(/\/$/, '')).sort(),
        );
        for (const { header: h, body } of entries) {
          const node = tree.get(h.path.replace(/\/$/, ''))!;
          const what = `${h.path}: `;
          if (h.type === 'hardlink') {
            assert.equal(node.ino, tree.get(h.linkname!)!.ino, `${what}same inode`);
            continue;
          }
          assert.equal(node.type, h.type, `${what}type`);
          const mode =
            h.mode ?? (h.type === 'directory' ? 0o755 : h.type === 'symlink' ? 0o777 : 0o644);
          assert.equal(node.mode, mode, `${what}mode`);
          assert.deepEqual([node.uid, node.gid], [h.uid ?? 0, h.gid ?? 0], `${what}owner`);
          assert.equal(node.linkname, h.linkname ?? '', `${what}link`);
          assert.deepEqual(
            [node.devmajor, node.devminor],
            [h.devmajor ?? 0, h.devminor ?? 0],
            `${what}device`,
          );
          if (body instanceof Uint8Array) {
            assert.equal(
              node.sha256,
              createHash('sha256').update(body).digest('hex'),
              `${what}content`,
            );
          }
          if (h.type !== 'symlink') {
            assert.ok(
              Math.abs(node.mtimeMs / 1000 - (h.mtime ?? 0)) < 1e-6,
              `${what}mtime ${node.mtimeMs}`,
            );
          }
          const written = [...(h.xattrs ?? [])].filter(([, v]) => v.length > 0);
          assert.deepEqual(node.xattrs, new Map(written), `${what}xattrs (empty ones left out)`);
        }
        assert.equal((await lstat(path.join(out, 'dir/file'))).nlink, 2);
      } finally {
        await tmp.cleanup();
      }
    });
  },
);
