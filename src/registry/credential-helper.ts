import { spawn } from 'node:child_process';
import { ChrunError, reasonOf } from '../util/index.js';
import type { Credentials } from './docker-config.js';

/** What a docker-credential-NAME program answered. */
interface HelperReply {
  code: number;
  stdout: string;
}

/** The helpers' own word for "nothing stored for that server" (docker-credential-helpers). */
const NOT_FOUND = /credentials not found/i;

function helperError(name: string, verb: string, why: string, cause?: unknown): ChrunError {
  return new ChrunError(
    'CHRUN_REGISTRY_UNAUTHORIZED',
    `credential helper docker-credential-${name} ${verb}: ${why}`,
    cause === undefined ? {} : { cause },
  );
}

/** Runs `docker-credential-NAME VERB` with `input` on stdin (the helpers' protocol). */
function call(name: string, verb: string, input: string): Promise<HelperReply> {
  return new Promise((resolve, reject) => {
    const child = spawn(`docker-credential-${name}`, [verb], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err) => reject(helperError(name, verb, reasonOf(err), err)));
    child.on('close', (code) => {
      resolve({ code: code ?? 1, stdout: stdout.trim() || stderr.trim() });
    });
    // A helper that exits without reading its input must not crash us with EPIPE.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

/**
 * Docker's credential helpers (docker-credential-NAME get/store/erase, as `credsStore`
 * and `credHelpers` in config.json name them). Server keys are docker's: Docker Hub's
 * "https://index.docker.io/v1/", else the registry host.
 */
export const credentialHelper = {
  /** The stored credentials, or undefined when the helper has none for `server`. */
  async get(name: string, server: string): Promise<Credentials | undefined> {
    const r = await call(name, 'get', server);
    // Helpers say "credentials not found in native keychain" and exit 1: anonymous.
    if (r.code !== 0) return undefined;
    try {
      const doc = JSON.parse(r.stdout) as { Username?: string; Secret?: string };
      return doc.Secret === undefined
        ? undefined
        : { username: doc.Username ?? '', password: doc.Secret };
    } catch (err) {
      throw helperError(name, 'get', 'bad output', err);
    }
  },

  /** Stores credentials (docker login with a helper). */
  async store(name: string, server: string, creds: Credentials): Promise<void> {
    const input = JSON.stringify({
      ServerURL: server,
      Username: creds.username,
      Secret: creds.password,
    });
    const r = await call(name, 'store', input);
    if (r.code !== 0) {
      throw helperError(name, 'store', r.stdout.split('\n')[0] || `exit status ${r.code}`);
    }
  },

  /** Forgets a server's credentials; false when the helper had none. */
  async erase(name: string, server: string): Promise<boolean> {
    const r = await call(name, 'erase', server);
    if (r.code === 0) return true;
    if (NOT_FOUND.test(r.stdout)) return false;
    throw helperError(name, 'erase', r.stdout.split('\n')[0] || `exit status ${r.code}`);
  },
};
