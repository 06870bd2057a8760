import type { ImageRecord } from '../content/index.js';
import {
  familiarString,
  parseReference,
  type ContainerConfig,
  type Descriptor,
  type Digest,
  type HistoryEntry,
} from '../oci/index.js';
import type { ImageStore } from './image-store.js';

/** `image inspect`: Docker's fields, from the record, manifest and config. */
export interface ImageInspect {
  Id: Digest;
  RepoTags: string[];
  RepoDigests: string[];
  Created: string | undefined;
  Author: string | undefined;
  Config: ContainerConfig | null;
  Architecture: string;
  Variant?: string;
  Os: string;
  /** Bytes of the layers as stored (compressed). */
  Size: number;
  RootFS: { Type: 'layers'; Layers: Digest[] };
  History: HistoryEntry[];
  Descriptor: Descriptor;
  Metadata: { LastTagTime: string };
}

const familiar = (name: string): string =>
  familiarString(parseReference(name, { defaultTag: false }));

export async function inspectImage(store: ImageStore, record: ImageRecord): Promise<ImageInspect> {
  const manifest = await store.manifest(record);
  const config = await store.config(record, manifest);
  return {
    Id: record.id,
    RepoTags: record.tags.map(familiar),
    RepoDigests: record.digests.map(familiar),
    Created: config.created,
    Author: config.author,
    Config: config.config ?? null,
    Architecture: config.architecture,
    ...(config.variant === undefined ? {} : { Variant: config.variant }),
    Os: config.os,
    Size: manifest.layers.reduce((n, l) => n + l.size, 0),
    RootFS: { Type: 'layers', Layers: config.rootfs.diff_ids },
    History: config.history ?? [],
    Descriptor: record.target,
    Metadata: { LastTagTime: record.updated },
  };
}

/** One row of `images`: an image under one of its tags (or `<none>`). */
export interface ImageSummary {
  Repository: string;
  Tag: string;
  /** The manifest digest, as `images --digests` shows it. */
  Digest: Digest;
  ID: Digest;
  CreatedAt: string | undefined;
  Size: number;
}

/** Docker's `images` rows: one per tag; untagged images once, as <none>. */
export function summarizeImages(records: readonly ImageRecord[]): ImageSummary[] {
  const rows: ImageSummary[] = [];
  for (const r of records) {
    const base = { Digest: r.target.digest, ID: r.id, CreatedAt: r.created, Size: r.size };
    if (r.tags.length === 0) {
      const repo =
        r.digests[0] === undefined ? '<none>' : familiar(r.digests[0]).replace(/@.*$/, '');
      rows.push({ Repository: repo, Tag: '<none>', ...base });
      continue;
    }
    for (const t of r.tags) {
      const ref = parseReference(t);
      const name = familiar(t);
      rows.push({
        Repository: name.slice(0, name.length - ref.tag!.length - 1),
        Tag: ref.tag!,
        ...base,
      });
    }
  }
  rows.sort(
    (a, b) =>
      (b.CreatedAt ?? '').localeCompare(a.CreatedAt ?? '') ||
      a.Repository.localeCompare(b.Repository) ||
      a.Tag.localeCompare(b.Tag),
  );
  return rows;
}
