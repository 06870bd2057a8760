import type { LayerEntry } from '../../src/snapshots/index.js';
import type { TarHeader } from '../../src/tar/index.js';

/** A synthetic layer entry: a header with defaults, and a body for files. */
export type EntrySpec = Partial<Omit<TarHeader, 'xattrs'>> &
  Pick<TarHeader, 'path' | 'type'> & {
    body?: string | Buffer;
    xattrs?: Record<string, Buffer | string>;
  };

export const MTIME = 1_600_000_000;

/** Entries as the tar reader yields them, without any tar: for testing the applier alone. */
export function layerEntries(specs: readonly EntrySpec[]): AsyncIterable<LayerEntry> {
  // eslint-disable-next-line @typescript-eslint/require-await -- an async iterable, like the reader's
  return (async function* () {
    for (const s of specs) {
      const body = s.body === undefined ? Buffer.alloc(0) : Buffer.from(s.body);
      const header: TarHeader = {
        path: s.path,
        type: s.type,
        mode: s.mode ?? (s.type === 'directory' ? 0o755 : 0o644),
        uid: s.uid ?? 0,
        gid: s.gid ?? 0,
        uname: '',
        gname: '',
        size: s.type === 'file' ? (s.size ?? body.length) : 0,
        mtime: s.mtime ?? MTIME,
        linkname: s.linkname ?? '',
        devmajor: s.devmajor ?? 0,
        devminor: s.devminor ?? 0,
        xattrs: new Map(Object.entries(s.xattrs ?? {}).map(([k, v]) => [k, Buffer.from(v)])),
      };
      yield {
        header,
        // eslint-disable-next-line @typescript-eslint/require-await
        body: (async function* () {
          if (body.length > 0) yield body;
        })(),
      };
    }
  })();
}
