import { Readable } from 'node:stream';
import {
  DockerConfig,
  RegistryClient,
  type Credentials,
  type RegistryClientOptions,
} from '../registry/index.js';
import type { ImageRecord } from '../content/index.js';
import {
  checkImageManifest,
  formatPlatform,
  normalizePlatform,
  platformMatches,
  formatReference,
  hostPlatform,
  parseImageConfig,
  parseManifestDocument,
  parseReference,
  referenceName,
  selectManifest,
  shortId,
  type Descriptor,
  type Digest,
  type ImageConfig,
  type ImageManifest,
  type Platform,
} from '../oci/index.js';
import { ChrunError, deferred, eachLimited } from '../util/index.js';
import type { ProgressListener } from './events.js';
import type { ImageStore, UnpackRequest, Unpacker } from './image-store.js';

export interface RegistryAccessOptions {
  /** Verify TLS certificates (default true). Loopback registries may always use plain HTTP. */
  tlsVerify?: boolean;
  /** Explicit credentials; otherwise docker's config.json is consulted. */
  credentials?: Credentials;
  /** The docker config.json to read credentials from (default ~/.docker/config.json). */
  authFile?: string;
  /** Extra client options (tests: retries, timeouts). */
  client?: Omit<RegistryClientOptions, 'tlsVerify' | 'credentials'>;
}

export interface PullOptions extends RegistryAccessOptions {
  /** The platform to pull from a multi-platform image (default: this host). */
  platform?: Platform;
  /** Parallel layer downloads (default 3, as Docker). */
  concurrency?: number;
  onProgress?: ProgressListener;
  /** The snapshotter's step, run after the blobs are verified, before the name is registered. */
  unpack?: Unpacker;
  signal?: AbortSignal;
}

export interface PullResult {
  record: ImageRecord;
  /** The canonical reference pulled: "docker.io/library/redis:7". */
  reference: string;
  /** What the reference resolved to at the registry (index or manifest digest). */
  digest: Digest;
  /** False when every blob was already in the store. */
  downloaded: boolean;
  /**
   * True when the name now points at another image than before the pull (or was new):
   * docker's "Downloaded newer image" rather than "Image is up to date".
   */
  updated: boolean;
}

/** A client for a registry with the usual credential lookup. */
export function registryClient(domain: string, options: RegistryAccessOptions): RegistryClient {
  const config = new DockerConfig(options.authFile);
  return new RegistryClient(domain, {
    ...options.client,
    tlsVerify: options.tlsVerify ?? true,
    credentials: options.credentials ?? (() => config.get(domain)),
  });
}

/**
 * Pulls an image: resolves the reference (choosing the platform from an index), downloads
 * the config and layers (three at a time, each verified, resumed after a dropped
 * connection, skipped when already stored or being stored by another process), stores the
 * manifest, unpacks, then registers the name. Killed at any point, it leaves no name and
 * no partial blob visible; running it again finishes the job.
 */
