import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Agent, Dispatcher } from 'undici';
import {
  MANIFEST_ACCEPT,
  digestAlgorithm,
  isDigest,
  type Descriptor,
  type Digest,
} from '../oci/index.js';
import { ChrunError, isChrunError } from '../util/index.js';
import { Authorizer, pullScope, pushScope } from './auth.js';
import type { Credentials } from './docker-config.js';
import { registryEndpoints, type Endpoint } from './endpoint.js';
import { describeNetworkError, networkErrorCode, registryError } from './errors.js';
import { loadUndici } from './undici-lite.js';

/** Manifests larger than this are refused (containerd's limit). */
export const MAX_MANIFEST_BYTES = 4 << 20;

export interface RegistryClientOptions {
  /** Verify TLS certificates (default true; loopback registries are always allowed plain HTTP). */
  tlsVerify?: boolean;
  /** Credentials, or a function that finds them (e.g. in docker's config.json). */
  credentials?: Credentials | (() => Promise<Credentials | undefined>);
  /** Attempts after a network failure or a 429/5xx answer (default 5). */
  retries?: number;
  /** Backoff base in ms, doubled per attempt (default 200). */
  retryDelayMs?: number;
  /** Give up on a transfer that sends nothing for this long (default 60 s). */
  bodyTimeoutMs?: number;
  userAgent?: string;
}

/** Where a downloaded blob goes: the content store's IngestWriter fits this. */
export interface BlobSink {
  /** Bytes already written (a resume starts here). */
  readonly offset: number;
  /**
   * Takes a chunk. A sink that buffers returns nothing, or a promise when the caller must
   * wait (back-pressure); either way a rejection or throw ends the download.
   */
  write(chunk: Uint8Array): Promise<void> | void;
  /** Discard everything written so far (the server cannot resume). */
  reset(): Promise<void>;
}

export interface FetchedManifest {
  bytes: Buffer;
  /** The Content-Type the registry sent. */
  mediaType: string;
  /** The digest computed over the bytes (verified against the reference and header). */
  digest: Digest;
}

export interface PushBlobOptions {
  /** Upload in PATCH chunks of this many bytes; 0 or undefined: one monolithic PUT. */
  chunkSize?: number;
  onProgress?: (sent: number) => void;
  signal?: AbortSignal;
}

type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

interface SendOptions {
  method: Method;
  url: URL;
  headers?: Record<string, string>;
  body?: Buffer | Readable;
  scopes: string[];
  /** Follow 3xx redirects (blob downloads may be sent to storage on another host). */
  follow?: boolean;
  /** Retry on network failures and 429/5xx (only for bodies that can be sent again). */
  retry?: boolean;
  signal?: AbortSignal;
  /** For messages: "fetch manifest localhost:5000/app:1". */
  what: string;
}

const RETRY_STATUS = new Set([408, 429, 500, 502, 503, 504]);
const REDIRECT_STATUS = new Set([301, 302, 303, 307, 308]);

async function dump(res: Dispatcher.ResponseData): Promise<void> {
  await res.body.dump().catch(() => undefined);
}

async function readText(res: Dispatcher.ResponseData, limit = 1 << 20): Promise<string> {
  return (await readLimited(res, limit)).toString('utf8');
}

