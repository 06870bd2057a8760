import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { describe, test } from 'node:test';
import { applyLayer, type LayerForm } from '../../../src/snapshots/index.js';
import { applyInto } from '../../../src/snapshots/apply-into.js';
import { fsCalls, mountAll, splitdev, tryUnmount } from '../../../src/sys/index.js';
import { isChrunError, type ErrorCode } from '../../../src/util/index.js';
import { layerEntries, MTIME, type EntrySpec } from '../../helpers/layer-entries.js';
import { leakCheckEachTest } from '../../helpers/leak-check.js';
import { needsRoot } from '../../helpers/requirements.js';
import { tempDir } from '../../helpers/temp.js';
import { readTree } from '../../helpers/tree-compare.js';

const CAP = Buffer.from('0100000200200000000000000000000000000000', 'hex'); // cap_net_bind_service=ep

// Only this file's temp dirs: other engineers' unit runs make their own meanwhile.
leakCheckEachTest({ files: [{ path: os.tmpdir(), match: /^chrun-(apply|snap|umoci|registry)/ }] });

let tmp: { path: string; cleanup: () => Promise<void> };
/** A fresh temp dir for the running test, removed after it. */
async function fresh(t: { after(fn: () => Promise<void>): void }): Promise<void> {
  tmp = await tempDir('chrun-apply-');
  t.after(tmp.cleanup);
}

/** Applies each layer into its own directory (overlay) or all into one (copy). */
async function apply(form: LayerForm, layers: EntrySpec[][]): Promise<string[]> {
  const dirs: string[] = [];
  for (const [i, layer] of layers.entries()) {
    const dir = form === 'overlay' ? path.join(tmp.path, `l${i}`) : path.join(tmp.path, 'tree');
    mkdirSync(dir, { recursive: true });
    const below = [...dirs].reverse();
    await applyLayer(layerEntries(layer), {
      dir,
      form,
      name: `layer${i}`,
      lower: { dirs: () => Promise.resolve(below) },
    });
    if (form === 'overlay' || dirs.length === 0) dirs.push(dir);
  }
  return dirs;
}

/** Mounts the overlay layers read-only, runs fn on the merged view, unmounts. */
async function merged<T>(dirs: string[], fn: (root: string) => T | Promise<T>): Promise<T> {
  const target = path.join(tmp.path, 'merged');
  mkdirSync(target, { recursive: true });
  const lowers = [...dirs].reverse();
  if (lowers.length === 1) lowers.push(path.join(tmp.path, 'emptylower'));
  mkdirSync(path.join(tmp.path, 'emptylower'), { recursive: true });
  mountAll(
    [{ type: 'overlay', source: 'overlay', options: ['ro', `lowerdir=${lowers.join(':')}`] }],
    target,
  );
  try {
    return await fn(target);
  } finally {
    tryUnmount(target);
  }
}

const base: EntrySpec[] = [
  { path: './', type: 'directory', mode: 0o755 },
  { path: 'bin/', type: 'directory', mode: 0o755 },
  {
    path: 'bin/tool',
    type: 'file',
    mode: 0o4755,
    uid: 0,
    gid: 0,
    body: 'tool',
    xattrs: { 'security.capability': CAP },
  },
  { path: 'bin/alias', type: 'hardlink', linkname: 'bin/tool' },
  { path: 'bin/sh', type: 'symlink', linkname: 'tool', uid: 7, gid: 8 },
  { path: 'tmp/', type: 'directory', mode: 0o1777, mtime: MTIME + 5 },
  { path: 'srv/', type: 'directory', mode: 0o2750, uid: 1000, gid: 1001 },
  {
    path: 'srv/data',
    type: 'file',
    mode: 0o640,
    uid: 1000,
    gid: 1001,
    body: 'data',
    xattrs: { 'user.note': 'hi' },
  },
  { path: 'dev/', type: 'directory' },
  { path: 'dev/null', type: 'chardev', mode: 0o666, devmajor: 1, devminor: 3 },
  { path: 'dev/loop9', type: 'blockdev', mode: 0o660, devmajor: 7, devminor: 9, gid: 6 },
  { path: 'dev/pipe', type: 'fifo', mode: 0o600 },
  { path: 'etc/', type: 'directory' },
  { path: 'etc/gone', type: 'file', body: 'x' },
  { path: 'etc/keep', type: 'file', body: 'k' },
  { path: 'opq/', type: 'directory' },
  { path: 'opq/old', type: 'file', body: 'old' },
];

