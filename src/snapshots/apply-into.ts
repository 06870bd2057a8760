import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { ChrunError } from '../util/index.js';
import { applyLayer, GuessedWrong, type ApplyStats, type LayerForm } from './apply-layer.js';
import type { UnpackLayer } from './unpack.js';

/**
 * Applies one layer into `dir` on this thread: opens it, applies its entries, then checks
 * what `done()` checks (size, diffID). Errors of the tar reader or the decompressor are
 * prefixed with the layer they came from.
 *
 * With `reopen` (a layer that can be opened again, such as a stored blob), an overlay layer
 * does not wait for the layers below to make a parent directory it does not carry
 * (applyLayer's guessParents): layers whose tars leave out their parents (`tar -C / usr/lib`)
 * would otherwise each wait for all the layers below before writing their first file. In
 * the rare case the guess was wrong (the parent is a symlink below), `dir` is emptied and
 * the layer applied again, waiting.
 */
export async function applyInto(
  layer: Pick<UnpackLayer, 'digest' | 'open'>,
  dir: string,
  form: LayerForm,
  lower?: () => Promise<readonly string[]>,
  reopen = false,
): Promise<ApplyStats> {
  const once = async (guessParents: boolean): Promise<ApplyStats> => {
    const opened = await layer.open();
    const stats = await applyLayer(opened.entries, {
      dir,
      form,
      name: layer.digest,
      ...(lower === undefined ? {} : { lower: { dirs: lower } }),
      ...(guessParents ? { guessParents } : {}),
    });
    await opened.done();
    return stats;
  };
  try {
    const guess = reopen && form === 'overlay' && lower !== undefined;
    try {
      return await once(guess);
    } catch (err) {
      if (!(err instanceof GuessedWrong)) throw err;
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { mode: 0o755 });
      chmodSync(dir, 0o755);
      return await once(false);
    }
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
