/** The shapes of the image documents chrun reads from outside (registries, archives). */
import type { Descriptor, ImageConfig, ImageIndex, ImageManifest } from './image-types.js';
import {
  array,
  boolean,
  digest,
  literal,
  nonEmptyString,
  nullable,
  object,
  optional,
  record,
  size,
  string,
  type Check,
} from './shape.js';

const annotations = optional(record(string));

export const platformShape = object({
  os: nonEmptyString,
  architecture: nonEmptyString,
  variant: optional(string),
  'os.version': optional(string),
  'os.features': optional(array(string)),
});

export const descriptorShape = object({
  mediaType: nonEmptyString,
  digest,
  size,
  urls: optional(array(string)),
  annotations,
  platform: optional(platformShape),
  artifactType: optional(string),
}) as Check<Descriptor>;

export const manifestShape = object({
  schemaVersion: literal(2),
  mediaType: optional(string),
  artifactType: optional(string),
  config: descriptorShape,
  layers: array(descriptorShape),
  subject: optional(descriptorShape),
  annotations,
}) as Check<ImageManifest>;

export const indexShape = object({
  schemaVersion: literal(2),
  mediaType: optional(string),
  artifactType: optional(string),
  manifests: array(descriptorShape),
  subject: optional(descriptorShape),
  annotations,
}) as Check<ImageIndex>;

const stringList = nullable(array(string));

export const imageConfigShape = object({
  created: optional(string),
  author: optional(string),
  architecture: nonEmptyString,
  os: nonEmptyString,
  variant: optional(string),
  config: nullable(
    object({
      User: optional(string),
      Env: stringList,
      Entrypoint: stringList,
      Cmd: stringList,
      WorkingDir: optional(string),
      Labels: nullable(record(string)),
      StopSignal: optional(string),
    }),
  ),
  rootfs: object({ type: literal('layers'), diff_ids: array(digest) }),
  history: optional(
    array(
      object({
        created: optional(string),
        created_by: optional(string),
        author: optional(string),
        comment: optional(string),
        empty_layer: optional(boolean),
      }),
    ),
  ),
}) as Check<ImageConfig>;

export interface DockerArchiveEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

/** docker save's manifest.json. */
export const dockerArchiveManifestShape = array(
  object({ Config: nonEmptyString, RepoTags: stringList, Layers: array(string) }),
) as Check<DockerArchiveEntry[]>;