export async function pull(
  store: ImageStore,
  input: string,
  options: PullOptions = {},
): Promise<PullResult> {
  const ref = parseReference(input);
  await store.init();
  const platform = options.platform ?? hostPlatform();
  const emit = options.onProgress ?? (() => undefined);
  const repo = ref.path;
  const canonical = formatReference(ref);
  const client = registryClient(ref.domain, options);
  const lease = await store.lease();
  let downloaded = false;
  try {
    const top = await client.getManifest(repo, ref.digest ?? ref.tag!);
    let doc = parseManifestDocument(top.bytes, top.mediaType, `manifest of ${canonical}`);
    let target: Descriptor = {
      mediaType: doc.mediaType,
      digest: top.digest,
      size: top.bytes.length,
    };
    let manifestBytes = top.bytes;
    let index: { descriptor: Descriptor; bytes: Buffer } | undefined;
    if (doc.kind === 'index') {
      const chosen = selectManifest(doc.index, platform, canonical);
      index = { descriptor: target, bytes: top.bytes };
      const child = await client.getManifest(repo, chosen.digest);
      doc = parseManifestDocument(
        child.bytes,
        child.mediaType || chosen.mediaType,
        `manifest ${chosen.digest}`,
      );
      if (doc.kind !== 'manifest') {
        throw new ChrunError(
          'CHRUN_MANIFEST_UNSUPPORTED',
          `${canonical}: nested indexes are not supported`,
        );
      }
      target = { mediaType: doc.mediaType, digest: child.digest, size: child.bytes.length };
      manifestBytes = child.bytes;
      if (chosen.size !== child.bytes.length) {
        throw new ChrunError(
          'CHRUN_SIZE_MISMATCH',
          `manifest ${chosen.digest}: ${child.bytes.length} bytes, index says ${chosen.size}`,
        );
      }
    }
    const manifest = doc.manifest;
    checkImageManifest(manifest, `manifest of ${canonical}`);
    emit({ type: 'resolved', reference: canonical, digest: top.digest, platform });
    await lease.protect([
      ...(index === undefined ? [] : [index.descriptor.digest]),
      target.digest,
      manifest.config.digest,
      ...manifest.layers.map((l) => l.digest),
    ]);

    // The config first: it must parse and agree with the manifest before layers are fetched.
    downloaded =
      (await fetchBlob(store, client, repo, manifest.config, options, false)) || downloaded;
    const config = parseImageConfig(
      await store.content.readBlob(manifest.config.digest),
      manifest.layers.length,
      `image config of ${canonical}`,
    );
    if (index === undefined) checkPlatform(canonical, config, platform, options);
    // Layers are applied while the others download: the unpacker's openBlob() of a layer
    // starts once that blob is stored and verified. The first failure of either side
    // stops the other.
    const cancel = new AbortController();
    const outer = options.signal;
    const onOuter = (): void => cancel.abort(outer?.reason);
    outer?.addEventListener('abort', onOuter, { once: true });
    const ready = new Map(manifest.layers.map((l) => [l.digest, deferred()]));
    let first: { err: unknown } | undefined;
    const fail = (err: unknown): never => {
      first ??= { err };
      cancel.abort(err);
      throw err;
    };
    const downloads = fetchLayers(store, client, repo, manifest, {
      ...options,
      signal: cancel.signal,
      onStored: (digest) => ready.get(digest)?.resolve(),
    })
      .then(async (any) => {
        // Manifests last: the image's blobs are all present once its manifest is.
        if (index !== undefined) {
          await store.content.writeBlob(index.bytes, index.descriptor.digest);
        }
        await store.content.writeBlob(manifestBytes, target.digest);
        return any;
      })
      .catch(fail);
    downloads.catch(() => {
      for (const d of ready.values()) d.reject(first?.err);
    });
    const unpacking =
      options.unpack === undefined
        ? Promise.resolve()
        : options
            .unpack(
              streamingRequest(store.requestFor(target, manifest, config, cancel.signal), ready),
            )
            .catch(fail);
    const settled = await Promise.allSettled([downloads, unpacking]);
    outer?.removeEventListener('abort', onOuter);
    if (first !== undefined) throw first.err;
    if (settled[0].status === 'fulfilled') downloaded = settled[0].value || downloaded;
    for (const l of manifest.layers) {
      emit({
        type: 'layer',
        id: shortId(l.digest),
        digest: l.digest,
        status: 'complete',
        current: l.size,
        total: l.size,
      });
    }
    const names = [
      ...(ref.tag === undefined ? [] : [`${referenceName(ref)}:${ref.tag}`]),
      `${referenceName(ref)}@${top.digest}`,
    ];
    const asked = names[0]!;
    const before = (await store.list()).find(
      (r) => r.tags.includes(asked) || r.digests.includes(asked),
    );
    const record = await register(store, target, manifest, config, index?.descriptor, names);
    const updated = before?.id !== record.id;
    return { record, reference: canonical, digest: top.digest, downloaded, updated };
  } finally {
    await lease.release().catch(() => undefined);
    await client.close();
  }
}

/**
 * A single-platform image for another platform: refused when a platform was asked for (as
 * containerd does), a warning when it was only the host's default (as Docker does).
 */
