import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface RegistryOptions {
  /** Basic auth through an htpasswd file (bcrypt, `htpasswd -B`). Anonymous access is refused. */
  auth?: { username: string; password: string };
  /** How long to wait for `/v2/` to answer (ms, default 15000). */
  startTimeoutMs?: number;
}

export interface SeedOptions {
  /** Manifest type to push (skopeo `--format`): `oci` or `v2s2`; default: the source's. */
  format?: 'oci' | 'v2s2';
  /** Push without credentials even when the registry has auth (to see it refused). */
  anonymous?: boolean;
}

/** A registry process this helper started; see startRegistry(). */
export interface Registry {
  /** `127.0.0.1:PORT`, as it goes in a reference: `${reg.host}/busybox:1`. */
  readonly host: string;
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** The registry's process id. */
  readonly pid: number;
  readonly auth: RegistryOptions['auth'];
  /** The temp directory holding the config, htpasswd and storage (removed by stop()). */
  readonly dir: string;
  /**
   * Pushes `source` (any skopeo transport reference: `oci:DIR:TAG`, `docker-archive:FILE`)
   * to `repo:tag` with skopeo, as an independent peer. Returns the manifest digest.
   */
  seed(source: string, target: string, opts?: SeedOptions): Promise<string>;
  /** The manifest (or index) of `repo:tag` or `repo@digest` as stored, through skopeo. */
  manifest(ref: string): Promise<Buffer>;
  /** The tags of `repo`, through skopeo. */
  tags(repo: string): Promise<string[]>;
  /** Copies `repo:tag` out to any skopeo destination (`oci:DIR:TAG`), through skopeo. */
  fetch(ref: string, dest: string): Promise<void>;
  /** Kills the registry, waits for it to exit and removes its directory. Idempotent. */
  stop(): Promise<void>;
}

/** Registries still running, killed if the test process exits without stopping them. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => {
        if (addr !== null && typeof addr === 'object') resolve(addr.port);
        else reject(new Error('free port: no address'));
      });
    });
  });
}

/** GET url; resolves the status code, or undefined when nothing answers. */
function status(url: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(undefined));
  });
}

/**
 * The environment for the registry and skopeo: no inherited REGISTRY_* variables (the registry
 * reads them as configuration) and, for skopeo only, a private empty auth file so credentials
 * of the host never mix in.
 */
function toolEnv(dir: string, tool: 'registry' | 'skopeo'): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('REGISTRY_') && k !== 'NODE_EXTRA_CA_CERTS') env[k] = v;
  }
  if (tool === 'skopeo') env.REGISTRY_AUTH_FILE = path.join(dir, 'auth.json');
  return env;
}

function config(dir: string, port: number, htpasswd: string | undefined): object {
  return {
    version: 0.1,
    log: { level: 'warn', accesslog: { disabled: true } },
    storage: {
      filesystem: { rootdirectory: path.join(dir, 'storage') },
      delete: { enabled: true },
      maintenance: { uploadpurging: { enabled: false } },
    },
    http: { addr: `127.0.0.1:${port}`, secret: randomBytes(16).toString('hex') },
    ...(htpasswd === undefined
      ? {}
      : { auth: { htpasswd: { realm: 'chrun-test', path: htpasswd } } }),
  };
}

interface Started {
  child: ChildProcess;
  exited: Promise<void>;
  log: () => string;
}

/** Starts docker-registry with `configFile`; resolves once /v2/ answers (200 or 401). */
async function launch(
  dir: string,
  configFile: string,
  url: string,
  timeoutMs: number,
): Promise<Started> {
  const child = spawn('docker-registry', ['serve', configFile], {
    env: toolEnv(dir, 'registry'),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  live.add(child);
  const lines: string[] = [];
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    lines.push(...d.split('\n').filter(Boolean));
    lines.splice(0, Math.max(0, lines.length - 20));
  });
  let gone: string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('error', (err) => {
      gone = err.message;
      live.delete(child);
      resolve();
    });
    child.once('exit', (code, signal) => {
      gone = `exited with ${signal ?? `code ${code}`}`;
      live.delete(child);
      resolve();
    });
  });
  const log = (): string => lines.join('\n');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (gone !== undefined) throw new Error(`start docker-registry: ${gone}\n${log()}`);
    const code = await status(`${url}/v2/`);
    if (code === 200 || code === 401) return { child, exited, log };
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      await exited;
      throw new Error(
        `start docker-registry: /v2/ did not answer within ${timeoutMs} ms\n${log()}`,
      );
    }
    await sleep(25);
  }
}

