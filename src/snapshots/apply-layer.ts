import {
  chmodSync,
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  futimesSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeSync,
} from 'node:fs';
import { fsCalls } from '../sys/index.js';
import type { TarHeader } from '../tar/index.js';
import { ChrunError, errnoCode, reasonOf } from '../util/index.js';
import { applyDirMeta, copyDirMeta, copyEntry, isOverlayXattr } from './copy-entry.js';
import {
  entryComponents,
  WHITEOUT_META_PREFIX,
  WHITEOUT_OPAQUE,
  WHITEOUT_PREFIX,
} from './entry-path.js';
import { isWhiteout, LowerView, type LowerEntry, type LowerLayers } from './lower-view.js';

/** One entry of a layer: its header and its body (empty for everything but regular files). */
export interface LayerEntry {
  header: TarHeader;
  body: AsyncIterable<Buffer>;
}

/**
 * How a layer is written. `overlay`: into an empty directory of its own, with whiteouts as
 * 0/0 character devices and opaque directories marked with `trusted.overlay.opaque=y`, ready
 * to be an overlayfs lowerdir. `copy`: onto a full copy of the layers below, carrying out
 * whiteouts as deletions.
 */
export type LayerForm = 'overlay' | 'copy';

export interface ApplyLayerOptions {
  /** The directory to write into: empty for `overlay`, the tree of the layers below for `copy`. */
  dir: string;
  form: LayerForm;
  /** `overlay` only: the layers below, consulted for hardlinks to their files and for parents. */
  lower?: LowerLayers;
  /** Names the layer in errors (its digest). */
  name: string;
  /**
   * `overlay` only: do not wait for the lower layers to resolve a parent directory this layer
   * does not carry; make it as a new directory and check the guess once they are complete
   * (see GuessedWrong). For layers that can be read again.
   */
  guessParents?: boolean;
}

/**
 * Thrown by applyLayer with `guessParents` when a parent it made as a new directory is, in
 * the lower layers, something other than a directory (a symlink it should have followed, a
 * file that makes the entry invalid): the layer must be applied again, from an empty
 * directory, without guessing. A parent that is a directory below gets that directory's
 * owner, mode, xattrs and mtime, as if it had been copied up when it was made.
 */
export class GuessedWrong extends Error {
  constructor(readonly rel: string) {
    super(`apply layer: the parent '${rel}' is not a directory in the lower layers`);
  }
}

/** find()'s answer when it would wait for the lower layers and may guess instead. */
const GUESS = Symbol('guess');

export interface ApplyStats {
  entries: number;
  /** Bytes of file contents written. */
  bytes: number;
}

type Kind = 'dir' | 'file' | 'symlink' | 'node' | 'whiteout';

/** What this apply knows about a path of the target directory. */
interface TreeNode {
  kind: Kind;
  target?: string;
  opaque?: boolean;
  /** Written by this layer (as opposed to present before, or created as a missing parent). */
  fromLayer: boolean;
  /**
   * A directory on the way to something this layer wrote (umoci's "upper paths"): a whiteout
   * of it deletes only what is below it that this layer did not write.
   */
  touched?: boolean;
  children?: Map<string, TreeNode>;
  /** `children` is all there is (the directory was made by this apply); else ask the disk. */
  complete?: boolean;
  /** Directory mtime to set when the layer is complete (seconds). */
  mtime?: number;
}

/** A name as seen through the target and, for `overlay`, the lower layers. */
type Found = { where: 'here'; node: TreeNode } | { where: 'lower'; entry: LowerEntry };

interface Resolved {
  node: TreeNode;
  rel: string;
  /** Below an opaque directory of this layer: the lower layers are hidden. */
  hidden: boolean;
  /** A directory that exists only in the lower layers ('lookup' walks only). */
  lowerOnly?: boolean;
  /** The directories from the root to this one, as resolved. */
  chain: TreeNode[];
}

const MAX_SYMLINK_HOPS = 40;
/**
 * Bytes per write(2). A body piece is as large as the chunk its source gave, and on this
 * machine's kernel (6.18, ext4) one write of 2 MiB or more copies into the page cache several
 * times slower than 1 MiB ones: 120 MiB took 37-41 ms of system time in 1 MiB writes,
 * 124 ms in 2 MiB ones and 450-575 ms in 4-32 MiB ones.
 */
