export type {
  TarEntryType,
  TarHeader,
  TarHeaderInput,
  TarEntry,
  ReadTarOptions,
  TarBody,
  TarWriteEntry,
} from './types.js';
export { readTar } from './read-tar.js';
export { packTar } from './pack-tar.js';
export { TarWriter } from './tar-writer.js';
export { encodeHeader } from './encode-header.js';
export { decompress, type DecompressOptions } from './decompress.js';
export { compress, type CompressOptions } from './compress.js';
export { detectCompression, DETECT_BYTES, type Compression } from './compression.js';
export { limitBytes } from './limit-bytes.js';
