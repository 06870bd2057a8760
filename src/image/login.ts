import { DockerConfig, RegistryClient, type Credentials } from '../registry/index.js';
import { ChrunError } from '../util/index.js';

export interface LoginOptions {
  authFile?: string;
  tlsVerify?: boolean;
}

/** The registry host of a login argument: "https://host:5000/v2/" -> "host:5000"; none: Docker Hub. */
export function loginServer(server: string | undefined): string {
  if (server === undefined || server === '') return 'docker.io';
  let s = server.trim().replace(/^https?:\/\//, '');
  s = s.split('/')[0] ?? s;
  if (s === '' || /\s/.test(s)) {
    throw new ChrunError('CHRUN_INVALID_ARGUMENT', `invalid registry "${server}"`);
  }
  if (s === 'index.docker.io' || s === 'registry-1.docker.io') return 'docker.io';
  return s;
}

/**
 * `login`: checks the credentials against the registry (a token, or an authenticated
 * /v2/), then stores them in docker's config.json with mode 0600.
 */
export async function login(
  server: string | undefined,
  creds: Credentials,
  options: LoginOptions = {},
): Promise<string> {
  const host = loginServer(server);
  if (creds.username === '')
    throw new ChrunError('CHRUN_INVALID_ARGUMENT', 'login: a username is required');
  if (creds.password === '')
    throw new ChrunError('CHRUN_INVALID_ARGUMENT', 'login: a password is required');
  const client = new RegistryClient(host, {
    tlsVerify: options.tlsVerify ?? true,
    credentials: creds,
  });
  try {
    await client.checkCredentials();
  } finally {
    await client.close();
  }
  await new DockerConfig(options.authFile).set(host, creds);
  return host;
}

/** `logout`: removes the stored credentials; false when there were none. */
export async function logout(
  server: string | undefined,
  options: LoginOptions = {},
): Promise<{ host: string; removed: boolean }> {
  const host = loginServer(server);
  return { host, removed: await new DockerConfig(options.authFile).remove(host) };
}
