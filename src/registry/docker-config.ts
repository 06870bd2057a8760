import { spawn } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ChrunError, errnoCode, reasonOf, writeFileAtomic } from '../util/index.js';

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

  /** The credentials for a registry host, or undefined for anonymous access. */
  async get(registry: string): Promise<Credentials | undefined> {
    const doc = await this.read();
    const helper =
      doc.credHelpers?.[authKey(registry)] ?? doc.credHelpers?.[registry] ?? doc.credsStore;
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
    if (helper !== undefined && helper !== '') return runHelper(helper, authKey(registry));
    return undefined;
  }

  /** Stores credentials for a registry (docker login). */
  async set(registry: string, creds: Credentials): Promise<void> {
    const doc = await this.read();
    const auths = Object.fromEntries(
      Object.entries(doc.auths ?? {}).filter(([k]) => !sameRegistry(k, registry)),
    );
    auths[authKey(registry)] = {
      auth: Buffer.from(`${creds.username}:${creds.password}`).toString('base64'),
    };
    doc.auths = auths;
    await this.write(doc);
  }

  /** Forgets the credentials of a registry (docker logout); false when there were none. */
  async remove(registry: string): Promise<boolean> {
    const doc = await this.read();
    const all = Object.entries(doc.auths ?? {});
    const kept = all.filter(([k]) => !sameRegistry(k, registry));
    if (kept.length === all.length) return false;
    doc.auths = Object.fromEntries(kept);
    await this.write(doc);
    return true;
  }

  private async write(doc: ConfigFile): Promise<void> {
    await mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.file, `${JSON.stringify(doc, null, '\t')}\n`, { mode: 0o600 });
  }
}

/** Asks a docker-credential-NAME helper for a registry's credentials (its "get" verb). */
function runHelper(name: string, serverUrl: string): Promise<Credentials | undefined> {
  return new Promise((resolve, reject) => {
    const child = spawn(`docker-credential-${name}`, ['get'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', (err) =>
      reject(
        new ChrunError(
          'CHRUN_REGISTRY_UNAUTHORIZED',
          `credential helper docker-credential-${name}: ${reasonOf(err)}`,
          { cause: err },
        ),
      ),
    );
    child.on('close', (code) => {
      if (code !== 0) {
        // Helpers say "credentials not found in native keychain" and exit 1: anonymous.
        resolve(undefined);
        return;
      }
      try {
        const r = JSON.parse(out) as { Username?: string; Secret?: string };
        resolve(
          r.Secret === undefined ? undefined : { username: r.Username ?? '', password: r.Secret },
        );
      } catch (err) {
        reject(
          new ChrunError(
            'CHRUN_REGISTRY_UNAUTHORIZED',
            `credential helper docker-credential-${name}: bad output`,
            { cause: err },
          ),
        );
      }
    });
    child.stdin.end(serverUrl);
  });
}
