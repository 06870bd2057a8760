import { createHash } from 'node:crypto';
import type { Digest } from './digest.js';

/**
 * The chain IDs of a layer stack (OCI image-spec config.md, "Layer ChainID"):
 * ChainID(L0) = DiffID(L0), ChainID(L0..n) = sha256(ChainID(L0..n-1) + " " + DiffID(Ln)).
 * Returns one chain ID per layer; the last one identifies the whole stack.
 */
export function chainIds(diffIds: readonly Digest[]): Digest[] {
  const out: Digest[] = [];
  let prev: Digest | undefined;
  for (const diffId of diffIds) {
    prev =
      prev === undefined
        ? diffId
        : `sha256:${createHash('sha256').update(`${prev} ${diffId}`).digest('hex')}`;
    out.push(prev);
  }
  return out;
}

/** The chain ID of the whole stack (undefined for an image without layers). */
export function chainId(diffIds: readonly Digest[]): Digest | undefined {
  return chainIds(diffIds).at(-1);
}