/**
 * Starts Debian's docker-registry (distribution v2) on a free loopback port with its own
 * temp storage, optionally behind htpasswd basic auth, and waits until `/v2/` answers.
 *
 *   const reg = await startRegistry({ auth: { username: 'u', password: 'p' } });
 *   const digest = await reg.seed('oci:/tmp/layout:1', 'busybox:1');
 *   ...
 *   await reg.stop();
 */
export async function startRegistry(opts: RegistryOptions = {}): Promise<Registry> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chrun-registry-'));
  try {
    let htpasswd: string | undefined;
    if (opts.auth) {
      htpasswd = path.join(dir, 'htpasswd');
      const { stdout } = await run('htpasswd', ['-nbB', opts.auth.username, opts.auth.password]);
      await writeFile(htpasswd, stdout.trim() + '\n', { mode: 0o600 });
    }
    await mkdir(path.join(dir, 'storage'));
    await writeFile(path.join(dir, 'auth.json'), '{}\n', { mode: 0o600 });
    // The port is free when asked and taken by the registry a moment later; another
    // process can win it in between, so a failed start is retried on a new port.
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const configFile = path.join(dir, 'config.yml');
      await writeFile(configFile, JSON.stringify(config(dir, port, htpasswd), null, 2));
      const url = `http://127.0.0.1:${port}`;
      try {
        const started = await launch(dir, configFile, url, opts.startTimeoutMs ?? 15_000);
        return handle(dir, `127.0.0.1:${port}`, url, opts.auth, started);
      } catch (err) {
        if (attempt >= 3 || !/address already in use/.test(String(err))) throw err;
      }
    }
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

function handle(
  dir: string,
  host: string,
  url: string,
  auth: RegistryOptions['auth'],
  { child, exited, log }: Started,
): Registry {
  const env = toolEnv(dir, 'skopeo');
  const creds = auth ? `${auth.username}:${auth.password}` : undefined;
  // skopeo's last stderr line says why it failed ("... 401 Unauthorized"); the registry's
  // own log is added when the registry is what went wrong.
  const skopeo = async (args: string[]): Promise<Buffer> => {
    try {
      const res = await run('skopeo', ['--insecure-policy', ...args], {
        env,
        encoding: 'buffer',
        maxBuffer: 64 << 20,
      });
      return res.stdout;
    } catch (err) {
      const e = err as { stderr?: Buffer; message: string };
      const why = (e.stderr?.toString() ?? e.message).trim().split('\n').at(-1) ?? 'failed';
      const registryLog = child.exitCode === null ? '' : `\nregistry: ${log()}`;
      throw new Error(`skopeo ${args[0]!}: ${why}${registryLog}`, { cause: err });
    }
  };
  const read = (flag: string): string[] =>
    creds ? [`--${flag}tls-verify=false`, `--${flag}creds`, creds] : [`--${flag}tls-verify=false`];
  let stopping: Promise<void> | undefined;
  return {
    host,
    url,
    pid: child.pid!,
    auth,
    dir,
    async seed(source, target, seedOpts = {}) {
      const digestFile = path.join(dir, `digest-${randomBytes(4).toString('hex')}`);
      const dest = seedOpts.anonymous
        ? ['--dest-tls-verify=false', '--dest-no-creds']
        : read('dest-');
      await skopeo([
        'copy',
        '--quiet',
        ...(seedOpts.format ? ['--format', seedOpts.format] : []),
        '--digestfile',
        digestFile,
        ...dest,
        source,
        `docker://${host}/${target}`,
      ]);
      const digest = (await readFile(digestFile, 'utf8')).trim();
      await rm(digestFile, { force: true });
      return digest;
    },
    async manifest(ref) {
      return skopeo(['inspect', '--raw', ...read(''), `docker://${host}/${ref}`]);
    },
    async tags(repo) {
      const out = await skopeo(['list-tags', ...read(''), `docker://${host}/${repo}`]);
      return ((JSON.parse(out.toString()) as { Tags: string[] | null }).Tags ?? []).sort();
    },
    async fetch(ref, dest) {
      await skopeo(['copy', '--quiet', ...read('src-'), `docker://${host}/${ref}`, dest]);
    },
    stop() {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
          await exited;
          clearTimeout(timer);
        }
        await rm(dir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}
