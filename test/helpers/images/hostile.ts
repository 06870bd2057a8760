// Hostile layers: each tries to create, change or delete something outside the root it is
// applied to. A test creates a victim directory on the host (holding a file named `secret`),
// builds an image from hostileLayers(kind, { victim }), applies or pulls it, and checks that
// the victim is untouched (and that the pull failed with a clear message).
import path from 'node:path';
import type { TarWriteEntry } from '../../../src/tar/index.js';
import type { LayerSpec } from './build.js';
import { FIXTURE_MTIME } from './busybox.js';

export const HOSTILE_KINDS = [
  /** `../../…/victim/pwned`: a path climbing out of the root. */
  'dotdot',
  /** `a/b/../../../…/victim/pwned`: the climb hidden after real directories. */
  'dotdot-nested',
  /** `/victim/pwned`: an absolute path (contained only if taken relative to the root). */
  'absolute',
  /** symlink `escape -> /victim`, then a file `escape/pwned` written through it. */
  'symlink-write',
  /** symlink `escape -> ../../…/victim`, then `escape/pwned`. */
  'symlink-relative-write',
  /** symlinks `a -> b`, `b -> /victim`, then `a/pwned`: a chain. */
  'symlink-chain-write',
  /** symlink `etc -> /victim` then a directory entry `etc/` and a file `etc/pwned`. */
  'symlink-then-dir',
  /** a symlink `escape -> /victim` in a lower layer, and `escape/pwned` in the upper one. */
  'symlink-lower-layer',
  /** a file `victim-link` replacing a symlink to the victim's secret: must not write through. */
  'symlink-overwrite-target',
  /** hardlink `stolen -> ../../…/victim/secret`: a link to a host file. */
  'hardlink-outside',
  /** hardlink `stolen -> /victim/secret` (contained only if taken relative to the root). */
  'hardlink-absolute',
  /** symlink `s -> /victim`, then hardlink `stolen -> s/secret`. */
  'hardlink-through-symlink',
  /** `../../…/victim/.wh.secret`: a whiteout deleting a host file. */
  'whiteout-escape',
  /** symlink `s -> /victim`, then `s/.wh.secret`. */
  'whiteout-through-symlink',
  /** symlink `s -> /victim`, then `s/.wh..wh..opq`: would empty the victim directory. */
  'opaque-through-symlink',
  /** `.wh...`: a whiteout of "..", the directory holding the root itself. */
  'whiteout-dotdot',
] as const;

export type HostileKind = (typeof HOSTILE_KINDS)[number];

export interface HostileOptions {
  /** An absolute directory on the host, holding a file `secret`, that must stay untouched. */
  victim: string;
  /** Default 'none', so the bytes are easy to inspect. */
  compression?: LayerSpec['compression'];
}

/** Enough `../` to climb from any directory a test would apply a layer in. */
const UP = '../'.repeat(40);
const T = FIXTURE_MTIME;

/** The layers of one hostile kind (one layer, two for 'symlink-lower-layer'). */
export function hostileLayers(kind: HostileKind, options: HostileOptions): LayerSpec[] {
  const victim = path.resolve(options.victim);
  const climb = `${UP}${victim.slice(1)}`; // ../../…/tmp/victim
  const file = (p: string, body = 'pwned\n'): TarWriteEntry => ({
    header: { path: p, type: 'file', mode: 0o644, mtime: T },
    body: Buffer.from(body),
  });
  const dir = (p: string): TarWriteEntry => ({
    header: { path: p, type: 'directory', mode: 0o755, mtime: T },
  });
  const sym = (p: string, target: string): TarWriteEntry => ({
    header: { path: p, type: 'symlink', linkname: target, mtime: T },
  });
  const hard = (p: string, target: string): TarWriteEntry => ({
    header: { path: p, type: 'hardlink', linkname: target, mtime: T },
  });
  const layer = (entries: TarWriteEntry[], what: string = kind): LayerSpec => ({
    entries: [file('innocent', 'looks fine\n'), ...entries],
    compression: options.compression ?? 'none',
    createdBy: `hostile: ${what}`,
  });
  switch (kind) {
    case 'dotdot':
      return [layer([file(`${climb}/pwned`)])];
    case 'dotdot-nested':
      return [layer([dir('a/'), dir('a/b/'), file(`a/b/${climb}/pwned`)])];
    case 'absolute':
      return [layer([file(`${victim}/pwned`)])];
    case 'symlink-write':
      return [layer([sym('escape', victim), file('escape/pwned')])];
    case 'symlink-relative-write':
      return [layer([sym('escape', climb), file('escape/pwned')])];
    case 'symlink-chain-write':
      return [layer([sym('b', victim), sym('a', 'b'), file('a/pwned')])];
    case 'symlink-then-dir':
      return [layer([sym('etc', victim), dir('etc/'), file('etc/pwned')])];
    case 'symlink-lower-layer':
      return [
        layer([sym('escape', victim)], 'symlink-lower-layer (lower)'),
        layer([file('escape/pwned')], 'symlink-lower-layer (upper)'),
      ];
    case 'symlink-overwrite-target':
      return [
        layer([sym('victim-link', `${victim}/secret`), file('victim-link', 'overwritten\n')]),
      ];
    case 'hardlink-outside':
      return [layer([hard('stolen', `${climb}/secret`)])];
    case 'hardlink-absolute':
      return [layer([hard('stolen', `${victim}/secret`)])];
    case 'hardlink-through-symlink':
      return [layer([sym('s', victim), hard('stolen', 's/secret')])];
    case 'whiteout-escape':
      return [layer([file(`${climb}/.wh.secret`, '')])];
    case 'whiteout-through-symlink':
      return [layer([sym('s', victim), file('s/.wh.secret', '')])];
    case 'opaque-through-symlink':
      return [layer([sym('s', victim), file('s/.wh..wh..opq', '')])];
    case 'whiteout-dotdot':
      return [layer([file('.wh...', '')])];
  }
}
