import { ChrunError, type ErrorCode } from '../util/index.js';
import {
  dockerArchiveManifestShape,
  imageConfigShape,
  indexShape,
  manifestShape,
  type DockerArchiveEntry,
} from './schemas.js';
import { ShapeError, type Check } from './shape.js';
import {
  MediaType,
  isIndexType,
  isManifestType,
  isSchema1Type,
  layerCompression,
} from './media-types.js';
import type { ImageConfig, ImageManifest, ManifestDocument } from './image-types.js';

/** Runs a shape check; a mismatch becomes `code` with "invalid WHAT: path: why". */
function check<T>(
  shape: Check<T>,
  doc: unknown,
  what: string,
  code: ErrorCode = 'CHRUN_MANIFEST_INVALID',
): T {
  try {
    return shape(doc, '');
  } catch (err) {
    if (err instanceof ShapeError) throw new ChrunError(code, `invalid ${what}: ${err.message}`);
    throw err;
  }
}

function parseJson(bytes: Uint8Array | string, what: string): unknown {
  try {
    return JSON.parse(typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw new ChrunError('CHRUN_MANIFEST_INVALID', `parse ${what}: not valid JSON`, { cause: err });
  }
}

function field(obj: unknown, key: string): unknown {
  return typeof obj === 'object' && obj !== null
    ? (obj as Record<string, unknown>)[key]
    : undefined;
}

/**
 * Parses a manifest or index as served by a registry or found in an archive: OCI image
 * manifest and index, Docker schema 2 manifest and manifest list. `contentType` is the
 * Content-Type the registry sent (used when the document carries no mediaType). Docker's
 * schema 1 is refused with a clear message, anything else as an unsupported media type.
 */
export function parseManifestDocument(
  bytes: Uint8Array | string,
  contentType?: string,
  what = 'manifest',
): ManifestDocument {
  const doc = parseJson(bytes, what);
  const declared = field(doc, 'mediaType');
  const header = contentType?.split(';')[0]?.trim();
  const mediaType =
    typeof declared === 'string' && declared !== ''
      ? declared
      : header !== undefined &&
          header !== '' &&
          header !== 'application/json' &&
          header !== 'text/plain'
        ? header
        : undefined;
  if (field(doc, 'schemaVersion') === 1 || isSchema1Type(mediaType)) {
    throw new ChrunError(
      'CHRUN_MANIFEST_UNSUPPORTED',
      `${what} uses docker schema 1, which chrun does not support (deprecated since 2017; push the image again with a current client)`,
    );
  }
  const looksIndex = Array.isArray(field(doc, 'manifests'));
  const looksManifest = field(doc, 'config') !== undefined && Array.isArray(field(doc, 'layers'));
  if (
    (mediaType !== undefined && isIndexType(mediaType)) ||
    (mediaType === undefined && looksIndex)
  ) {
    const index = check(indexShape, doc, what);
    return {
      kind: 'index',
      mediaType: mediaType ?? MediaType.ociIndex,
      index,
    };
  }
  if (
    (mediaType !== undefined && isManifestType(mediaType)) ||
    (mediaType === undefined && looksManifest)
  ) {
    const manifest = check(manifestShape, doc, what);
    return {
      kind: 'manifest',
      mediaType: mediaType ?? MediaType.ociManifest,
      manifest,
    };
  }
  throw new ChrunError(
    'CHRUN_MANIFEST_UNSUPPORTED',
    `${what} has unsupported media type "${mediaType ?? 'none'}"`,
    { fields: { mediaType } },
  );
}

/**
 * Checks that a manifest describes a runnable container image: a known config type and
 * layers chrun can unpack (tar, gzip or zstd). Names the first thing that is not.
 */
export function checkImageManifest(manifest: ImageManifest, what = 'manifest'): void {
  const cfg = manifest.config.mediaType;
  if (cfg !== MediaType.ociConfig && cfg !== MediaType.dockerConfig) {
    throw new ChrunError(
      'CHRUN_MANIFEST_UNSUPPORTED',
      `${what} is not a container image: unsupported config media type "${cfg}"`,
      { fields: { mediaType: cfg } },
    );
  }
  for (const layer of manifest.layers) {
    if (layerCompression(layer.mediaType) === undefined) {
      throw new ChrunError(
        'CHRUN_MANIFEST_UNSUPPORTED',
        `${what} has a layer of unsupported media type "${layer.mediaType}" (${layer.digest})`,
        { fields: { mediaType: layer.mediaType, digest: layer.digest } },
      );
    }
  }
}

/** Parses and checks an image config; `layers` is the manifest's layer count, when known. */
export function parseImageConfig(
  bytes: Uint8Array | string,
  layers?: number,
  what = 'image config',
): ImageConfig {
  const doc = parseJson(bytes, what);
  const config = check(imageConfigShape, doc, what);
  if (layers !== undefined && config.rootfs.diff_ids.length !== layers) {
    throw new ChrunError(
      'CHRUN_MANIFEST_INVALID',
      `invalid ${what}: ${config.rootfs.diff_ids.length} diff_ids for ${layers} layers`,
    );
  }
  return config;
}

/** Parses docker save's manifest.json. */
export function parseDockerArchiveManifest(bytes: Uint8Array | string): DockerArchiveEntry[] {
  const doc = parseJson(bytes, 'manifest.json');
  return check(dockerArchiveManifestShape, doc, 'manifest.json', 'CHRUN_ARCHIVE_INVALID');
}
