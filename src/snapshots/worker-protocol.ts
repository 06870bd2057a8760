import { ChrunError, type ErrorCode, type ErrorFields } from '../util/index.js';
import type { LayerForm } from './apply-layer.js';

/** One layer for the worker to apply. */
export interface LayerJob {
  digest: string;
  size: number;
  diffId: string;
  dir: string;
  form: LayerForm;
  /** overlay form: the layers below may be asked for (their directories). */
  lower: boolean;
}

/** An error as it crosses the thread boundary (structured clone keeps no class). */
export interface WireError {
  chrun: boolean;
  code?: string;
  message: string;
  fields?: ErrorFields;
  cause?: string;
  syscall?: string;
  path?: string;
  errno?: number;
}

/** Messages of a job (`id`) from the worker. */
export type FromWorker =
  | { type: 'lower'; id: number }
  | { type: 'done'; id: number; entries: number; bytes: number }
  | { type: 'error'; id: number; error: WireError };

/** Messages to the worker: a job, then its file once stored, and the lower layers if asked. */
export type ToWorker =
  | { type: 'job'; id: number; job: LayerJob }
  | { type: 'file'; id: number; file: string }
  | { type: 'lower'; id: number; dirs: readonly string[] }
  | { type: 'lower-error'; id: number; error: WireError };

export function toWire(err: unknown): WireError {
  if (err instanceof ChrunError) {
    const cause = err.cause instanceof Error ? err.cause.message : undefined;
    return {
      chrun: true,
      code: err.code,
      message: err.message,
      fields: cloneable(err.fields),
      ...(cause === undefined ? {} : { cause }),
    };
  }
  const e = err as Partial<NodeJS.ErrnoException> | undefined;
  return {
    chrun: false,
    message: typeof e?.message === 'string' ? e.message : String(err),
    ...(typeof e?.code === 'string' ? { code: e.code } : {}),
    ...(typeof e?.syscall === 'string' ? { syscall: e.syscall } : {}),
    ...(typeof e?.path === 'string' ? { path: e.path } : {}),
    ...(typeof e?.errno === 'number' ? { errno: e.errno } : {}),
  };
}

export function fromWire(w: WireError): Error {
  if (w.chrun) {
    return new ChrunError(w.code as ErrorCode, w.message, {
      ...(w.cause === undefined ? {} : { cause: new Error(w.cause) }),
      fields: w.fields ?? {},
    });
  }
  const err = new Error(w.message) as NodeJS.ErrnoException;
  if (w.code !== undefined) err.code = w.code;
  if (w.syscall !== undefined) err.syscall = w.syscall;
  if (w.path !== undefined) err.path = w.path;
  if (w.errno !== undefined) err.errno = w.errno;
  return err;
}

/** Fields that survive structured cloning (primitives only). */
function cloneable(fields: ErrorFields): ErrorFields {
  const out: ErrorFields = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v === null || ['string', 'number', 'boolean', 'bigint'].includes(typeof v)) out[k] = v;
  }
  return out;
}