const MAX_WRITE = 1 << 20;
const OPAQUE_XATTR = 'trusted.overlay.opaque';

function kindOfStat(st: { isDirectory(): boolean; isFile(): boolean; isSymbolicLink(): boolean }) {
  if (st.isDirectory()) return 'dir';
  if (st.isFile()) return 'file';
  if (st.isSymbolicLink()) return 'symlink';
  return 'node';
}

function join(rel: string, name: string): string {
  return rel === '' ? name : `${rel}/${name}`;
}

/**
 * Applies the entries of one layer to a directory. Every path is resolved here, in memory,
 * the way securejoin does: each component is looked up in what this apply knows (or, for what
 * existed before, with lstat), symlinks in parent positions are followed as the container
 * would see them (an absolute target starts again at the root, '..' of the root is the root),
 * and the final component is never followed. Nothing outside `dir` is created or changed:
 * entry paths and hardlink targets that are absolute or have a '..' are refused with
 * CHRUN_LAYER_UNSAFE naming the entry.
 *
 * Directory mtimes are set once the whole layer is applied, after their contents.
 */
export async function applyLayer(
  entries: AsyncIterable<LayerEntry>,
  opts: ApplyLayerOptions,
): Promise<ApplyStats> {
  const applier = new Applier(opts);
  try {
    for await (const entry of entries) {
      await applier.apply(entry);
    }
    await applier.finish();
  } catch (err) {
    // A wrong guess may be what made an entry fail: then it is the guess that counts.
    if (!(err instanceof GuessedWrong)) await applier.checkGuesses();
    throw err;
  }
  return applier.stats;
}

class Applier {
  readonly stats: ApplyStats = { entries: 0, bytes: 0 };
  private readonly root: TreeNode;
  private readonly lower: LowerView;
  /** Directories whose mtime is set at the end. */
  private readonly timed: { rel: string; node: TreeNode }[] = [];
  /** Lower files already copied up for a hardlink: lower path -> path here. */
  private readonly copiedUp = new Map<string, string>();
  private readonly overlay: boolean;
  /** `overlay` form: whiteouts to write at the end, where a lower layer has the name. */
  private readonly whiteouts: { rel: string; node: TreeNode }[] = [];
  /** Parents made as new directories without asking the lower layers (guessParents). */
  private readonly guessed: { rel: string; node: TreeNode }[] = [];

  constructor(private readonly opts: ApplyLayerOptions) {
    this.overlay = opts.form === 'overlay';
    this.root = { kind: 'dir', fromLayer: false, children: new Map(), complete: this.overlay };
    this.lower = new LowerView(this.overlay ? opts.lower : undefined);
  }

  private abs(rel: string): string {
    return rel === '' ? this.opts.dir : `${this.opts.dir}/${rel}`;
  }

  private unsafe(entry: string, why: string): ChrunError {
    return new ChrunError(
      'CHRUN_LAYER_UNSAFE',
      `apply layer ${this.opts.name}: entry '${entry}' ${why}`,
      {
        fields: { digest: this.opts.name, path: entry },
      },
    );
  }

  private invalid(entry: string, why: string, cause?: unknown): ChrunError {
    return new ChrunError(
      'CHRUN_LAYER_INVALID',
      `apply layer ${this.opts.name}: entry '${entry}' ${why}`,
      {
        cause,
        fields: { digest: this.opts.name, path: entry },
      },
    );
  }

  async apply(entry: LayerEntry): Promise<void> {
    const h = entry.header;
    this.stats.entries++;
    const comps = entryComponents(h.path);
    if (!Array.isArray(comps)) {
      await drain(entry.body);
      throw this.unsafe(h.path, comps.refused);
    }
    try {
      if (comps.length === 0) {
        await drain(entry.body);
        if (h.type !== 'directory')
          throw this.invalid(h.path, 'names the root but is not a directory');
        this.setMeta('', this.root, h);
        return;
      }
      const name = comps[comps.length - 1]!;
      if (name.startsWith(WHITEOUT_PREFIX)) {
        await drain(entry.body);
        await this.whiteout(h.path, comps.slice(0, -1), name);
        return;
      }
      await this.create(entry, comps.slice(0, -1), name);
    } catch (err) {
      if (err instanceof ChrunError) throw err;
      throw this.invalid(h.path, `could not be written: ${reasonOf(err)}`, err);
    }
  }

