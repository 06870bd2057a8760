// Builds OCI / Docker images in memory for tests: layers from tar entries (written by
// src/tar), compressed per layer, a config with correct rootfs.diff_ids, a manifest, and
// multi-platform indexes. Everything is deterministic: the same spec gives the same digests.
// The writers (layout.ts, docker-archive.ts) put the result on disk.
import { createHash } from 'node:crypto';
import {
  MediaType,
  type ContainerConfig,
  type Descriptor,
  type Digest,
  type HistoryEntry,
  type ImageConfig,
  type ImageIndex,
  type ImageManifest,
  type Platform,
} from '../../../src/oci/index.js';
import { compress, packTar, type Compression, type TarWriteEntry } from '../../../src/tar/index.js';

export type ImageFormat = 'oci' | 'docker';

/** One layer: tar entries (or raw tar bytes), how to compress it, and optional lies. */
export interface LayerSpec {
  /** The entries of the layer tar, written by packTar in this order. */
  entries?: readonly TarWriteEntry[];
  /** Raw uncompressed tar bytes instead of entries (hand-made or broken archives). */
  tar?: Buffer;
  /** Default gzip. */
  compression?: Compression;
  /** What the history entry says created the layer. */
  createdBy?: string;
  /**
   * Make the descriptor or config lie about this layer (for verification tests): a wrong
   * size, digest or diff ID. The blob itself is stored under its real digest.
   */
  lie?: { size?: number; digest?: Digest; diffId?: Digest };
}

export interface ImageSpec {
  layers: readonly LayerSpec[];
  /** The config's `config` (Entrypoint, Cmd, Env, WorkingDir, User, ExposedPorts, ...). */
  config?: ContainerConfig;
  /** Default: the host's (linux/amd64 here). */
  platform?: Platform;
  /** OCI (default) or Docker schema 2 media types. */
  format?: ImageFormat;
  /** The config's `created` and history times (default 2024-01-01T00:00:00Z). */
  created?: string;
  /** Manifest annotations. */
  annotations?: Record<string, string>;
}

export interface BuiltLayer {
  mediaType: string;
  /** Digest and size of the (compressed) blob, as the manifest lists them (unless lied). */
  digest: Digest;
  size: number;
  /** Digest of the uncompressed tar, as the config's rootfs.diff_ids lists it. */
  diffId: Digest;
  compression: Compression;
  /** The uncompressed tar and the blob (the same bytes when uncompressed). */
  tar: Buffer;
  blob: Buffer;
}

export interface BuiltImage {
  kind: 'image';
  format: ImageFormat;
  platform: Platform;
  manifest: ImageManifest;
  manifestBytes: Buffer;
  manifestDigest: Digest;
  config: ImageConfig;
  configBytes: Buffer;
  configDigest: Digest;
  layers: BuiltLayer[];
  /** The manifest's descriptor, platform included (what an index lists). */
  descriptor: Descriptor;
}

export interface BuiltIndex {
  kind: 'index';
  format: ImageFormat;
  index: ImageIndex;
  indexBytes: Buffer;
  indexDigest: Digest;
  images: BuiltImage[];
  descriptor: Descriptor;
}

export type Built = BuiltImage | BuiltIndex;

export const sha256 = (data: Buffer): Digest =>
  `sha256:${createHash('sha256').update(data).digest('hex')}`;

const LAYER_TYPES: Record<ImageFormat, Record<Compression, string>> = {
  oci: { none: MediaType.ociLayer, gzip: MediaType.ociLayerGzip, zstd: MediaType.ociLayerZstd },
  docker: {
    none: MediaType.dockerLayer,
    gzip: MediaType.dockerLayerGzip,
    zstd: MediaType.dockerLayerZstd,
  },
};

/** The host platform in OCI terms. */
export function hostPlatform(): Platform {
  const arch: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386' };
  return { os: 'linux', architecture: arch[process.arch] ?? process.arch };
}

async function collect(source: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of source) parts.push(c);
  return Buffer.concat(parts);
}