function checkPlatform(
  canonical: string,
  config: ImageConfig,
  want: Platform,
  options: PullOptions,
): void {
  const have: Platform = {
    os: config.os,
    architecture: config.architecture,
    ...(config.variant === undefined ? {} : { variant: config.variant }),
  };
  if (platformMatches(want, have)) return;
  const text = `${canonical} is for ${formatPlatform(normalizePlatform(have))}, not ${formatPlatform(normalizePlatform(want))}`;
  if (options.platform !== undefined) {
    throw new ChrunError('CHRUN_PLATFORM_NOT_FOUND', `pull ${text}`, {
      fields: { reference: canonical },
    });
  }
  options.onProgress?.({ type: 'message', text: `WARNING: the image ${text} (this host)` });
}

/** Adds the record of a stored (and unpacked) image under its names. */
export async function register(
  store: ImageStore,
  target: Descriptor,
  manifest: ImageManifest,
  config: ImageConfig,
  index: Descriptor | undefined,
  names: readonly string[],
): Promise<ImageRecord> {
  const size = target.size + manifest.config.size + manifest.layers.reduce((n, l) => n + l.size, 0);
  return store.records.register(
    {
      target: { mediaType: target.mediaType, digest: target.digest, size: target.size },
      id: manifest.config.digest,
      ...(index === undefined
        ? {}
        : { index: { mediaType: index.mediaType, digest: index.digest, size: index.size } }),
      platform: {
        os: config.os,
        architecture: config.architecture,
        ...(config.variant === undefined ? {} : { variant: config.variant }),
      },
      ...(config.created === undefined ? {} : { created: config.created }),
      size,
    },
    names,
  );
}

/** An unpack request whose blobs are read once the download stored them. */
function streamingRequest(
  request: UnpackRequest,
  ready: ReadonlyMap<Digest, { promise: Promise<void> }>,
): UnpackRequest {
  return {
    ...request,
    storedBlob: async (digest) => {
      await (ready.get(digest)?.promise ?? Promise.resolve());
      return request.storedBlob(digest);
    },
    openBlob: (digest) => {
      const stored = ready.get(digest)?.promise ?? Promise.resolve();
      return Readable.from(
        (async function* () {
          await stored;
          yield* request.openBlob(digest);
        })(),
        { objectMode: false },
      );
    },
  };
}

async function fetchLayers(
  store: ImageStore,
  client: RegistryClient,
  repo: string,
  manifest: ImageManifest,
  options: PullOptions & { onStored?: (digest: Digest) => void },
): Promise<boolean> {
  const emit = options.onProgress ?? (() => undefined);
  // One transfer per distinct blob (an image may repeat a layer).
  const unique = [...new Map(manifest.layers.map((l) => [l.digest, l])).values()];
  for (const l of unique) {
    emit({
      type: 'layer',
      id: shortId(l.digest),
      digest: l.digest,
      status: 'waiting',
      current: 0,
      total: l.size,
    });
  }
  let any = false;
  // The first failure aborts the other downloads in flight (their partial files go too).
  await eachLimited(
    unique,
    options.concurrency ?? 3,
    async (layer, signal) => {
      if (await fetchBlob(store, client, repo, layer, { ...options, signal }, true)) any = true;
      options.onStored?.(layer.digest);
    },
    options.signal === undefined ? {} : { signal: options.signal },
  );
  return any;
}

/** Fetches one blob into the store unless present; true when it was downloaded. */
async function fetchBlob(
  store: ImageStore,
  client: RegistryClient,
  repo: string,
  desc: Descriptor,
  options: PullOptions,
  report: boolean,
): Promise<boolean> {
  const emit = report ? (options.onProgress ?? (() => undefined)) : () => undefined;
  const id = shortId(desc.digest);
  const status = (
    s: 'exists' | 'downloading' | 'verifying' | 'downloaded',
    current: number,
  ): void => emit({ type: 'layer', id, digest: desc.digest, status: s, current, total: desc.size });
  const writer = await store.content.writer(desc.digest, desc.size, {
    onProgress: (p) => status('downloading', p.offset),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  if (writer === undefined) {
    status('exists', desc.size);
    return false;
  }
  try {
    status('downloading', writer.offset);
    await client.fetchBlob(repo, desc, writer, options.signal);
    status('verifying', writer.offset);
    await writer.commit();
  } catch (err) {
    // A failed pull leaves no partial download behind (the client already resumed what a
    // dropped connection interrupted); only a killed process leaves one, for the next pull.
    await writer.abort(false).catch(() => undefined);
    throw err;
  }
  status('downloaded', desc.size);
  return true;
}