  // ---------------------------------------------------------------- lookups

  /** The name in directory `dir` (at `rel`), looked up here and then below. */
  private async find(
    dir: TreeNode,
    rel: string,
    name: string,
    hidden: boolean,
    mayGuess = false,
  ): Promise<Found | undefined | typeof GUESS> {
    const childRel = join(rel, name);
    let node = dir.children?.get(name);
    if (node === undefined && dir.complete !== true) {
      node = this.fromDisk(childRel);
      if (node !== undefined) (dir.children ??= new Map()).set(name, node);
    }
    if (node !== undefined) return node.kind === 'whiteout' ? undefined : { where: 'here', node };
    if (!this.overlay || hidden || dir.opaque === true) return undefined;
    if (mayGuess && this.opts.guessParents === true && !this.lower.known()) {
      this.lower.prefetch();
      return GUESS;
    }
    const entry = await this.lower.lookup(childRel);
    return entry === undefined ? undefined : { where: 'lower', entry };
  }

  /** `copy` form: what already exists on disk (written by earlier layers). */
  private fromDisk(rel: string): TreeNode | undefined {
    let st;
    try {
      st = lstatSync(this.abs(rel));
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return undefined;
      throw err;
    }
    const kind = kindOfStat(st);
    const node: TreeNode = { kind, fromLayer: false };
    if (kind === 'dir') node.children = new Map();
    if (kind === 'symlink') node.target = readlinkSync(this.abs(rel));
    return node;
  }

  /**
   * Resolves the directory named by `comps`, following symlinks that stay inside the root.
   * `mode`: 'create' makes missing directories (and brings directories that exist only below
   * into this layer, with their metadata); 'existing' brings existing ones in but creates
   * nothing; 'lookup' changes nothing. Returns undefined when a directory is missing and
   * nothing may be created.
   */
  private async resolveDir(
    entry: string,
    comps: readonly string[],
    mode: 'create' | 'existing' | 'lookup',
  ): Promise<Resolved | undefined> {
    const stack: Omit<Resolved, 'chain'>[] = [{ node: this.root, rel: '', hidden: false }];
    const queue = [...comps];
    let hops = 0;
    while (queue.length > 0) {
      const comp = queue.shift()!;
      if (comp === '' || comp === '.') continue;
      if (comp === '..') {
        // Only symlink targets bring '..' here (entry paths with '..' are refused). As in the
        // container itself (and securejoin), '..' of the root is the root.
        if (stack.length > 1) stack.pop();
        continue;
      }
      const top = stack[stack.length - 1]!;
      const rel = join(top.rel, comp);
      let found: Found | undefined | typeof GUESS;
      if (top.lowerOnly === true) {
        const e = await this.lower.lookup(rel);
        found = e === undefined ? undefined : { where: 'lower', entry: e };
      } else {
        found = await this.find(top.node, top.rel, comp, top.hidden, mode === 'create');
      }
      if (found === undefined || found === GUESS) {
        if (mode !== 'create') return undefined;
        const node = this.makeDir(top.node, top.rel, comp);
        if (found === GUESS) this.guessed.push({ rel, node });
        stack.push({ node, rel, hidden: top.hidden || node.opaque === true });
        continue;
      }
      const kind = found.where === 'here' ? found.node.kind : found.entry.kind;
      if (kind === 'symlink') {
        if (++hops > MAX_SYMLINK_HOPS) {
          throw this.invalid(entry, 'has too many levels of symbolic links');
        }
        const target = found.where === 'here' ? found.node.target! : found.entry.target!;
        // An absolute target names a path of the container's root, never of the host.
        if (target.startsWith('/')) stack.length = 1;
        queue.unshift(...target.split('/'));
        continue;
      }
      if (kind !== 'dir') {
        throw this.invalid(entry, `has a parent that is not a directory: '${rel}'`);
      }
      if (found.where === 'here') {
        stack.push({ node: found.node, rel, hidden: top.hidden || found.node.opaque === true });
      } else if (mode === 'lookup') {
        stack.push({
          node: { kind: 'dir', fromLayer: false },
          rel,
          hidden: false,
          lowerOnly: true,
        });
      } else {
        stack.push({ node: this.copyUpDir(top.node, rel, comp, found.entry), rel, hidden: false });
      }
    }
    return { ...stack[stack.length - 1]!, chain: stack.map((s) => s.node) };
  }

