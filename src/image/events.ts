import type { Digest, Platform } from '../oci/index.js';

/** What a layer (or config) transfer is doing, in Docker's words. */
export type LayerStatus =
  | 'waiting'
  | 'exists'
  | 'downloading'
  | 'verifying'
  | 'downloaded'
  | 'extracting'
  | 'complete'
  | 'pushing'
  | 'pushed'
  | 'mounted';

/** Progress of a pull or push, for renderers (the CLI's multi-line display, logs). */
export type TransferEvent =
  | {
      type: 'resolved';
      /** The reference as given, normalized. */
      reference: string;
      /** The manifest (or index) digest the reference resolved to. */
      digest: Digest;
      platform?: Platform;
    }
  | {
      type: 'layer';
      /** Short ID (12 hex digits), as Docker shows. */
      id: string;
      digest: Digest;
      status: LayerStatus;
      current: number;
      total: number;
    }
  | { type: 'message'; text: string };

export type ProgressListener = (event: TransferEvent) => void;
