import { createHash } from 'node:crypto';
import { ChrunError } from '../util/index.js';

/** A content digest, "algorithm:hex" (for example "sha256:2c26b4..."). */
export type Digest = `${string}:${string}`;

/** The hex lengths of the algorithms chrun verifies (the OCI spec's registered ones). */
const HEX_LENGTH: Record<string, number> = { sha256: 64, sha512: 128 };

const DIGEST_SHAPE = /^([a-z0-9]+(?:[+._-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/;

/**
 * Checks a digest string and returns it typed. Only sha256 and sha512 with lowercase hex are
 * accepted: they are the algorithms content can be verified with; anything else is refused
 * with a message naming the bad part.
 */
export function parseDigest(value: string): Digest {
  const m = DIGEST_SHAPE.exec(value);
  if (m === null) {
    throw new ChrunError(
      'CHRUN_INVALID_ARGUMENT',
      `invalid digest "${value}": want algorithm:hex`,
      {
        fields: { digest: value },
      },
    );
  }
  const algorithm = m[1]!;
  const hex = m[2]!;
  const length = HEX_LENGTH[algorithm];
  if (length === undefined) {
    throw new ChrunError(
      'CHRUN_UNSUPPORTED',
      `invalid digest "${value}": unsupported algorithm "${algorithm}" (sha256 or sha512)`,
      { fields: { digest: value } },
    );
  }
  if (hex.length !== length || !/^[0-9a-f]+$/.test(hex)) {
    throw new ChrunError(
      'CHRUN_INVALID_ARGUMENT',
      `invalid digest "${value}": ${algorithm} wants ${length} lowercase hex digits`,
      { fields: { digest: value } },
    );
  }
  return value as Digest;
}

/** True when `value` is a digest parseDigest accepts. */
export function isDigest(value: string): value is Digest {
  const m = DIGEST_SHAPE.exec(value);
  if (m === null) return false;
  const length = HEX_LENGTH[m[1]!];
  return length !== undefined && m[2]!.length === length && /^[0-9a-f]+$/.test(m[2]!);
}

/** The algorithm part of a digest ("sha256"). */
export function digestAlgorithm(digest: Digest): string {
  return digest.slice(0, digest.indexOf(':'));
}

/** The hex part of a digest. */
export function digestHex(digest: Digest): string {
  return digest.slice(digest.indexOf(':') + 1);
}

/** The sha256 digest of some bytes. */
export function sha256Digest(data: Uint8Array | string): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** The digest of `data` with the algorithm of `like` (sha256 or sha512). */
export function digestOf(data: Uint8Array, like: Digest = 'sha256:'): Digest {
  const algorithm = digestAlgorithm(like) || 'sha256';
  return `${algorithm}:${createHash(algorithm).update(data).digest('hex')}`;
}

/** Docker's short image ID: the first 12 hex digits. */
export function shortId(digest: string): string {
  const hex = digest.includes(':') ? digest.slice(digest.indexOf(':') + 1) : digest;
  return hex.slice(0, 12);
}
