import { createRequire } from 'node:module';
import { ChrunError } from '../util/index.js';

/** A function of a loaded library; `async` runs it on libuv's threadpool. */
export type KoffiFunction = ((...args: unknown[]) => unknown) & {
  async: (...args: unknown[]) => void;
};

/** The part of koffi that sys/ uses (libc.ts, gunzip.ts). */
export interface KoffiModule {
  load(path: string): { func(decl: string): KoffiFunction };
  opaque(name: string): unknown;
  errno(): number;
  /** An ArrayBuffer over native memory, without a copy. */
  view(ptr: unknown, len: number): ArrayBuffer;
}

let cached: KoffiModule | undefined;

/** koffi, loaded on first use (about 10 ms); a clear error when it is not installed. */
export function loadKoffi(): KoffiModule {
  if (cached !== undefined) return cached;
  try {
    cached = createRequire(import.meta.url)('koffi') as KoffiModule;
  } catch (err) {
    throw new ChrunError(
      'CHRUN_UNSUPPORTED',
      'load koffi: the native call bridge is not installed',
      {
        cause: err,
      },
    );
  }
  return cached;
}