  // ---------------------------------------------------------------- writing

  private track(rel: string, node: TreeNode): void {
    if (node.mtime === undefined) this.timed.push({ rel, node });
  }

  /** Before changing the contents of `dir`: keep its mtime (copy form, existing directories). */
  private touching(dir: TreeNode, rel: string): void {
    if (dir.fromLayer || dir.mtime !== undefined) return;
    const st = lstatSync(this.abs(rel));
    this.track(rel, dir);
    dir.mtime = st.mtimeMs / 1000;
  }

  /** A missing parent directory: 0755 root:root, like containerd. */
  private makeDir(parent: TreeNode, parentRel: string, name: string): TreeNode {
    const rel = join(parentRel, name);
    this.touching(parent, parentRel);
    const old = parent.children?.get(name);
    const node: TreeNode = { kind: 'dir', fromLayer: false, children: new Map(), complete: true };
    // Over a whiteout of this layer: what was below is deleted, the new directory hides it.
    if (old?.kind === 'whiteout') node.opaque = true;
    mkdirSync(this.abs(rel), { mode: 0o755 });
    chmodSync(this.abs(rel), 0o755);
    if (node.opaque === true) fsCalls.setXattr(this.abs(rel), OPAQUE_XATTR, Buffer.from('y'));
    (parent.children ??= new Map()).set(name, node);
    this.track(rel, node);
    node.mtime = Date.now() / 1000;
    return node;
  }

  /** A directory that exists only below, brought into this layer with its metadata. */
  private copyUpDir(parent: TreeNode, rel: string, name: string, e: LowerEntry): TreeNode {
    copyDirMeta(e.abs, this.abs(rel), e.stat);
    const node: TreeNode = { kind: 'dir', fromLayer: false, children: new Map(), complete: true };
    (parent.children ??= new Map()).set(name, node);
    this.track(rel, node);
    node.mtime = e.stat.mtimeMs / 1000;
    return node;
  }

  /** Removes whatever is at `rel` in the target (and forgets it). */
  private remove(parent: TreeNode, rel: string, name: string, node: TreeNode): void {
    if (node.kind === 'dir') rmSync(this.abs(rel), { recursive: true, force: true });
    else if (node.kind !== 'whiteout') unlinkSync(this.abs(rel)); // whiteouts wait for finish()
    parent.children?.delete(name);
  }

