import { assignNames, type ImageRecord } from '../content/index.js';
import { parseReference, referenceName } from '../oci/index.js';
import { ChrunError } from '../util/index.js';
import { findRecord, type ImageStore } from './image-store.js';

/** `tag SOURCE TARGET`: gives an image another name (moving it from any other image). */
export async function tagImage(
  store: ImageStore,
  source: string,
  target: string,
): Promise<ImageRecord> {
  const ref = parseReference(target);
  if (ref.digest !== undefined) {
    throw new ChrunError(
      'CHRUN_INVALID_REFERENCE',
      `invalid reference "${target}": a tag cannot carry a digest`,
      {
        fields: { reference: target },
      },
    );
  }
  await store.init();
  return store.records.update((images) => {
    const record = findRecord(images, source);
    if (record === undefined) {
      throw new ChrunError('CHRUN_IMAGE_NOT_FOUND', `no such image: ${source}`, {
        fields: { reference: source },
      });
    }
    assignNames(images, record, [`${referenceName(ref)}:${ref.tag!}`]);
    return { ...record };
  });
}
