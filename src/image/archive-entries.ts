import { createReadStream } from 'node:fs';
import { readdir, readlink, stat } from 'node:fs/promises';
import path from 'node:path';
import { decompress, readTar } from '../tar/index.js';
import { ChrunError, reasonOf } from '../util/index.js';

/** One member of an image archive (a tar stream or an OCI layout directory). */
export interface ArchiveMember {
  /** Normalized relative path: "blobs/sha256/ab...", "manifest.json". */
  path: string;
  type: 'file' | 'symlink' | 'hardlink' | 'other';
  /** Link target for symlinks and hardlinks. */
  linkname: string;
  size: number;
  /** The bytes of a file; read it before asking for the next member. */
  body: AsyncIterable<Uint8Array>;
}

/** "./a/b" -> "a/b"; undefined for paths that leave the archive root. */
export function memberPath(p: string): string | undefined {
  const n = path.posix.normalize(p.replace(/^\/+/, ''));
  if (n === '.' || n === '..' || n.startsWith('../')) return undefined;
  return n.replace(/^\.\//, '').replace(/\/$/, '');
}

const EMPTY: AsyncIterable<Uint8Array> = { [Symbol.asyncIterator]: async function* () {} };

async function* walk(root: string, rel = ''): AsyncGenerator<ArchiveMember> {
  for (const name of (await readdir(path.join(root, rel))).sort()) {
    const r = rel === '' ? name : `${rel}/${name}`;
    const full = path.join(root, r);
    const st = await stat(full).catch(() => undefined);
    if (st === undefined) {
      yield { path: r, type: 'symlink', linkname: await readlink(full), size: 0, body: EMPTY };
    } else if (st.isDirectory()) {
      yield* walk(root, r);
    } else if (st.isFile()) {
      yield {
        path: r,
        type: 'file',
        linkname: '',
        size: st.size,
        body: createReadStream(full, { highWaterMark: 1 << 20 }),
      };
    }
  }
}

/**
 * The members of an image archive: a tar file or stream (uncompressed, gzip or zstd), or a
 * directory holding an OCI layout. Truncated or corrupt archives fail with
 * CHRUN_ARCHIVE_INVALID.
 */
export async function* archiveMembers(
  input: string | AsyncIterable<Uint8Array>,
): AsyncGenerator<ArchiveMember> {
  if (typeof input === 'string') {
    let st;
    try {
      st = await stat(input);
    } catch (err) {
      throw new ChrunError('CHRUN_INVALID_ARGUMENT', `open ${input}: ${reasonOf(err)}`, {
        cause: err,
      });
    }
    if (st.isDirectory()) {
      yield* walk(input);
      return;
    }
    input = createReadStream(input, { highWaterMark: 1 << 20 });
  }
  for await (const entry of readTar(decompress(input))) {
    const p = memberPath(entry.header.path);
    if (p === undefined || p === '') continue;
    const h = entry.header;
    const type =
      h.type === 'file'
        ? 'file'
        : h.type === 'symlink'
          ? 'symlink'
          : h.type === 'hardlink'
            ? 'hardlink'
            : 'other';
    yield { path: p, type, linkname: h.linkname, size: h.size, body: entry.body };
  }
}
