import { Readable, Transform } from 'node:stream';
import type { ImageRecord } from '../content/index.js';
import {
  parseReference,
  referenceName,
  shortId,
  type Descriptor,
  type Digest,
  type ImageManifest,
} from '../oci/index.js';
import type { RegistryClient } from '../registry/index.js';
import { ChrunError, eachLimited } from '../util/index.js';
import type { ProgressListener } from './events.js';
import type { ImageStore } from './image-store.js';
import { registryClient, type RegistryAccessOptions } from './pull.js';

export interface PushOptions extends RegistryAccessOptions {
  /** Upload blobs in chunks of this many bytes (PATCH); default: one monolithic PUT per blob. */
  chunkSize?: number;
  /** Parallel blob uploads (default 3). */
  concurrency?: number;
  /** Try cross-repository mounts from other repositories of the registry (default true). */
  mount?: boolean;
  onProgress?: ProgressListener;
  signal?: AbortSignal;
}

export interface PushResult {
  /** The canonical destination reference. */
  reference: string;
  /** The manifest digest at the registry (the same bytes as stored locally). */
  digest: Digest;
  size: number;
  /** What happened to each blob. */
  blobs: { digest: Digest; result: 'exists' | 'mounted' | 'uploaded' }[];
}

/**
 * Repositories of the same registry that hold a blob, by what this store knows: the names
 * of other local images containing it. Docker tracks blob sources the same way.
 */
async function mountSources(
  store: ImageStore,
  records: readonly ImageRecord[],
  domain: string,
  repo: string,
): Promise<Map<Digest, string[]>> {
  const sources = new Map<Digest, string[]>();
  for (const r of records) {
    const repos = new Set<string>();
    for (const name of [...r.tags, ...r.digests]) {
      const ref = parseReference(name);
      if (ref.domain === domain && ref.path !== repo) repos.add(ref.path);
    }
    if (repos.size === 0) continue;
    let manifest: ImageManifest;
    try {
      manifest = await store.manifest(r);
    } catch {
      continue;
    }
    for (const d of [manifest.config, ...manifest.layers]) {
      const list = sources.get(d.digest) ?? [];
      for (const p of repos) if (!list.includes(p)) list.push(p);
      sources.set(d.digest, list);
    }
  }
  return sources;
}

/**
 * Pushes a local image to a registry: every blob the repository lacks is mounted from
 * another repository of the same registry when possible, else uploaded (monolithic or
 * chunked), then the manifest is put under the tag. The manifest bytes are pushed as
 * stored, so the digest at the registry is the local one.
 */
export async function push(
  store: ImageStore,
  source: string,
  destination: string | undefined,
  options: PushOptions = {},
): Promise<PushResult> {
  await store.init();
  const record = await store.resolve(source);
  const destInput = destination ?? source;
  const dest = parseReference(destInput);
  if (
    destination === undefined &&
    !record.tags.some((t) => t === `${referenceName(dest)}:${dest.tag ?? ''}`) &&
    dest.digest === undefined
  ) {
    throw new ChrunError(
      'CHRUN_INVALID_REFERENCE',
      `push ${source}: give a destination name (${source} is not a tag of this image)`,
    );
  }
  const emit = options.onProgress ?? (() => undefined);
  const repo = dest.path;
  const manifestBytes = await store.content.readBlob(record.target.digest);
  const manifest = JSON.parse(manifestBytes.toString('utf8')) as ImageManifest;
  const blobs = [
    ...new Map([...manifest.layers, manifest.config].map((d) => [d.digest, d])).values(),
  ];
  for (const b of blobs) {
    if (!(await store.content.has(b.digest, b.size))) {
      throw new ChrunError(
        'CHRUN_IMAGE_NOT_FOUND',
        `push ${source}: blob ${b.digest} is missing from the store`,
        {
          fields: { digest: b.digest },
        },
      );
    }
  }
  const client = registryClient(dest.domain, options);
  const results: PushResult['blobs'] = [];
  try {
    const sources =
      options.mount === false
        ? new Map<Digest, string[]>()
        : await mountSources(store, await store.list(), dest.domain, repo);
    // The first failure aborts the other uploads in flight.
    await eachLimited(
      blobs,
      options.concurrency ?? 3,
      async (b, signal) => {
        const from = sources.get(b.digest) ?? [];
        const result = await pushBlob(store, client, repo, b, from, { ...options, signal });
        results.push({ digest: b.digest, result });
      },
      options.signal === undefined ? {} : { signal: options.signal },
    );
    const tag = dest.tag ?? dest.digest!;
    const digest = await client.putManifest(repo, tag, manifestBytes, record.target.mediaType);
    emit({ type: 'message', text: `${tag}: digest: ${digest} size: ${manifestBytes.length}` });
    // Remember where the image now lives (docker's RepoDigests; later pushes can mount its
    // blobs from there), when the image has a tag of that repository: a digest name in a
    // repository without a tag would keep the image alive after `rmi` of its last tag.
    await store.records.update((images) => {
      const mine = images.find((r) => r.target.digest === record.target.digest);
      const name = `${referenceName(dest)}@${digest}`;
      const tagged = mine?.tags.some((t) => t.startsWith(`${referenceName(dest)}:`)) === true;
      if (mine !== undefined && tagged && !mine.digests.includes(name)) mine.digests.push(name);
    });
    return {
      reference: `${referenceName(dest)}${dest.tag === undefined ? '' : `:${dest.tag}`}`,
      digest,
      size: manifestBytes.length,
      blobs: results,
    };
  } finally {
    await client.close();
  }
}

async function pushBlob(
  store: ImageStore,
  client: RegistryClient,
  repo: string,
  desc: Descriptor,
  mountFrom: readonly string[],
  options: PushOptions,
): Promise<'exists' | 'mounted' | 'uploaded'> {
  const emit = options.onProgress ?? (() => undefined);
  const id = shortId(desc.digest);
  const status = (s: 'exists' | 'pushing' | 'pushed' | 'mounted', current: number): void =>
    emit({ type: 'layer', id, digest: desc.digest, status: s, current, total: desc.size });
  if (await client.hasBlob(repo, desc.digest)) {
    status('exists', desc.size);
    return 'exists';
  }
  for (const from of mountFrom) {
    if (await client.mountBlob(repo, desc.digest, from)) {
      status('mounted', desc.size);
      return 'mounted';
    }
  }
  status('pushing', 0);
  const open = (start: number, end: number): Readable =>
    rangeStream(store, desc.digest, start, end, (n) => status('pushing', n));
  await client.pushBlob(repo, desc, open, {
    ...(options.chunkSize === undefined ? {} : { chunkSize: options.chunkSize }),
    onProgress: (sent) => status('pushing', sent),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  status('pushed', desc.size);
  return 'uploaded';
}

/** Bytes [start, end) of a stored blob, reporting how far the reader got. */
function rangeStream(
  store: ImageStore,
  digest: Digest,
  start: number,
  end: number,
  progress: (n: number) => void,
): Readable {
  if (end <= start) return Readable.from([]);
  const source = store.content.openBlob(digest, { start, end });
  let pos = start;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      pos += chunk.length;
      progress(pos);
      cb(null, chunk);
    },
  });
  source.on('error', (err) => counter.destroy(err));
  return source.pipe(counter);
}
