export {
  ContentStore,
  type ContentStoreOptions,
  type BlobInfo,
  type WriterOptions,
} from './content-store.js';
export { IngestWriter, type IngestProgress } from './ingest-writer.js';
export { ImageRecords, assignNames, type ImageRecord } from './image-records.js';
export { Lease, GC_LOCK } from './lease.js';
export { collectGarbage, type GcResult } from './gc.js';
export { acquireLock, tryLock, withLock, lockScope, type Lock, type LockOptions } from './lock.js';