async function* once(data: Buffer): AsyncGenerator<Buffer> {
  await Promise.resolve();
  yield data;
}

/** Writes and compresses one layer. */
export async function buildLayer(
  spec: LayerSpec,
  format: ImageFormat = 'oci',
): Promise<BuiltLayer> {
  const tar = spec.tar ?? (await collect(packTar(spec.entries ?? [])));
  const compression = spec.compression ?? 'gzip';
  const blob = compression === 'none' ? tar : await collect(compress(once(tar), compression));
  return {
    mediaType: LAYER_TYPES[format][compression],
    digest: spec.lie?.digest ?? sha256(blob),
    size: spec.lie?.size ?? blob.length,
    diffId: spec.lie?.diffId ?? sha256(tar),
    compression,
    tar,
    blob,
  };
}

/** A whole image: its layers, config and manifest, all in memory. */
export async function buildImage(spec: ImageSpec): Promise<BuiltImage> {
  const format = spec.format ?? 'oci';
  const platform = spec.platform ?? hostPlatform();
  const created = spec.created ?? '2024-01-01T00:00:00Z';
  const layers: BuiltLayer[] = [];
  for (const l of spec.layers) layers.push(await buildLayer(l, format));
  const history: HistoryEntry[] = spec.layers.map((l, i) => ({
    created,
    created_by: l.createdBy ?? `chrun test image builder: layer ${i}`,
  }));
  const config: ImageConfig = {
    created,
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant === undefined ? {} : { variant: platform.variant }),
    config: spec.config ?? {},
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history,
  };
  const configBytes = Buffer.from(JSON.stringify(config));
  const configDigest = sha256(configBytes);
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: format === 'oci' ? MediaType.ociManifest : MediaType.dockerManifest,
    config: {
      mediaType: format === 'oci' ? MediaType.ociConfig : MediaType.dockerConfig,
      digest: configDigest,
      size: configBytes.length,
    },
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
    ...(spec.annotations === undefined ? {} : { annotations: spec.annotations }),
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  const manifestDigest = sha256(manifestBytes);
  return {
    kind: 'image',
    format,
    platform,
    manifest,
    manifestBytes,
    manifestDigest,
    config,
    configBytes,
    configDigest,
    layers,
    descriptor: {
      mediaType: manifest.mediaType!,
      digest: manifestDigest,
      size: manifestBytes.length,
      platform,
    },
  };
}

/** A multi-platform index (OCI image index or Docker manifest list) over `images`. */
export function buildIndex(
  images: readonly BuiltImage[],
  options: { format?: ImageFormat; annotations?: Record<string, string> } = {},
): BuiltIndex {
  const format = options.format ?? images[0]?.format ?? 'oci';
  const index: ImageIndex = {
    schemaVersion: 2,
    mediaType: format === 'oci' ? MediaType.ociIndex : MediaType.dockerManifestList,
    manifests: images.map((i) => i.descriptor),
    ...(options.annotations === undefined ? {} : { annotations: options.annotations }),
  };
  const indexBytes = Buffer.from(JSON.stringify(index));
  const indexDigest = sha256(indexBytes);
  return {
    kind: 'index',
    format,
    index,
    indexBytes,
    indexDigest,
    images: [...images],
    descriptor: { mediaType: index.mediaType!, digest: indexDigest, size: indexBytes.length },
  };
}

/**
 * Every blob of an image or index (manifests, configs, layers), by the digest the manifest
 * names: a layer whose digest is a lie is stored under the lie, so a reader finds content
 * that does not match its name.
 */
export function blobsOf(built: Built): Map<Digest, Buffer> {
  const out = new Map<Digest, Buffer>();
  const add = (img: BuiltImage): void => {
    out.set(img.manifestDigest, img.manifestBytes);
    out.set(img.configDigest, img.configBytes);
    for (const l of img.layers) out.set(l.digest, l.blob);
  };
  if (built.kind === 'image') add(built);
  else {
    out.set(built.indexDigest, built.indexBytes);
    for (const img of built.images) add(img);
  }
  return out;
}