  private async create(entry: LayerEntry, parentComps: string[], name: string): Promise<void> {
    const h = entry.header;
    const parent = await this.resolveDir(h.path, parentComps, 'create');
    if (parent === undefined) throw new Error('unreachable: create resolves every parent');
    const { node: dir, rel: dirRel } = parent;
    for (const d of parent.chain) d.touched = true;
    const rel = join(dirRel, name);
    const here = this.here(dir, dirRel, name);

    if (h.type === 'directory') {
      if (here?.kind === 'dir') {
        await drain(entry.body);
        here.fromLayer = true;
        this.setMeta(rel, here, h);
        return;
      }
      this.touching(dir, dirRel);
      let opaque = false;
      if (here !== undefined) {
        opaque = here.kind === 'whiteout';
        this.remove(dir, rel, name, here);
      }
      await drain(entry.body);
      mkdirSync(this.abs(rel), { mode: 0o700 });
      const node: TreeNode = { kind: 'dir', fromLayer: true, children: new Map(), complete: true };
      if (opaque) {
        // This layer deleted the directory below and made a new one: hide what was below.
        node.opaque = true;
        fsCalls.setXattr(this.abs(rel), OPAQUE_XATTR, Buffer.from('y'));
      }
      dir.children!.set(name, node);
      this.setMeta(rel, node, h);
      return;
    }

    if (h.type === 'hardlink') {
      // Resolve the target before removing anything: a link to itself must fail cleanly.
      const source = await this.linkSource(h);
      this.touching(dir, dirRel);
      if (here !== undefined) this.remove(dir, rel, name, here);
      await drain(entry.body);
      const node = this.writeLink(source, rel);
      dir.children!.set(name, node);
      return;
    }

    this.touching(dir, dirRel);
    if (here !== undefined) this.remove(dir, rel, name, here);
    const abs = this.abs(rel);
    let node: TreeNode;
    switch (h.type) {
      case 'file': {
        node = { kind: 'file', fromLayer: true };
        dir.children!.set(name, node);
        await this.writeFile(abs, entry, h);
        return;
      }
      case 'symlink':
        await drain(entry.body);
        symlinkSync(h.linkname, abs);
        node = { kind: 'symlink', fromLayer: true, target: h.linkname };
        dir.children!.set(name, node);
        lchownSync(abs, h.uid, h.gid);
        this.setXattrs(abs, h, true);
        lutimesSync(abs, h.mtime, h.mtime);
        return;
      case 'chardev':
      case 'blockdev':
      case 'fifo':
        await drain(entry.body);
        fsCalls.mknod(abs, h.type, 0o600, h.devmajor, h.devminor);
        node = { kind: 'node', fromLayer: true };
        dir.children!.set(name, node);
        lchownSync(abs, h.uid, h.gid);
        chmodSync(abs, h.mode & 0o7777);
        this.setXattrs(abs, h, false);
        lutimesSync(abs, h.mtime, h.mtime);
        return;
      default:
        await drain(entry.body);
        throw this.invalid(h.path, `has an unsupported type '${String(h.type)}'`);
    }
  }

  private async writeFile(abs: string, entry: LayerEntry, h: TarHeader): Promise<void> {
    const fd = openSync(
      abs,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      0o600,
    );
    try {
      let written = 0;
      for await (const chunk of entry.body) {
        let off = 0;
        while (off < chunk.length) {
          off += writeSync(fd, chunk, off, Math.min(chunk.length - off, MAX_WRITE));
        }
        written += chunk.length;
      }
      if (written !== h.size) {
        throw this.invalid(
          h.path,
          `has ${written} bytes of content where its header says ${h.size}`,
        );
      }
      this.stats.bytes += written;
      // Owner first (it clears setuid bits and file capabilities), then mode, xattrs, times.
      fchownSync(fd, h.uid, h.gid);
      fchmodSync(fd, h.mode & 0o7777);
      this.setXattrs(abs, h, false);
      futimesSync(fd, h.mtime, h.mtime);
    } finally {
      closeSync(fd);
    }
  }

  private setXattrs(abs: string, h: TarHeader, symlink: boolean): void {
    for (const [name, value] of h.xattrs) {
      // overlayfs's own attributes would change how the snapshot is mounted: never applied.
      if (isOverlayXattr(name)) continue;
      if (symlink && name.startsWith('user.')) continue;
      fsCalls.setXattr(abs, name, value);
    }
  }

  /** Owner, mode and xattrs now; the mtime when the layer is complete. */
  private setMeta(rel: string, node: TreeNode, h: TarHeader): void {
    const abs = this.abs(rel);
    lchownSync(abs, h.uid, h.gid);
    chmodSync(abs, h.mode & 0o7777);
    this.setXattrs(abs, h, false);
    this.track(rel, node);
    node.mtime = h.mtime;
  }

  // ---------------------------------------------------------------- hardlinks

