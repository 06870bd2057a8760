export type { TarEntryType, TarHeader, TarHeaderInput } from './types.js';
