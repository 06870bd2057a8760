import { ChrunError } from '../util/index.js';
import { applyLayer, type ApplyStats, type LayerForm } from './apply-layer.js';
import type { UnpackLayer } from './unpack.js';

/**
 * Applies one layer into `dir` on this thread: opens it, applies its entries, then checks
 * what `done()` checks (size, diffID). Errors of the tar reader or the decompressor are
 * prefixed with the layer they came from.
 */
export async function applyInto(
  layer: Pick<UnpackLayer, 'digest' | 'open'>,
  dir: string,
  form: LayerForm,
  lower?: () => Promise<readonly string[]>,
): Promise<ApplyStats> {
  try {
    const opened = await layer.open();
    const stats = await applyLayer(opened.entries, {
      dir,
      form,
      name: layer.digest,
      ...(lower === undefined ? {} : { lower: { dirs: lower } }),
    });
    await opened.done();
    return stats;
  } catch (err) {
    throw layerError(layer.digest, err);
  }
}

/** A ChrunError that does not name its layer yet gets "apply layer DIGEST: " in front. */
export function layerError(digest: string, err: unknown): unknown {
  if (err instanceof ChrunError && !err.message.startsWith('apply layer ')) {
    return new ChrunError(err.code, `apply layer ${digest}: ${err.message}`, {
      cause: err,
      fields: { ...err.fields, digest },
    });
  }
  return err;
}
