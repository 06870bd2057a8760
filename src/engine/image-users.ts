import type { ImageRecord } from '../image/index.js';
import type { EnginePaths } from './paths.js';

/**
 * Which containers use an image, for `rmi` and `image prune` (which refuse to remove an
 * image in use unless forced). The runtime fills this in from its container records;
 * until containers exist, no image is in use.
 *
 * Returns the names (or IDs) of the containers whose image is `record` (matched by its
 * image ID `record.id` or manifest digest `record.target.digest`).
 */
export function containersUsingImage(_paths: EnginePaths, _record: ImageRecord): Promise<string[]> {
  return Promise.resolve([]);
}