for (const form of ['overlay', 'copy'] as const) {
  describe(`applyLayer (${form} form)`, { skip: needsRoot() }, () => {
    test('keeps owners, modes, times, links, devices, fifos and xattrs', async (tc) => {
      await fresh(tc);
      const [dir] = await apply(form, [base]);
      const t = readTree(dir!);
      const tool = t.get('bin/tool')!;
      assert.equal(tool.mode, 0o4755);
      assert.equal(tool.xattrs['security.capability'], CAP.toString('hex'));
      assert.equal(tool.mtime, MTIME);
      assert.equal(
        lstatSync(path.join(dir!, 'bin/alias')).ino,
        lstatSync(path.join(dir!, 'bin/tool')).ino,
      );
      assert.deepEqual(
        [t.get('bin/sh')!.type, t.get('bin/sh')!.link, t.get('bin/sh')!.uid],
        ['symlink', 'tool', 7],
      );
      assert.equal(t.get('tmp')!.mode, 0o1777);
      assert.equal(t.get('tmp')!.mtime, MTIME + 5, 'a directory keeps its mtime');
      assert.equal(t.get('bin')!.mtime, MTIME, 'set after its contents were written');
      assert.deepEqual(
        [t.get('srv')!.mode, t.get('srv')!.uid, t.get('srv')!.gid],
        [0o2750, 1000, 1001],
      );
      assert.equal(t.get('srv/data')!.xattrs['user.note'], Buffer.from('hi').toString('hex'));
      assert.deepEqual(
        [t.get('dev/null')!.type, t.get('dev/null')!.dev, t.get('dev/null')!.mode],
        ['chardev', '1:3', 0o666],
      );
      assert.deepEqual(
        [t.get('dev/loop9')!.type, t.get('dev/loop9')!.dev, t.get('dev/loop9')!.gid],
        ['blockdev', '7:9', 6],
      );
      assert.equal(t.get('dev/pipe')!.type, 'fifo');
      assert.equal(readFileSync(path.join(dir!, 'srv/data'), 'utf8'), 'data');
    });

    test('whiteouts and opaque directories hide what is below, not what the layer adds', async (tc) => {
      await fresh(tc);
      const top: EntrySpec[] = [
        { path: 'etc/', type: 'directory' },
        { path: 'etc/.wh.gone', type: 'file' },
        { path: 'opq/', type: 'directory' },
        { path: 'opq/.wh..wh..opq', type: 'file' },
        { path: 'opq/new', type: 'file', body: 'new' },
        { path: 'bin/.wh.sh', type: 'file' },
        { path: 'bin/sh', type: 'file', body: 'replaced' },
      ];
      const dirs = await apply(form, [base, top]);
      const check = (root: string) => {
        const t = readTree(root);
        assert.equal(t.has('etc/gone'), false);
        assert.equal(t.has('etc/keep'), true);
        assert.equal(t.has('opq/old'), false);
        assert.equal(t.has('opq/new'), true);
        assert.equal(
          t.get('bin/sh')!.type,
          'file',
          'a whiteout does not hide what its own layer adds',
        );
        assert.equal(t.get('bin/tool')!.type, 'file');
      };
      if (form === 'copy') {
        check(dirs[0]!);
        return;
      }
      const upper = dirs[1]!;
      const wh = lstatSync(path.join(upper, 'etc/gone'));
      assert.ok(
        wh.isCharacterDevice() && splitdev(wh.rdev).major === 0 && splitdev(wh.rdev).minor === 0,
      );
      assert.equal(
        fsCalls.getXattr(path.join(upper, 'opq'), 'trusted.overlay.opaque')?.toString(),
        'y',
      );
      await merged(dirs, check);
    });

    test('a hardlink to a file of a lower layer', async (tc) => {
      await fresh(tc);
      const top: EntrySpec[] = [
        { path: 'usr/', type: 'directory' },
        { path: 'usr/tool2', type: 'hardlink', linkname: 'bin/tool' },
        { path: 'usr/tool3', type: 'hardlink', linkname: 'bin/tool' },
      ];
      const dirs = await apply(form, [base, top]);
      const check = (root: string) => {
        const t = readTree(root);
        for (const p of ['usr/tool2', 'usr/tool3']) {
          assert.equal(t.get(p)!.sha256, t.get('bin/tool')!.sha256);
          assert.equal(t.get(p)!.mode, 0o4755);
          assert.equal(t.get(p)!.xattrs['security.capability'], CAP.toString('hex'));
        }
      };
      if (form === 'copy') return check(dirs[0]!);
      const upper = dirs[1]!;
      // copied up once into this layer; the second link shares the copy
      assert.equal(
        lstatSync(path.join(upper, 'usr/tool2')).ino,
        lstatSync(path.join(upper, 'usr/tool3')).ino,
      );
      await merged(dirs, check);
    });

    test('parents the layer does not carry keep the metadata of the directory below', async (tc) => {
      await fresh(tc);
      const top: EntrySpec[] = [{ path: 'srv/more/file', type: 'file', body: 'm' }];
      const dirs = await apply(form, [base, top]);
      const check = (root: string) => {
        const t = readTree(root);
        assert.deepEqual(
          [t.get('srv')!.mode, t.get('srv')!.uid, t.get('srv')!.gid],
          [0o2750, 1000, 1001],
        );
        assert.equal(t.get('srv')!.mtime, MTIME);
        assert.equal(t.has('srv/data'), true);
        assert.equal(t.get('srv/more')!.mode, 0o755);
      };
      if (form === 'copy') return check(dirs[0]!);
      await merged(dirs, check);
    });

    test('a symlinked parent inside the root is followed (lib -> usr/lib)', async (tc) => {
      await fresh(tc);
      const l0: EntrySpec[] = [
        { path: 'usr/', type: 'directory' },
        { path: 'usr/lib/', type: 'directory' },
        { path: 'lib', type: 'symlink', linkname: 'usr/lib' },
        { path: 'usr/bin/', type: 'directory' },
        { path: 'usr/bin/up', type: 'symlink', linkname: '../lib' },
      ];
      const l1: EntrySpec[] = [
        { path: 'lib/a.so', type: 'file', body: 'a' },
        { path: 'usr/bin/up/b.so', type: 'file', body: 'b' },
      ];
      const dirs = await apply(form, [l0, l1]);
      const check = (root: string) => {
        assert.equal(readFileSync(path.join(root, 'usr/lib/a.so'), 'utf8'), 'a');
        assert.equal(readFileSync(path.join(root, 'usr/lib/b.so'), 'utf8'), 'b');
        assert.equal(readlinkSync(path.join(root, 'lib')), 'usr/lib');
      };
      if (form === 'copy') return check(dirs[0]!);
      await merged(dirs, check);
    });

    test('an entry that replaces a symlink replaces it, never writes through it', async (tc) => {
      await fresh(tc);
      const outside = path.join(tmp.path, 'outside');
      mkdirSync(outside);
      const [dir] = await apply(form, [
        [
          { path: 'x', type: 'symlink', linkname: outside + '/f' },
          { path: 'x', type: 'file', body: 'in' },
        ],
      ]);
      assert.equal(readFileSync(path.join(dir!, 'x'), 'utf8'), 'in');
      assert.deepEqual(readTree(outside).size, 1);
    });
    test('a parent that is an absolute symlink of a lower layer resolves inside the root', async (tc) => {
      await fresh(tc);
      const dirs = await apply(form, [
        [
          { path: 'a', type: 'symlink', linkname: '/x' },
          { path: 'var/', type: 'directory' },
          { path: 'var/run', type: 'symlink', linkname: '/run' },
          { path: 'run/', type: 'directory', mode: 0o755 },
        ],
        [
          { path: 'a/b/f', type: 'file', body: 'in' },
          { path: 'var/run/pid', type: 'file', body: '1' },
        ],
      ]);
      const check = (root: string) => {
        assert.equal(readFileSync(path.join(root, 'x/b/f'), 'utf8'), 'in');
        assert.equal(readFileSync(path.join(root, 'run/pid'), 'utf8'), '1');
        assert.equal(readlinkSync(path.join(root, 'a')), '/x', 'the symlink is kept');
        assert.equal(lstatSync(path.join(root, 'x')).mode & 0o7777, 0o755);
      };
      if (form === 'copy') return check(dirs[0]!);
      await merged(dirs, check);
    });
  });

  describe(`applyLayer (${form} form) against hostile layers`, { skip: needsRoot() }, () => {
    /** Refused: the entry itself names a place outside the root. */
    const refused: [string, EntrySpec[], ErrorCode?][] = [
      ['a .. path', [{ path: '../../escaped', type: 'file', body: 'x' }]],
      ['a .. inside a path', [{ path: 'a/../../escaped', type: 'file', body: 'x' }]],
      ['an absolute path', [{ path: '/HOST/escaped', type: 'file', body: 'x' }]],
      [
        'a hardlink to an absolute path',
        [{ path: 'h', type: 'hardlink', linkname: '/HOST/secret' }],
      ],
      ['a hardlink out with ..', [{ path: 'h', type: 'hardlink', linkname: '../HOST/secret' }]],
      [
        // Taken inside the root, where there is no such file.
        'a hardlink through an absolute symlink',
        [
          { path: 'evil', type: 'symlink', linkname: '/HOST' },
          { path: 'h', type: 'hardlink', linkname: 'evil/secret' },
        ],
        'CHRUN_LAYER_INVALID',
      ],
      ['a whiteout of ..', [{ path: 'a/.wh...', type: 'file' }]],
    ];
    /**
     * Contained: symlinks in parent positions are followed the way the container sees them,
     * an absolute target from the root and '..' stopping at the root (umoci, containerd);
     * `landed` is where the written entry ends up inside the root (HOST: the host path).
     */
    const contained: [string, EntrySpec[], string?][] = [
      [
        'a write through an absolute symlink made earlier in the layer',
        [
          { path: 'evil', type: 'symlink', linkname: '/HOST' },
          { path: 'evil/escaped', type: 'file', body: 'x' },
        ],
        'HOST/escaped',
      ],
      [
        'a write through a relative symlink that climbs out',
        [
          { path: 'd/', type: 'directory' },
          { path: 'd/evil', type: 'symlink', linkname: '../../../../../../../../../HOST' },
          { path: 'd/evil/escaped', type: 'file', body: 'x' },
        ],
        'HOST/escaped',
      ],
      [
        'a chain of symlinks to an absolute path',
        [
          { path: 'b', type: 'symlink', linkname: '/HOST' },
          { path: 'a', type: 'symlink', linkname: 'b' },
          { path: 'a/escaped', type: 'file', body: 'x' },
        ],
        'HOST/escaped',
      ],
      [
        'a directory through a symlink',
        [
          { path: 'evil', type: 'symlink', linkname: '/HOST' },
          { path: 'evil/sub/', type: 'directory' },
        ],
        'HOST/sub',
      ],
      [
        'a whiteout through a symlink out',
        [
          { path: 'evil', type: 'symlink', linkname: '/HOST' },
          { path: 'evil/.wh.secret', type: 'file' },
        ],
      ],
      [
        'an opaque marker through a symlink out',
        [
          { path: 'evil', type: 'symlink', linkname: '/HOST' },
          { path: 'evil/.wh..wh..opq', type: 'file' },
        ],
      ],
    ];
    /** A host dir with a secret; applies the layer; checks nothing outside the layer changed. */
    async function attempt(
      tc: { after(fn: () => Promise<void>): void },
      specs: EntrySpec[],
    ): Promise<{ err: unknown; host: string; layerDir: string }> {
      await fresh(tc);
      const host = path.join(tmp.path, 'host');
      mkdirSync(host);
      writeFileSync(path.join(host, 'secret'), 'secret');
      const layerDir = path.join(tmp.path, form === 'overlay' ? 'l0' : 'tree');
      mkdirSync(layerDir);
      const before = readTree(tmp.path);
      const layer = specs.map((s) => ({
        ...s,
        path: s.path.replace('/HOST', host),
        linkname: s.linkname?.replace('/HOST', host).replace('HOST', path.relative('/', host)),
      }));
      const err = await apply(form, [layer]).then(
        () => undefined,
        (e: unknown) => e,
      );
      const after = readTree(tmp.path);
      for (const [p, e] of before) {
        if (p === path.basename(layerDir)) continue; // its own mtime changes
        assert.deepEqual(after.get(p), e, `host path ${p} untouched`);
      }
      for (const p of after.keys()) {
        assert.ok(
          before.has(p) || p.startsWith(path.basename(layerDir)),
          `nothing new outside: ${p}`,
        );
      }
      return { err, host, layerDir };
    }
    for (const [what, specs, code = 'CHRUN_LAYER_UNSAFE'] of refused) {
      test(`refuses ${what}`, async (tc) => {
        const { err } = await attempt(tc, specs);
        assert.ok(isChrunError(err, code), `refused with ${code}, got ${String(err)}`);
        assert.match((err as Error).message, /^apply layer layer0: entry '.+' /);
      });
    }
    for (const [what, specs, landed] of contained) {
      test(`keeps ${what} inside the root`, async (tc) => {
        const { err, host, layerDir } = await attempt(tc, specs);
        assert.equal(err, undefined);
        if (landed !== undefined) {
          const inside = path.join(layerDir, landed.replace('HOST', path.relative('/', host)));
          assert.ok(lstatSync(inside), `${landed} is in the root`);
        }
      });
    }
  });
}

