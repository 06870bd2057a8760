/**
 * The components of a tar entry path, or the reason it is refused. Leading './' and empty or
 * '.' components are dropped; an absolute path or any '..' component is refused outright
 * rather than clamped, so a hostile layer fails loudly instead of being half applied.
 */
export function entryComponents(raw: string): string[] | { refused: string } {
  if (raw.includes('\0')) return { refused: 'contains a NUL byte' };
  if (raw.startsWith('/')) return { refused: 'is an absolute path' };
  const out: string[] = [];
  for (const c of raw.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') return { refused: "has a '..' component" };
    out.push(c);
  }
  return out;
}

export const WHITEOUT_PREFIX = '.wh.';
export const WHITEOUT_META_PREFIX = '.wh..wh.';
export const WHITEOUT_OPAQUE = '.wh..wh..opq';
