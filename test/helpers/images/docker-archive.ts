// Writes built images as `docker save` does (the format of Docker 1.10 to 24, which
// `docker load`, skopeo's docker-archive: and podman read): manifest.json, repositories,
// <config hex>.json, and per layer <v1 id>/VERSION, <v1 id>/json, <v1 id>/layer.tar
// (uncompressed), in lexical order like docker's own archiver.
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createHash } from 'node:crypto';
import { packTar, type TarWriteEntry } from '../../../src/tar/index.js';
import type { BuiltImage } from './build.js';

export interface DockerArchiveImage {
  image: BuiltImage;
  /** RepoTags ("busybox:latest"); none: an untagged image. */
  tags?: readonly string[];
}

/** One entry of docker's manifest.json. */
export interface DockerArchiveManifestEntry {
  Config: string;
  RepoTags: string[] | null;
  Layers: string[];
}

const fixedMtime = 1704067200;
const hex = (d: string): string => d.slice(d.indexOf(':') + 1);

/**
 * Writes a docker-save archive of `images` (each with its tags) to `file`; returns what its
 * manifest.json says. v1 layer ids are derived from the chain (as docker derives them), so the
 * archive is reproducible.
 */
export async function writeDockerArchive(
  file: string,
  images: BuiltImage | readonly DockerArchiveImage[],
  tags: readonly string[] = [],
): Promise<{ archivePath: string; manifest: DockerArchiveManifestEntry[] }> {
  const list: readonly DockerArchiveImage[] = 'kind' in images ? [{ image: images, tags }] : images;
  const files = new Map<string, Buffer>();
  const manifest: DockerArchiveManifestEntry[] = [];
  const repositories: Record<string, Record<string, string>> = {};
  for (const { image, tags: repoTags = [] } of list) {
    const configName = `${hex(image.configDigest)}.json`;
    files.set(configName, image.configBytes);
    const layerPaths: string[] = [];
    let parent = '';
    for (const [i, layer] of image.layers.entries()) {
      const top = i === image.layers.length - 1;
      const id = createHash('sha256')
        .update(
          JSON.stringify({ parent, layer: layer.diffId, config: top ? image.configDigest : '' }),
        )
        .digest('hex');
      const v1: Record<string, unknown> = {
        id,
        ...(parent === '' ? {} : { parent }),
        created: image.config.created,
        container_config: { Cmd: null },
        ...(top
          ? {
              config: image.config.config,
              architecture: image.config.architecture,
              os: image.config.os,
            }
          : {}),
      };
      files.set(`${id}/VERSION`, Buffer.from('1.0'));
      files.set(`${id}/json`, Buffer.from(JSON.stringify(v1)));
      files.set(`${id}/layer.tar`, layer.tar);
      layerPaths.push(`${id}/layer.tar`);
      parent = id;
    }
    manifest.push({
      Config: configName,
      RepoTags: repoTags.length > 0 ? [...repoTags] : null,
      Layers: layerPaths,
    });
    for (const t of repoTags) {
      const colon = t.lastIndexOf(':');
      const slash = t.lastIndexOf('/');
      const [repo, tag] = colon > slash ? [t.slice(0, colon), t.slice(colon + 1)] : [t, 'latest'];
      (repositories[repo] ??= {})[tag] = parent;
    }
  }
  files.set('manifest.json', Buffer.from(JSON.stringify(manifest)));
  if (Object.keys(repositories).length > 0) {
    files.set('repositories', Buffer.from(JSON.stringify(repositories)));
  }
  const entries: TarWriteEntry[] = [];
  const dirs = new Set<string>();
  for (const name of [...files.keys()].sort()) {
    const slash = name.indexOf('/');
    if (slash > 0 && !dirs.has(name.slice(0, slash))) {
      dirs.add(name.slice(0, slash));
      entries.push({
        header: { path: `${name.slice(0, slash)}/`, type: 'directory', mtime: fixedMtime },
      });
    }
    entries.push({
      header: { path: name, type: 'file', mtime: fixedMtime },
      body: files.get(name)!,
    });
  }
  await pipeline(Readable.from(packTar(entries)), createWriteStream(file));
  return { archivePath: file, manifest };
}
