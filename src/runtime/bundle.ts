import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Spec } from '../oci/index.js';
import { ChrunError, errnoCode } from '../util/index.js';

function bad(where: string, what: string): never {
  throw new ChrunError('CHRUN_INVALID_ARGUMENT', `config.json: ${where} ${what}`);
}

type Json = Record<string, unknown>;

const at = (where: string, key: string): string => (where === '' ? key : `${where}.${key}`);

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function str(o: Json, key: string, where: string, required = false): void {
  const v = o[key];
  if (v === undefined) {
    if (required) bad(at(where, key), 'is required');
    return;
  }
  if (typeof v !== 'string') bad(at(where, key), 'must be a string');
}

function strArray(o: Json, key: string, where: string): void {
  const v = o[key];
  if (v === undefined) return;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))
    bad(at(where, key), 'must be an array of strings');
}

function uint(o: Json, key: string, where: string, required = false): void {
  const v = o[key];
  if (v === undefined) {
    if (required) bad(at(where, key), 'is required');
    return;
  }
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) {
    bad(at(where, key), 'must be an unsigned 32-bit integer');
  }
}

function objArray(o: Json, key: string, where: string, each: (e: Json, w: string) => void): void {
  const v = o[key];
  if (v === undefined) return;
  if (!Array.isArray(v)) bad(at(where, key), 'must be an array');
  v.forEach((e, i) => {
    if (!isObj(e)) bad(`${at(where, key)}[${i}]`, 'must be an object');
    each(e, `${at(where, key)}[${i}]`);
  });
}

/**
 * Checks a parsed config.json for what the runtime relies on, with one clear line per problem
 * ("config.json: process.user.uid must be an unsigned 32-bit integer"). Hand-written rather
 * than zod: it runs on every `create`, and loading zod costs more than the whole check.
 */
export function validateSpec(raw: unknown): Spec {
  if (!isObj(raw)) bad('', 'must hold a JSON object');
  if (typeof raw.ociVersion !== 'string' || !/^1\.\d+\.\d+/.test(raw.ociVersion)) {
    bad('ociVersion', `${JSON.stringify(raw.ociVersion)} is not a supported version (1.x)`);
  }
  const root = raw.root;
  if (!isObj(root)) bad('root', 'is required (an object with a path)');
  str(root, 'path', 'root', true);
  if (root.readonly !== undefined && typeof root.readonly !== 'boolean')
    bad('root.readonly', 'must be a boolean');
  str(raw, 'hostname', '');
  str(raw, 'domainname', '');
  const proc = raw.process;
  if (proc !== undefined) {
    if (!isObj(proc)) bad('process', 'must be an object');
    strArray(proc, 'args', 'process');
    strArray(proc, 'env', 'process');
    str(proc, 'cwd', 'process', true);
    if (!isObj(proc.user)) bad('process.user', 'is required');
    uint(proc.user, 'uid', 'process.user', true);
    uint(proc.user, 'gid', 'process.user', true);
    uint(proc.user, 'umask', 'process.user');
    const gids = proc.user.additionalGids;
    if (
      gids !== undefined &&
      (!Array.isArray(gids) ||
        gids.some((g) => typeof g !== 'number' || !Number.isInteger(g) || g < 0))
    ) {
      bad('process.user.additionalGids', 'must be an array of unsigned integers');
    }
    if (proc.terminal !== undefined && typeof proc.terminal !== 'boolean')
      bad('process.terminal', 'must be a boolean');
    if (proc.noNewPrivileges !== undefined && typeof proc.noNewPrivileges !== 'boolean') {
      bad('process.noNewPrivileges', 'must be a boolean');
    }
    if (proc.capabilities !== undefined) {
      if (!isObj(proc.capabilities)) bad('process.capabilities', 'must be an object');
      for (const set of ['bounding', 'effective', 'inheritable', 'permitted', 'ambient']) {
        strArray(proc.capabilities, set, 'process.capabilities');
      }
    }
    objArray(proc, 'rlimits', 'process', (r, w) => {
      str(r, 'type', w, true);
      for (const k of ['soft', 'hard']) {
        if (typeof r[k] !== 'number' || !Number.isInteger(r[k]))
          bad(`${w}.${k}`, 'must be an integer');
      }
    });
  }
  objArray(raw, 'mounts', '', (m, w) => {
    str(m, 'destination', w, true);
    str(m, 'type', w);
    str(m, 'source', w);
    strArray(m, 'options', w);
  });
  const linux = raw.linux;
  if (linux !== undefined) {
    if (!isObj(linux)) bad('linux', 'must be an object');
    objArray(linux, 'namespaces', 'linux', (n, w) => {
      str(n, 'type', w, true);
      str(n, 'path', w);
    });
    for (const k of ['uidMappings', 'gidMappings']) {
      objArray(linux, k, 'linux', (m, w) => {
        uint(m, 'containerID', w, true);
        uint(m, 'hostID', w, true);
        uint(m, 'size', w, true);
      });
    }
    objArray(linux, 'devices', 'linux', (d, w) => {
      str(d, 'path', w, true);
      str(d, 'type', w, true);
    });
    strArray(linux, 'maskedPaths', 'linux');
    strArray(linux, 'readonlyPaths', 'linux');
    if (
      linux.sysctl !== undefined &&
      (!isObj(linux.sysctl) || Object.values(linux.sysctl).some((v) => typeof v !== 'string'))
    ) {
      bad('linux.sysctl', 'must map names to strings');
    }
    if (linux.seccomp !== undefined) {
      if (!isObj(linux.seccomp)) bad('linux.seccomp', 'must be an object');
      str(linux.seccomp, 'defaultAction', 'linux.seccomp', true);
      objArray(linux.seccomp, 'syscalls', 'linux.seccomp', (s, w) => {
        strArray(s, 'names', w);
        str(s, 'action', w, true);
      });
    }
  }
  return raw as unknown as Spec;
}

/** Reads and validates BUNDLE/config.json; returns the spec and the root's absolute path. */
export async function loadBundle(
  bundle: string,
): Promise<{ spec: Spec; bundle: string; rootfs: string }> {
  const dir = path.resolve(bundle);
  let text: string;
  try {
    text = await readFile(path.join(dir, 'config.json'), 'utf8');
  } catch (err) {
    const why = errnoCode(err) === 'ENOENT' ? 'no such file or directory' : String(err);
    throw new ChrunError('CHRUN_INVALID_ARGUMENT', `read bundle ${dir}: config.json: ${why}`, {
      cause: err,
    });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ChrunError(
      'CHRUN_INVALID_ARGUMENT',
      `read bundle ${dir}: config.json: ${(err as Error).message}`,
    );
  }
  const spec = validateSpec(raw);
  const rootfs = path.resolve(dir, spec.root?.path ?? 'rootfs');
  return { spec, bundle: dir, rootfs };
}