async function readLimited(res: Dispatcher.ResponseData, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > limit) {
      res.body.destroy();
      throw new ChrunError('CHRUN_REGISTRY_ERROR', `response larger than ${limit} bytes`);
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

/**
 * Feeds a response body into a sink with 'data' events, pausing while the sink flushes: an
 * async iterator costs a promise per 64 KiB chunk, a tenth of the CPU of a pull.
 */
function pump(body: Dispatcher.ResponseData['body'], sink: BlobSink): Promise<void> {
  return new Promise((resolve, reject) => {
    let failed = false;
    const fail = (err: unknown): void => {
      if (failed) return;
      failed = true;
      body.off('data', onData);
      reject(err instanceof Error ? err : new Error(String(err)));
    };
    const onData = (chunk: Buffer): void => {
      let pending: Promise<void> | void;
      try {
        pending = sink.write(chunk);
      } catch (err) {
        fail(err);
        return;
      }
      if (pending !== undefined) {
        body.pause();
        pending.then(() => body.resume(), fail);
      }
    };
    body.on('data', onData);
    body.once('error', fail);
    body.once('end', () => {
      if (!failed) resolve();
    });
  });
}

function header(res: Dispatcher.ResponseData, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * A client of one registry (distribution spec v2): ping and authentication, manifests,
 * blob downloads with resume, pushes. Requests retry on dropped connections and 429/5xx
 * with exponential backoff; redirects are followed without sending the registry's
 * Authorization to another host.
 */
export class RegistryClient {
  private endpoint: Endpoint | undefined;
  private pinging: Promise<void> | undefined;
  private readonly authorizer: Authorizer;
  private readonly agents = new Map<boolean, Agent>();
  private readonly retries: number;
  private readonly retryDelayMs: number;
  private readonly userAgent: string;

  constructor(
    /** The registry as references name it: "docker.io", "localhost:5000". */
    readonly domain: string,
    private readonly options: RegistryClientOptions = {},
  ) {
    this.retries = options.retries ?? 5;
    this.retryDelayMs = options.retryDelayMs ?? 200;
    this.userAgent = options.userAgent ?? 'chrun';
    const creds = options.credentials;
    this.authorizer = new Authorizer(
      domain,
      typeof creds === 'function' ? creds : () => Promise.resolve(creds),
      (url, headers) => this.fetchToken(url, headers),
    );
  }

  /** Closes the connections. */
  async close(): Promise<void> {
    const agents = [...this.agents.values()];
    this.agents.clear();
    await Promise.all(agents.map((a) => a.close().catch(() => undefined)));
  }

  private agent(tlsVerify: boolean): Agent {
    let a = this.agents.get(tlsVerify);
    if (a === undefined) {
      const { Agent } = loadUndici();
      a = new Agent({
        // Without verification no CA is consulted: an empty list spares loading Node's
        // ~140 root certificates into each TLS context (~30 ms of CPU on a loopback pull,
        // which tries HTTPS first).
        connect: tlsVerify ? { rejectUnauthorized: true } : { rejectUnauthorized: false, ca: [] },
        bodyTimeout: this.options.bodyTimeoutMs ?? 60_000,
        headersTimeout: 60_000,
        connections: 8,
      });
      this.agents.set(tlsVerify, a);
    }
    return a;
  }

  /** The base URL chosen by the ping ("https://registry-1.docker.io"). */
  async baseUrl(): Promise<string> {
    await this.ping();
    return this.endpoint!.base;
  }

  /** Pings /v2/ once: picks HTTPS or HTTP and learns how to authenticate. */
  ping(): Promise<void> {
    this.pinging ??= this.doPing().catch((err: unknown) => {
      this.pinging = undefined;
      throw err;
    });
    return this.pinging;
  }

  private async doPing(): Promise<void> {
    const { request } = loadUndici();
    let lastError: unknown;
    for (const ep of registryEndpoints(this.domain, this.options.tlsVerify ?? true)) {
      for (let attempt = 0; ; attempt++) {
        try {
          const res = await request(this.agent(ep.tlsVerify), new URL(`${ep.base}/v2/`), {
            method: 'GET',
            headers: { 'user-agent': this.userAgent },
          });
          await dump(res);
          if (res.statusCode === 401) this.authorizer.setChallenge(res.headers['www-authenticate']);
          else if (res.statusCode === 404) {
            throw new ChrunError(
              'CHRUN_REGISTRY_ERROR',
              `registry ${this.domain}: ${ep.base} does not serve the v2 API`,
            );
          } else if (RETRY_STATUS.has(res.statusCode) && attempt < this.retries) {
            await this.backoff(attempt);
            continue;
          }
          this.endpoint = ep;
          return;
        } catch (err) {
          if (isChrunError(err)) throw err;
          lastError = err;
          const code = networkErrorCode(err);
          const transient =
            code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'ETIMEDOUT';
          if (transient && attempt < 2) {
            await this.backoff(attempt);
            continue;
          }
          break;
        }
      }
    }
    throw this.unreachable(lastError);
  }

  private unreachable(err: unknown): ChrunError {
    const code = networkErrorCode(err);
    const raw = (err as { code?: unknown }).code;
    const errCode = typeof raw === 'string' ? raw : '';
    const why = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(errCode)
      ? `certificate not trusted (${errCode.toLowerCase()}); use --tls-verify=false for a registry without a valid certificate`
      : code !== undefined
        ? describeNetworkError(code)
        : (err as Error).message;
    return new ChrunError(
      'CHRUN_NETWORK_ERROR',
      `registry ${this.domain} is not reachable: ${why}`,
      {
        cause: err,
      },
    );
  }

  private async backoff(attempt: number, signal?: AbortSignal): Promise<void> {
    const delay = this.retryDelayMs * 2 ** attempt * (0.75 + Math.random() * 0.5);
    await sleep(Math.min(delay, 10_000), undefined, { signal });
  }

  private async fetchToken(
    url: URL,
    headers: Record<string, string>,
  ): Promise<{ status: number; body: string }> {
    const { request } = loadUndici();
    // The token server is another host: verify its certificate unless told not to.
    const verify = url.protocol === 'https:' && (this.options.tlsVerify ?? true);
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await request(this.agent(verify), url, {
          method: 'GET',
          headers: { ...headers, 'user-agent': this.userAgent },
        });
        if (RETRY_STATUS.has(res.statusCode) && attempt < this.retries) {
          await dump(res);
          await this.backoff(attempt);
          continue;
        }
        return { status: res.statusCode, body: await readText(res) };
      } catch (err) {
        if (networkErrorCode(err) !== undefined && attempt < this.retries) {
          await this.backoff(attempt);
          continue;
        }
        throw new ChrunError(
          'CHRUN_NETWORK_ERROR',
          `authenticate to ${this.domain}: token server ${url.host} is not reachable: ${describeNetworkError(networkErrorCode(err) ?? 'error')}`,
          { cause: err },
        );
      }
    }
  }

  /** One request with authentication, retries and (optionally) redirects. */
  private async send(o: SendOptions): Promise<Dispatcher.ResponseData> {
    await this.ping();
    let scopes = o.scopes;
    let authRetried = false;
    const retry = o.retry ?? !(o.body !== undefined && !Buffer.isBuffer(o.body));
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { 'user-agent': this.userAgent, ...o.headers };
      const auth = await this.authorizer.authorization(scopes);
      if (auth !== undefined) headers.authorization = auth;
      let res: Dispatcher.ResponseData;
      try {
        res = await this.request(o.method, o.url, headers, o.body, o.follow ?? false, o.signal);
      } catch (err) {
        if (isChrunError(err) || o.signal?.aborted === true) throw err;
        const code = networkErrorCode(err);
        if (code !== undefined && retry && attempt < this.retries) {
          await this.backoff(attempt, o.signal);
          continue;
        }
        throw new ChrunError(
          'CHRUN_NETWORK_ERROR',
          `${o.what}: ${code !== undefined ? describeNetworkError(code) : (err as Error).message}`,
          { cause: err },
        );
      }
      if (res.statusCode === 401 && !authRetried && retry) {
        const www = res.headers['www-authenticate'];
        await dump(res);
        authRetried = true;
        if (this.authorizer.setChallenge(www)) {
          this.authorizer.invalidate(scopes);
          scopes = [...new Set([...scopes, ...Authorizer.challengeScopes(www)])];
          attempt--;
          continue;
        }
        throw new ChrunError('CHRUN_REGISTRY_UNAUTHORIZED', `${o.what}: unauthorized`);
      }
      if (RETRY_STATUS.has(res.statusCode) && retry && attempt < this.retries) {
        await dump(res);
        await this.backoff(attempt, o.signal);
        continue;
      }
      return res;
    }
  }

  /** undici request, following redirects by hand to control the Authorization header. */
  private async request(
    method: Method,
    url: URL,
    headers: Record<string, string>,
    body: Buffer | Readable | undefined,
    follow: boolean,
    signal: AbortSignal | undefined,
  ): Promise<Dispatcher.ResponseData> {
    const { request } = loadUndici();
    const origin = url.origin;
    let current = url;
    let currentMethod = method;
    let currentHeaders = headers;
    for (let hops = 0; ; hops++) {
      const sameOrigin = current.origin === origin;
      const agent = this.agent(
        sameOrigin ? (this.endpoint?.tlsVerify ?? true) : current.protocol === 'https:',
      );
      const res = await request(agent, current, {
        method: currentMethod,
        headers: currentHeaders,
        body: body ?? null,
        signal: signal ?? null,
      });
      const location = header(res, 'location');
      if (!follow || !REDIRECT_STATUS.has(res.statusCode) || location === undefined) return res;
      await dump(res);
      if (hops >= 10) {
        throw new ChrunError('CHRUN_REGISTRY_ERROR', `too many redirects from ${url.href}`);
      }
      const next = new URL(location, current);
      if (next.origin !== origin && 'authorization' in currentHeaders) {
        // Never hand the registry's credentials to another host (blob storage, a CDN).
        const { authorization: _, ...rest } = currentHeaders;
        currentHeaders = rest;
      }
      if (res.statusCode === 303) currentMethod = 'GET';
      current = next;
    }
  }

  private url(path: string): URL {
    return new URL(`${this.endpoint!.base}/v2/${path}`);
  }

  /** Fetches a manifest or index by tag or digest, verifying its digest. */
  async getManifest(
    repo: string,
    reference: string,
    accept: readonly string[] = MANIFEST_ACCEPT,
  ): Promise<FetchedManifest> {
    await this.ping();
    const name = `${this.domain}/${repo}${isDigest(reference) ? '@' : ':'}${reference}`;
    const what = `fetch manifest ${name}`;
    const res = await this.send({
      method: 'GET',
      url: this.url(`${repo}/manifests/${reference}`),
      headers: { accept: accept.join(', ') },
      scopes: [pullScope(repo)],
      what,
    });
    if (res.statusCode !== 200)
      throw registryError(what, res.statusCode, await readText(res).catch(() => ''));
    let bytes: Buffer;
    try {
      bytes = await readLimited(res, MAX_MANIFEST_BYTES);
    } catch (err) {
      throw new ChrunError('CHRUN_MANIFEST_INVALID', `${what}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    const algorithm = isDigest(reference) ? digestAlgorithm(reference) : 'sha256';
    const digest: Digest = `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
    if (isDigest(reference) && digest !== reference) {
      throw new ChrunError(
        'CHRUN_DIGEST_MISMATCH',
        `${what}: the registry sent content with digest ${digest}`,
        {
          fields: { digest: reference, actual: digest },
        },
      );
    }
    const claimed = header(res, 'docker-content-digest');
    if (
      claimed !== undefined &&
      isDigest(claimed) &&
      digestAlgorithm(claimed) === algorithm &&
      claimed !== digest
    ) {
      throw new ChrunError(
        'CHRUN_DIGEST_MISMATCH',
        `${what}: content has digest ${digest}, the registry says ${claimed}`,
        {
          fields: { digest: claimed, actual: digest },
        },
      );
    }
    const mediaType = (header(res, 'content-type') ?? '').split(';')[0]!.trim();
    return { bytes, mediaType, digest };
  }

  /**
   * Downloads a blob into `sink`, resuming with an HTTP Range request after a dropped
   * connection (and from `sink.offset` when an earlier process left part of it). The sink
   * verifies size and digest; the client only moves bytes.
   */
  async fetchBlob(
    repo: string,
    desc: Pick<Descriptor, 'digest' | 'size'>,
    sink: BlobSink,
    signal?: AbortSignal,
  ): Promise<void> {
    await this.ping();
    const what = `fetch blob ${desc.digest} from ${this.domain}/${repo}`;
    let failures = 0;
    for (let round = 0; ; round++) {
      const start = sink.offset;
      if (start >= desc.size && desc.size > 0) return;
      const headers: Record<string, string> = start > 0 ? { range: `bytes=${start}-` } : {};
      const res = await this.send({
        method: 'GET',
        url: this.url(`${repo}/blobs/${desc.digest}`),
        headers,
        scopes: [pullScope(repo)],
        follow: true,
        signal,
        what,
      });
      if (res.statusCode === 200) {
        if (start > 0) await sink.reset();
      } else if (res.statusCode === 206) {
        const range = /^bytes (\d+)-/.exec(header(res, 'content-range') ?? '');
        if (range === null || Number(range[1]) !== start) {
          await dump(res);
          await sink.reset();
          continue;
        }
      } else if (res.statusCode === 416 && start > 0) {
        await dump(res);
        await sink.reset();
        continue;
      } else {
        throw registryError(what, res.statusCode, await readText(res).catch(() => ''));
      }
      const before = sink.offset;
      try {
        await pump(res.body, sink);
        return;
      } catch (err) {
        res.body.destroy();
        if (isChrunError(err) || signal?.aborted === true) throw err;
        const code = networkErrorCode(err) ?? 'ECONNRESET';
        // Progress resets the count: a flaky link that keeps delivering still finishes.
        failures = sink.offset > before ? 0 : failures + 1;
        if (failures > this.retries || round > 1000) {
          throw new ChrunError('CHRUN_NETWORK_ERROR', `${what}: ${describeNetworkError(code)}`, {
            cause: err,
          });
        }
        await this.backoff(Math.min(failures, 3), signal);
      }
    }
  }

  /** True when the repository already has the blob. */
  async hasBlob(repo: string, digest: Digest, scopes = [pushScope(repo)]): Promise<boolean> {
    await this.ping();
    const what = `check blob ${digest} in ${this.domain}/${repo}`;
    const res = await this.send({
      method: 'HEAD',
      url: this.url(`${repo}/blobs/${digest}`),
      scopes,
      what,
    });
    await dump(res);
    if (res.statusCode === 200) return true;
    if (res.statusCode === 404) return false;
    throw registryError(what, res.statusCode, '');
  }

  /**
   * Asks the registry to mount a blob from another repository it holds (no upload).
   * True when mounted; false when the registry declined (the caller uploads instead).
   */
  async mountBlob(repo: string, digest: Digest, from: string): Promise<boolean> {
    await this.ping();
    const what = `mount blob ${digest} from ${from} into ${this.domain}/${repo}`;
    const url = this.url(`${repo}/blobs/uploads/`);
    url.searchParams.set('mount', digest);
    url.searchParams.set('from', from);
    const res = await this.send({
      method: 'POST',
      url,
      headers: { 'content-length': '0' },
      scopes: [pushScope(repo), pullScope(from)],
      what,
    });
    await dump(res);
    if (res.statusCode === 201) return true;
    if (res.statusCode === 202) {
      // An upload was started instead: cancel it.
      const location = header(res, 'location');
      if (location !== undefined) {
        const cancel = await this.send({
          method: 'DELETE',
          url: new URL(location, url),
          scopes: [pushScope(repo)],
          what,
        }).catch(() => undefined);
        if (cancel !== undefined) await dump(cancel);
      }
      return false;
    }
    if (res.statusCode === 401 || res.statusCode === 403 || res.statusCode === 404) return false;
    throw registryError(what, res.statusCode, '');
  }

  private async startUpload(repo: string, what: string): Promise<URL> {
    await this.ping();
    const url = this.url(`${repo}/blobs/uploads/`);
    const res = await this.send({
      method: 'POST',
      url,
      headers: { 'content-length': '0' },
      scopes: [pushScope(repo)],
      what,
    });
    const location = header(res, 'location');
    if (res.statusCode !== 202 || location === undefined) {
      throw registryError(
        `${what}: start upload`,
        res.statusCode,
        await readText(res).catch(() => ''),
      );
    }
    await dump(res);
    return new URL(location, url);
  }

  /**
   * Uploads a blob: one PUT (monolithic) or PATCH chunks then a closing PUT (chunked).
   * `open(start, end)` gives the bytes [start, end) as a fresh stream, so a failed upload
   * can be retried and a chunked one continued from where the registry says it is.
   */
  async pushBlob(
    repo: string,
    desc: Pick<Descriptor, 'digest' | 'size'>,
    open: (start: number, end: number) => Readable,
    options: PushBlobOptions = {},
  ): Promise<void> {
    const what = `push blob ${desc.digest} to ${this.domain}/${repo}`;
    const chunk = options.chunkSize ?? 0;
    for (let attempt = 0; ; attempt++) {
      try {
        let location = await this.startUpload(repo, what);
        if (chunk > 0)
          location = await this.uploadChunks(repo, desc, open, location, chunk, what, options);
        const put = new URL(location);
        put.searchParams.set('digest', desc.digest);
        const monolithic = chunk <= 0;
        const res = await this.send({
          method: 'PUT',
          url: put,
          headers: {
            'content-type': 'application/octet-stream',
            'content-length': String(monolithic ? desc.size : 0),
          },
          ...(monolithic ? { body: open(0, desc.size) } : {}),
          retry: false,
          scopes: [pushScope(repo)],
          signal: options.signal,
          what,
        });
        const text = await readText(res).catch(() => '');
        if (res.statusCode !== 201) throw registryError(what, res.statusCode, text);
        options.onProgress?.(desc.size);
        return;
      } catch (err) {
        const retryable =
          networkErrorCode(err) !== undefined ||
          (isChrunError(err, 'CHRUN_REGISTRY_ERROR') &&
            RETRY_STATUS.has(Number(err.fields.status)));
        if (!retryable || attempt >= this.retries || options.signal?.aborted === true) throw err;
        await this.backoff(attempt, options.signal);
      }
    }
  }

  private async uploadChunks(
    repo: string,
    desc: Pick<Descriptor, 'digest' | 'size'>,
    open: (start: number, end: number) => Readable,
    location: URL,
    chunk: number,
    what: string,
    options: PushBlobOptions,
  ): Promise<URL> {
    let start = 0;
    let failures = 0;
    while (start < desc.size) {
      const end = Math.min(start + chunk, desc.size);
      let res: Dispatcher.ResponseData;
      try {
        res = await this.send({
          method: 'PATCH',
          url: location,
          headers: {
            'content-type': 'application/octet-stream',
            'content-length': String(end - start),
            'content-range': `${start}-${end - 1}`,
          },
          body: open(start, end),
          retry: false,
          scopes: [pushScope(repo)],
          signal: options.signal,
          what,
        });
      } catch (err) {
        if (networkErrorCode(err) === undefined || ++failures > this.retries) throw err;
        // Ask the registry how much it has, and continue from there.
        await this.backoff(failures, options.signal);
        const status = await this.send({
          method: 'GET',
          url: location,
          scopes: [pushScope(repo)],
          what,
        });
        await dump(status);
        const range = /^(?:bytes=)?0-(\d+)$/.exec(header(status, 'range') ?? '');
        if (status.statusCode !== 204 || range === null) throw err;
        start = Number(range[1]) + 1;
        const loc = header(status, 'location');
        if (loc !== undefined) location = new URL(loc, location);
        continue;
      }
      const text = await readText(res).catch(() => '');
      if (res.statusCode !== 202) throw registryError(what, res.statusCode, text);
      const loc = header(res, 'location');
      if (loc !== undefined) location = new URL(loc, location);
      start = end;
      failures = 0;
      options.onProgress?.(start);
    }
    return location;
  }

  /** Uploads a manifest under a tag or digest; returns the digest the registry reports. */
  async putManifest(
    repo: string,
    reference: string,
    bytes: Buffer,
    mediaType: string,
  ): Promise<Digest> {
    await this.ping();
    const what = `push manifest ${this.domain}/${repo}${isDigest(reference) ? '@' : ':'}${reference}`;
    const res = await this.send({
      method: 'PUT',
      url: this.url(`${repo}/manifests/${reference}`),
      headers: { 'content-type': mediaType },
      body: bytes,
      scopes: [pushScope(repo)],
      what,
    });
    const text = await readText(res).catch(() => '');
    if (res.statusCode !== 201 && res.statusCode !== 200)
      throw registryError(what, res.statusCode, text);
    const digest: Digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    const claimed = header(res, 'docker-content-digest');
    if (
      claimed !== undefined &&
      isDigest(claimed) &&
      digestAlgorithm(claimed) === 'sha256' &&
      claimed !== digest
    ) {
      throw new ChrunError(
        'CHRUN_DIGEST_MISMATCH',
        `${what}: the registry stored digest ${claimed}, expected ${digest}`,
      );
    }
    return digest;
  }

  /**
   * Checks that the credentials work (for login): a token without scope from a Bearer
   * realm, or an authenticated /v2/ for Basic. Resolves when they do.
   */
  async checkCredentials(): Promise<void> {
    await this.ping();
    const what = `log in to ${this.domain}`;
    if (this.authorizer.scheme === undefined) return;
    const res = await this.send({
      method: 'GET',
      url: this.url(''),
      scopes: [],
      what,
      retry: false,
    });
    await dump(res);
    if (res.statusCode === 401 || res.statusCode === 403) {
      throw new ChrunError(
        'CHRUN_REGISTRY_UNAUTHORIZED',
        `${what}: incorrect username or password`,
      );
    }
    if (res.statusCode !== 200) throw registryError(what, res.statusCode, '');
  }
}