  private async linkSource(
    h: TarHeader,
  ): Promise<{ here: string } | { lower: LowerEntry; key: string }> {
    const comps = entryComponents(h.linkname);
    if (!Array.isArray(comps))
      throw this.unsafe(h.path, `is a hardlink whose target '${h.linkname}' ${comps.refused}`);
    if (comps.length === 0) throw this.unsafe(h.path, 'is a hardlink to the root directory');
    const dir = await this.resolveDir(h.path, comps.slice(0, -1), 'lookup');
    const missing = () =>
      this.invalid(h.path, `is a hardlink to '${h.linkname}', which does not exist`);
    if (dir === undefined) throw missing();
    const name = comps[comps.length - 1]!;
    const rel = join(dir.rel, name);
    if (dir.lowerOnly === true) {
      const e = await this.lower.lookup(rel);
      if (e === undefined) throw missing();
      if (e.kind === 'dir')
        throw this.invalid(h.path, `is a hardlink to a directory ('${h.linkname}')`);
      return { lower: e, key: rel };
    }
    const found = await this.find(dir.node, dir.rel, name, dir.hidden);
    if (found === undefined || found === GUESS) throw missing();
    const kind = found.where === 'here' ? found.node.kind : found.entry.kind;
    if (kind === 'dir')
      throw this.invalid(h.path, `is a hardlink to a directory ('${h.linkname}')`);
    if (found.where === 'here') return { here: rel };
    return { lower: found.entry, key: rel };
  }

  /**
   * A hardlink. To a file of this layer (or, in `copy` form, of the tree below): link(2). To a
   * file of a lower overlay layer, which is another directory: the file is copied up into this
   * layer once, with its metadata, and further links to it link to that copy (containerd).
   */
  private writeLink(
    source: { here: string } | { lower: LowerEntry; key: string },
    rel: string,
  ): TreeNode {
    if ('here' in source) {
      linkSync(this.abs(source.here), this.abs(rel));
      const node = kindNode(lstatSync(this.abs(rel)));
      if (node.kind === 'symlink') node.target = readlinkSync(this.abs(rel));
      return node;
    }
    const first = this.copiedUp.get(source.key);
    if (first !== undefined && exists(this.abs(first))) {
      linkSync(this.abs(first), this.abs(rel));
    } else {
      copyEntry(source.lower.abs, this.abs(rel), source.lower.stat);
      this.copiedUp.set(source.key, rel);
    }
    const node: TreeNode = {
      kind:
        source.lower.kind === 'symlink'
          ? 'symlink'
          : source.lower.kind === 'file'
            ? 'file'
            : 'node',
      fromLayer: true,
    };
    if (node.kind === 'symlink') node.target = source.lower.target;
    return node;
  }

  // ---------------------------------------------------------------- whiteouts

  private async whiteout(entry: string, parentComps: string[], name: string): Promise<void> {
    if (name === WHITEOUT_OPAQUE) {
      const dir = await this.resolveDir(entry, parentComps, 'existing');
      if (dir === undefined) return; // nothing below to hide
      if (this.overlay) {
        fsCalls.setXattr(this.abs(dir.rel), OPAQUE_XATTR, Buffer.from('y'));
        dir.node.opaque = true;
      } else {
        this.clearBelow(dir.node, dir.rel);
      }
      return;
    }
    if (name.startsWith(WHITEOUT_META_PREFIX)) return; // aufs bookkeeping (.wh..wh.plnk, ...)
    const victim = name.slice(WHITEOUT_PREFIX.length);
    if (victim === '' || victim === '.' || victim === '..') {
      throw this.unsafe(entry, 'is a whiteout that does not name an entry of its directory');
    }
    const dir = await this.resolveDir(entry, parentComps, 'existing');
    if (dir === undefined) return; // the directory does not exist: nothing to delete
    const rel = join(dir.rel, victim);
    const here = this.here(dir.node, dir.rel, victim);
    if (here === undefined) {
      if (this.overlay) this.whiteoutLater(dir.node, rel, victim);
      return;
    }
    if (here.kind === 'whiteout') return;
    // A whiteout deletes only what is below (OCI layer spec): what this layer wrote, before
    // or after it, stays. Of a directory this layer wrote into, it deletes the lower entries
    // only (umoci: everything under it that is not one of this layer's paths).
    if (here.kind === 'dir' && (here.fromLayer || here.touched === true)) {
      if (this.overlay) {
        fsCalls.setXattr(this.abs(rel), OPAQUE_XATTR, Buffer.from('y'));
        here.opaque = true;
      } else {
        this.clearBelow(here, rel);
      }
      return;
    }
    if (here.fromLayer) return;
    this.touching(dir.node, dir.rel);
    this.remove(dir.node, rel, victim, here);
    // overlay: a directory only brought up for an earlier whiteout below it.
    if (this.overlay) this.whiteoutLater(dir.node, rel, victim);
  }