// A layer that can be read again (a stored blob) does not wait for the layers below to make
// a parent it does not carry: it guesses a new directory and checks the guess at the end
// (applyInto with reopen, applyLayer's guessParents). Each case is applied both ways into
// its own directory: the trees must be the same, and `opens` shows whether it had to start
// again.
describe('overlay layers that guess their parents', { skip: needsRoot() }, () => {
  async function bothWays(
    lower: EntrySpec[],
    upper: EntrySpec[],
  ): Promise<{ guessed: string; waited: string; opens: number }> {
    const [l0] = await apply('overlay', [lower]);
    const out: string[] = [];
    let opens = 0;
    for (const reopen of [true, false]) {
      const dir = path.join(tmp.path, reopen ? 'guessed' : 'waited');
      mkdirSync(dir);
      const layer = {
        digest: 'sha256:upper',
        open: () => {
          if (reopen) opens++;
          return { entries: layerEntries(upper), done: () => Promise.resolve() };
        },
      };
      await applyInto(layer, dir, 'overlay', () => Promise.resolve([l0!]), reopen);
      out.push(dir);
    }
    return { guessed: out[0]!, waited: out[1]!, opens };
  }

  test('a parent that is a directory below gets its metadata, without starting again', async (tc) => {
    await fresh(tc);
    const { guessed, waited, opens } = await bothWays(
      [
        { path: 'usr/', type: 'directory', mode: 0o750, uid: 5, gid: 6, mtime: MTIME + 9 },
        { path: 'usr/lib/', type: 'directory', mode: 0o711, xattrs: { 'user.k': 'v' } },
      ],
      [
        { path: 'usr/lib/python/x.py', type: 'file', body: 'x' },
        { path: 'usr/lib/python/y.py', type: 'file', body: 'y' },
        { path: 'opt/new/f', type: 'file', body: 'f' },
      ],
    );
    assert.equal(opens, 1, 'the guess held');
    const st = lstatSync(path.join(guessed, 'usr'));
    assert.deepEqual([st.mode & 0o7777, st.uid, st.gid], [0o750, 5, 6]);
    assert.equal(st.mtimeMs / 1000, MTIME + 9);
    assert.equal(lstatSync(path.join(guessed, 'usr/lib')).mode & 0o7777, 0o711);
    assert.equal(lstatSync(path.join(guessed, 'opt')).mode & 0o7777, 0o755);
    const [g, w] = [readTree(guessed), readTree(waited)];
    g.delete('.');
    w.delete('.');
    for (const t of [g, w]) for (const k of ['opt', 'opt/new', 'usr/lib/python']) t.delete(k); // made now
    assert.deepEqual(g, w);
  });

  test('a parent that is a symlink below makes the layer start again and follow it', async (tc) => {
    await fresh(tc);
    const { guessed, waited, opens } = await bothWays(
      [
        { path: 'lib', type: 'symlink', linkname: 'usr/lib' },
        { path: 'usr/', type: 'directory' },
        { path: 'usr/lib/', type: 'directory', mode: 0o700 },
      ],
      [{ path: 'lib/mod/m.so', type: 'file', body: 'm' }],
    );
    assert.equal(opens, 2, 'applied again after the wrong guess');
    for (const dir of [guessed, waited]) {
      assert.equal(readFileSync(path.join(dir, 'usr/lib/mod/m.so'), 'utf8'), 'm');
      assert.throws(() => lstatSync(path.join(dir, 'lib')), /ENOENT/);
      assert.equal(lstatSync(path.join(dir, 'usr/lib')).mode & 0o7777, 0o700);
    }
  });

  test('a parent that is a file below fails the same way as without guessing', async (tc) => {
    await fresh(tc);
    const l0 = (await apply('overlay', [[{ path: 'etc', type: 'file', body: 'x' }]]))[0]!;
    const messages: string[] = [];
    for (const reopen of [true, false]) {
      const dir = path.join(tmp.path, `u${messages.length}`);
      mkdirSync(dir);
      const layer = {
        digest: 'sha256:upper',
        open: () => ({
          entries: layerEntries([{ path: 'etc/conf/a', type: 'file', body: 'a' }]),
          done: () => Promise.resolve(),
        }),
      };
      await assert.rejects(
        applyInto(layer, dir, 'overlay', () => Promise.resolve([l0]), reopen),
        (e: unknown) => {
          assert.ok(isChrunError(e, 'CHRUN_LAYER_INVALID'), String(e));
          messages.push(e.message);
          return true;
        },
      );
    }
    assert.equal(messages[0], messages[1]);
    assert.match(messages[0]!, /has a parent that is not a directory: 'etc'/);
  });
});
