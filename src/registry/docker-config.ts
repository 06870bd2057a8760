import { chown, mkdir, readFile, readlink, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ChrunError, errnoCode, reasonOf, writeFileAtomic } from '../util/index.js';
import { credentialHelper } from './credential-helper.js';

export interface Credentials {
  username: string;
  password: string;
}

/** The key Docker uses for Docker Hub in config.json. */
export const DOCKER_HUB_AUTH_KEY = 'https://index.docker.io/v1/';

interface ConfigFile {
  auths?: Record<
    string,
    { auth?: string; username?: string; password?: string; identitytoken?: string }
  >;
  credsStore?: string;
  credHelpers?: Record<string, string>;
  [key: string]: unknown;
}

/** $DOCKER_CONFIG/config.json, else ~/.docker/config.json (as the docker CLI). */
export function defaultDockerConfigPath(): string {
  const dir = process.env.DOCKER_CONFIG;
  return path.join(
    dir !== undefined && dir !== '' ? dir : path.join(os.homedir(), '.docker'),
    'config.json',
  );
}

/** The config.json key for a registry host ("docker.io" is Docker Hub's legacy URL). */
export function authKey(registry: string): string {
  return registry === 'docker.io' ||
    registry === 'index.docker.io' ||
    registry === 'registry-1.docker.io'
    ? DOCKER_HUB_AUTH_KEY
    : registry;
}

/** docker's ConvertToHostname: "https://host:5000/v2/" -> "host:5000". */
function keyHost(key: string): string {
  let k = key;
  if (k.startsWith('http://')) k = k.slice(7);
  else if (k.startsWith('https://')) k = k.slice(8);
  return k.split('/')[0] ?? k;
}

function sameRegistry(key: string, registry: string): boolean {
  const want = authKey(registry);
  if (key === want) return true;
  const host = keyHost(key);
  if (want === DOCKER_HUB_AUTH_KEY)
    return host === 'index.docker.io' || host === 'docker.io' || host === 'registry-1.docker.io';
  return host === registry;
}

/**
 * Docker's credentials file: reads `auths` (base64 "user:password" in `auth`, or separate
 * fields), runs credential helpers named by `credHelpers`/`credsStore` for lookups, and
 * writes logins back with mode 0600, keeping every other setting in the file.
 */
export class DockerConfig {
  constructor(readonly file: string = defaultDockerConfigPath()) {}

  private async read(): Promise<ConfigFile> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return {};
      throw new ChrunError('CHRUN_INVALID_ARGUMENT', `read ${this.file}: ${reasonOf(err)}`, {
        cause: err,
      });
    }
    if (text.trim() === '') return {};
    try {
      const doc = JSON.parse(text) as unknown;
      if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
        throw new Error('not an object');
      return doc as ConfigFile;
    } catch (err) {
      throw new ChrunError('CHRUN_INVALID_ARGUMENT', `read ${this.file}: not valid JSON`, {
        cause: err,
      });
    }
  }

  /** The credential helper config.json names for a registry (credHelpers, else credsStore). */
  private static helperFor(doc: ConfigFile, registry: string): string | undefined {
    const name =
      doc.credHelpers?.[authKey(registry)] ?? doc.credHelpers?.[registry] ?? doc.credsStore;
    return name === undefined || name === '' ? undefined : name;
  }

  /**
   * The credentials for a registry host, or undefined for anonymous access. A configured
   * helper is asked first (as docker does); `auths` is the fallback when it has nothing.
   */
  async get(registry: string): Promise<Credentials | undefined> {
    const doc = await this.read();
    const helper = DockerConfig.helperFor(doc, registry);
    if (helper !== undefined) {
      const found = await credentialHelper.get(helper, authKey(registry));
      if (found !== undefined) return found;
    }
    for (const [key, entry] of Object.entries(doc.auths ?? {})) {
      if (!sameRegistry(key, registry)) continue;
      if (typeof entry.auth === 'string' && entry.auth !== '') {
        const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
        const colon = decoded.indexOf(':');
        if (colon < 0) {
          throw new ChrunError(
            'CHRUN_INVALID_ARGUMENT',
            `read ${this.file}: invalid auth for ${key}`,
          );
        }
        return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
      }
      if (typeof entry.username === 'string' && typeof entry.password === 'string') {
        return { username: entry.username, password: entry.password };
      }
    }
    return undefined;
  }

  /**
   * Stores credentials for a registry (docker login). With a credential helper configured
   * for it, the secret goes to the helper and `auths` gets docker's empty entry; never the
   * plaintext next to a credsStore setup.
   */
  async set(registry: string, creds: Credentials): Promise<void> {
    const doc = await this.read();
    const helper = DockerConfig.helperFor(doc, registry);
    if (helper !== undefined) await credentialHelper.store(helper, authKey(registry), creds);
    const auths = Object.fromEntries(
      Object.entries(doc.auths ?? {}).filter(([k]) => !sameRegistry(k, registry)),
    );
    auths[authKey(registry)] =
      helper !== undefined
        ? {}
        : { auth: Buffer.from(`${creds.username}:${creds.password}`).toString('base64') };
    doc.auths = auths;
    await this.write(doc);
  }

  /**
   * Forgets the credentials of a registry (docker logout), in its helper too; false when
   * there were none.
   */
  async remove(registry: string): Promise<boolean> {
    const doc = await this.read();
    const helper = DockerConfig.helperFor(doc, registry);
    const erased =
      helper !== undefined ? await credentialHelper.erase(helper, authKey(registry)) : false;
    const all = Object.entries(doc.auths ?? {});
    const kept = all.filter(([k]) => !sameRegistry(k, registry));
    if (kept.length === all.length) return erased;
    doc.auths = Object.fromEntries(kept);
    await this.write(doc);
    return true;
  }

  /**
   * Replaces the file atomically where it really is: a symlinked config.json (dotfile
   * managers) keeps its link and the target is rewritten, not the link replaced by a file.
   * Mode 0600; the owner of a file that was there stays its owner.
   */
  private async write(doc: ConfigFile): Promise<void> {
    const target = await followLinks(this.file);
    const before = await stat(target).catch(() => undefined);
    await mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
    await writeFileAtomic(target, `${JSON.stringify(doc, null, '\t')}\n`, { mode: 0o600 });
    if (
      before !== undefined &&
      (before.uid !== process.getuid?.() || before.gid !== process.getgid?.())
    ) {
      await chown(target, before.uid, before.gid);
    }
  }
}

/** The path a chain of symlinks ends at, whether or not that file exists yet. */
async function followLinks(file: string): Promise<string> {
  let current = file;
  for (let hops = 0; hops < 40; hops++) {
    let link: string;
    try {
      link = await readlink(current);
    } catch (err) {
      // EINVAL: not a symlink; ENOENT: nothing there yet (a dangling link's end).
      if (errnoCode(err) === 'EINVAL' || errnoCode(err) === 'ENOENT') return current;
      throw new ChrunError('CHRUN_INVALID_ARGUMENT', `write ${file}: ${reasonOf(err)}`, {
        cause: err,
      });
    }
    current = path.resolve(path.dirname(current), link);
  }
  throw new ChrunError(
    'CHRUN_INVALID_ARGUMENT',
    `write ${file}: too many levels of symbolic links`,
  );
}