  /**
   * overlay form: a whiteout, written at the end and only where a lower layer has the name:
   * one with nothing below would show in the listing of a directory overlayfs does not merge
   * (ls shows it as 'c?????????').
   */
  private whiteoutLater(dir: TreeNode, rel: string, name: string): void {
    const node: TreeNode = { kind: 'whiteout', fromLayer: false };
    dir.children!.set(name, node);
    this.whiteouts.push({ rel, node });
  }

  /** What is at `name` in `dir` in the target itself (whiteouts included), not below. */
  private here(dir: TreeNode, dirRel: string, name: string): TreeNode | undefined {
    const known = dir.children?.get(name);
    if (known !== undefined || dir.complete === true) return known;
    const node = this.fromDisk(join(dirRel, name));
    if (node !== undefined) (dir.children ??= new Map()).set(name, node);
    return node;
  }

  /**
   * `copy` form: deletes everything below directory `rel` that this layer did not write,
   * keeping the directories that lead to what it wrote (umoci's opaque and whiteout walk).
   */
  private clearBelow(dir: TreeNode, rel: string): void {
    for (const name of readdirSync(this.abs(rel))) {
      const childRel = join(rel, name);
      const node = this.here(dir, rel, name)!;
      if (node.kind === 'dir' && (node.fromLayer || node.touched === true)) {
        this.clearBelow(node, childRel);
      } else if (!node.fromLayer) {
        this.touching(dir, rel);
        this.remove(dir, childRel, name, node);
      }
    }
  }

  // ---------------------------------------------------------------- the end

  /**
   * guessParents: each parent made without asking the lower layers, checked against them now
   * (they are complete once lookup() answers). Throws GuessedWrong for one that is not a
   * directory there; one that is gets its metadata, as a copy-up would have given it.
   */
  async checkGuesses(): Promise<void> {
    for (const { rel, node } of this.guessed) {
      const e = await this.lower.lookup(rel);
      if (e === undefined) continue;
      if (e.kind !== 'dir') throw new GuessedWrong(rel);
      if (node.fromLayer || !this.stillThere(rel, node)) continue;
      applyDirMeta(e.abs, this.abs(rel), e.stat);
      node.mtime = e.stat.mtimeMs / 1000;
    }
    this.guessed.length = 0;
  }

  async finish(): Promise<void> {
    await this.checkGuesses();
    for (const { rel, node } of this.whiteouts) {
      const path = this.pathTo(rel);
      if (path?.at(-1) !== node || path.some((n) => n.opaque === true)) continue;
      if ((await this.lower.lookup(rel)) === undefined) continue;
      fsCalls.mknod(this.abs(rel), 'chardev', 0, 0, 0);
    }
    for (const { rel, node } of this.timed) {
      if (node.mtime === undefined || !this.stillThere(rel, node)) continue;
      utimesSync(this.abs(rel), node.mtime, node.mtime);
    }
  }

  private stillThere(rel: string, node: TreeNode): boolean {
    return this.pathTo(rel)?.at(-1) === node;
  }

  /** The nodes from the root to `rel` as this apply knows them now, if it still knows them. */
  private pathTo(rel: string): TreeNode[] | undefined {
    const out: TreeNode[] = [this.root];
    if (rel === '') return out;
    for (const c of rel.split('/')) {
      const next = out.at(-1)!.children?.get(c);
      if (next === undefined) return undefined;
      out.push(next);
    }
    return out;
  }
}

function kindNode(st: {
  isDirectory(): boolean;
  isFile(): boolean;
  isSymbolicLink(): boolean;
}): TreeNode {
  return { kind: kindOfStat(st), fromLayer: true };
}

function exists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

async function drain(body: AsyncIterable<Buffer>): Promise<void> {
  for await (const _ of body) {
    /* discard */
  }
}

export { isWhiteout };
