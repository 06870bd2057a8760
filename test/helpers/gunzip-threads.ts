import { readdirSync, readFileSync } from 'node:fs';

/** The gunzip job threads (named chrun-gunzip, native/gunzip) running in this process. */
export function gunzipThreads(): number {
  return readdirSync('/proc/self/task').filter((t) => {
    try {
      return readFileSync(`/proc/self/task/${t}/comm`, 'utf8') === 'chrun-gunzip\n';
    } catch {
      return false; // a thread that ended meanwhile
    }
  }).length;
}
