import { ChrunError } from '../util/index.js';
import { isDigest, parseDigest, type Digest } from './digest.js';

/**
 * A normalized image reference, as Docker understands one: `redis` is
 * docker.io/library/redis:latest, `localhost:5000/app:1` keeps its registry. Follows the
 * grammar and normalization of github.com/distribution/reference (ParseDockerRef).
 */
export interface ImageReference {
  /** Registry host with an optional port: "docker.io", "localhost:5000", "[::1]:5000". */
  readonly domain: string;
  /** Repository path inside the registry: "library/redis". */
  readonly path: string;
  /** The tag, when the reference has one (parseReference adds "latest" when neither is given). */
  readonly tag?: string;
  /** The digest, when the reference pins one. */
  readonly digest?: Digest;
}

export const DEFAULT_DOMAIN = 'docker.io';
export const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
export const OFFICIAL_REPO_PREFIX = 'library/';
export const DEFAULT_TAG = 'latest';
const NAME_TOTAL_LENGTH_MAX = 255;

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_NAME_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = new RegExp(
  `^(?:${DOMAIN_NAME_COMPONENT}(?:\\.${DOMAIN_NAME_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`,
);
const TAG = /^\w[\w.-]{0,127}$/;
const IDENTIFIER = /^[a-f0-9]{64}$/;

function invalid(input: string, why: string): ChrunError {
  return new ChrunError('CHRUN_INVALID_REFERENCE', `invalid reference "${input}": ${why}`, {
    fields: { reference: input },
  });
}

/** Docker's splitDockerDomain: which part of a name is the registry host. */
function splitDomain(name: string): { domain: string; path: string } {
  const slash = name.indexOf('/');
  let domain: string;
  let path: string;
  if (slash < 0) {
    return { domain: DEFAULT_DOMAIN, path: OFFICIAL_REPO_PREFIX + name };
  }
  const first = name.slice(0, slash);
  const rest = name.slice(slash + 1);
  if (first === 'localhost') {
    [domain, path] = [first, rest];
  } else if (first === LEGACY_DEFAULT_DOMAIN) {
    [domain, path] = [DEFAULT_DOMAIN, rest];
  } else if (/[.:]/.test(first) || first.toLowerCase() !== first) {
    [domain, path] = [first, rest];
  } else {
    [domain, path] = [DEFAULT_DOMAIN, name];
  }
  if (domain === DEFAULT_DOMAIN && !path.includes('/')) path = OFFICIAL_REPO_PREFIX + path;
  return { domain, path };
}

export interface ParseReferenceOptions {
  /** Add the "latest" tag when the reference has neither tag nor digest (default true). */
  defaultTag?: boolean;
}

/**
 * Parses and normalizes a reference like Docker's CLI does. Errors name the part that is
 * wrong: `invalid reference "Redis": repository name "library/Redis" must be lowercase`.
 */
export function parseReference(input: string, options: ParseReferenceOptions = {}): ImageReference {
  if (input === '') throw invalid(input, 'it is empty');
  if (IDENTIFIER.test(input)) {
    throw invalid(input, 'a 64-digit hexadecimal string is an image ID, not a repository name');
  }
  let rest = input;
  let digest: Digest | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    const raw = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (raw.includes('@')) throw invalid(input, `more than one "@"`);
    try {
      digest = parseDigest(raw);
    } catch (err) {
      throw invalid(input, (err as Error).message);
    }
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) {
      throw invalid(
        input,
        `invalid tag "${tag}" (up to 128 letters, digits, "_", "." and "-", not starting with "." or "-")`,
      );
    }
  }
  if (rest === '') throw invalid(input, 'the repository name is empty');
  const { domain, path } = splitDomain(rest);
  if (domain !== DEFAULT_DOMAIN && !DOMAIN.test(domain)) {
    throw invalid(input, `invalid registry host "${domain}"`);
  }
  if (path.toLowerCase() !== path) {
    throw invalid(input, `repository name "${path}" must be lowercase`);
  }
  for (const component of path.split('/')) {
    if (!PATH_COMPONENT.test(component)) {
      throw invalid(
        input,
        component === ''
          ? `empty path component in repository name "${path}"`
          : `invalid repository name component "${component}" (lowercase letters and digits, separated by ".", "_", "__" or "-")`,
      );
    }
  }
  const fullName = `${domain}/${path}`;
  if (fullName.length > NAME_TOTAL_LENGTH_MAX) {
    throw invalid(input, `repository name is longer than ${NAME_TOTAL_LENGTH_MAX} characters`);
  }
  if (tag === undefined && digest === undefined && options.defaultTag !== false) tag = DEFAULT_TAG;
  return {
    domain,
    path,
    ...(tag === undefined ? {} : { tag }),
    ...(digest === undefined ? {} : { digest }),
  };
}

/** "docker.io/library/redis": the repository, without tag or digest. */
export function referenceName(ref: ImageReference): string {
  return `${ref.domain}/${ref.path}`;
}

/** The canonical string: "docker.io/library/redis:7", "localhost:5000/app@sha256:...". */
export function formatReference(ref: ImageReference): string {
  return (
    referenceName(ref) +
    (ref.tag === undefined ? '' : `:${ref.tag}`) +
    (ref.digest === undefined ? '' : `@${ref.digest}`)
  );
}

/** The short name Docker shows: "redis", "bitnami/redis", "localhost:5000/app". */
export function familiarName(ref: ImageReference): string {
  if (ref.domain !== DEFAULT_DOMAIN) return referenceName(ref);
  if (ref.path.startsWith(OFFICIAL_REPO_PREFIX)) {
    const rest = ref.path.slice(OFFICIAL_REPO_PREFIX.length);
    if (!rest.includes('/')) return rest;
  }
  return ref.path;
}

/** The short form with tag and digest: "redis:7". */
export function familiarString(ref: ImageReference): string {
  return (
    familiarName(ref) +
    (ref.tag === undefined ? '' : `:${ref.tag}`) +
    (ref.digest === undefined ? '' : `@${ref.digest}`)
  );
}

/** A copy with another tag (and no digest), for `tag` and for naming loaded images. */
export function withTag(ref: ImageReference, tag: string): ImageReference {
  if (!TAG.test(tag)) throw invalid(`${referenceName(ref)}:${tag}`, `invalid tag "${tag}"`);
  return { domain: ref.domain, path: ref.path, tag };
}

/** A copy pinned to a digest (and without a tag). */
export function withDigest(ref: ImageReference, digest: Digest): ImageReference {
  return { domain: ref.domain, path: ref.path, digest: parseDigest(digest) };
}

/** True when the string looks like an image ID or ID prefix rather than a name. */
export function looksLikeImageId(value: string): boolean {
  if (isDigest(value)) return true;
  return /^[a-f0-9]{1,64}$/.test(value);
}
