import type { ImageRecord } from '../image/index.js';
import type { ContainerStore } from './container-store.js';

/**
 * Which containers use an image, for `rmi` and `image prune` (which refuse to remove an
 * image in use unless forced): every container record, running or stopped, whose image ID
 * is the record's (as docker counts them). Returns their names.
 */
export function containersUsingImage(store: ContainerStore, record: ImageRecord): string[] {
  return store
    .list()
    .filter((c) => c.imageId === record.id)
    .map((c) => c.name);
}
