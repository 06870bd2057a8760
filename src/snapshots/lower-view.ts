import { lstatSync, readlinkSync, type Stats } from 'node:fs';
import path from 'node:path';
import { fsCalls } from '../sys/index.js';

/** An entry of the union of lower layers. */
export interface LowerEntry {
  kind: 'dir' | 'file' | 'symlink' | 'node';
  /** Absolute path of the entry in the layer that provides it. */
  abs: string;
  stat: Stats;
  /** Symlink target. */
  target?: string;
}

/** Lower layers in overlay form (whiteouts as 0/0 character devices, opaque xattrs). */
export interface LowerLayers {
  /** The layer directories, top-most first, once every one of them is complete. */
  dirs(): Promise<readonly string[]>;
}

const OPAQUE = 'trusted.overlay.opaque';

function lstatOrUndefined(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}

export function isWhiteout(st: Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

function isOpaque(abs: string): boolean {
  return fsCalls.getXattr(abs, OPAQUE)?.toString() === 'y';
}

/**
 * Looks paths up in the union of lower layers the way overlayfs does: the top-most layer that
 * has a name wins, a whiteout hides the name, and a directory merges with the same directory
 * in the layers below it until one of them is opaque. Used only for the rare entries that
 * need what is below (hardlinks to lower files, parent directories a layer does not carry),
 * so it waits for the lower layers then and not before.
 */
export class LowerView {
  private layers: readonly string[] | undefined;
  private asked: Promise<readonly string[]> | undefined;
  /** For each directory path, the layers (top-most first) whose contents it merges. */
  private readonly dirLayers = new Map<string, readonly string[]>();
  private readonly entries = new Map<string, LowerEntry | null>();

  constructor(private readonly source: LowerLayers | undefined) {}

  /** The union entry at `rel` (a clean relative path whose parents are directories), if any. */
  async lookup(rel: string): Promise<LowerEntry | undefined> {
    if (this.source === undefined) return undefined;
    this.layers ??= await this.ask(this.source);
    return this.lookupSync(rel);
  }

  /** Whether lookups answer without waiting (no lower layers, or they are complete). */
  known(): boolean {
    return this.source === undefined || this.layers !== undefined;
  }

  /** Asks for the lower layers now, without waiting for them (a later lookup will). */
  prefetch(): void {
    if (this.source === undefined || this.layers !== undefined) return;
    this.ask(this.source).then(
      (dirs) => {
        this.layers ??= dirs;
      },
      () => undefined, // the lookup that needs them reports it
    );
  }

  private ask(source: LowerLayers): Promise<readonly string[]> {
    this.asked ??= source.dirs();
    return this.asked;
  }

  private lookupSync(rel: string): LowerEntry | undefined {
    const cached = this.entries.get(rel);
    if (cached !== undefined) return cached ?? undefined;
    const found = this.compute(rel);
    this.entries.set(rel, found ?? null);
    return found;
  }

  private layersOf(dir: string): readonly string[] {
    if (dir === '') return this.layers ?? [];
    const known = this.dirLayers.get(dir);
    if (known !== undefined) return known;
    const e = this.lookupSync(dir);
    return e?.kind === 'dir' ? (this.dirLayers.get(dir) ?? []) : [];
  }

  private compute(rel: string): LowerEntry | undefined {
    const parent = path.posix.dirname(rel);
    const candidates = this.layersOf(parent === '.' ? '' : parent);
    for (let i = 0; i < candidates.length; i++) {
      const layer = candidates[i]!;
      const abs = path.join(layer, rel);
      const st = lstatOrUndefined(abs);
      if (st === undefined) continue;
      if (isWhiteout(st)) return undefined;
      if (st.isDirectory()) {
        const merged = [layer];
        if (!isOpaque(abs)) {
          for (const below of candidates.slice(i + 1)) {
            const b = path.join(below, rel);
            const bst = lstatOrUndefined(b);
            if (bst === undefined) continue;
            if (!bst.isDirectory()) break;
            merged.push(below);
            if (isOpaque(b)) break;
          }
        }
        this.dirLayers.set(rel, merged);
        return { kind: 'dir', abs, stat: st };
      }
      if (st.isSymbolicLink()) return { kind: 'symlink', abs, stat: st, target: readlinkSync(abs) };
      return { kind: st.isFile() ? 'file' : 'node', abs, stat: st };
    }
    return undefined;
  }
}
