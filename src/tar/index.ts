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
