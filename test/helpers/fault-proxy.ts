import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the proxy saw. */
export interface SeenRequest {
  method: string;
  url: string;
  range: string | undefined;
  authorization: string | undefined;
  status?: number;
}

export interface FaultOptions {
  /** Cut the connection after this many body bytes of a blob GET, for the first N such GETs. */
  dropBlobAfter?: { bytes: number; times: number };
  /** Answer blob GETs with a 307 to this "storage" server on another origin. */
  redirectBlobs?: boolean;
  /** Flip one byte in the body of blob GETs. */
  corruptBlobs?: boolean;
  /** Replace the body of manifest GETs (the registry's digest header is kept unless dropped). */
  replaceManifest?: (body: Buffer, url: string) => Buffer | undefined;
  /** Leave out the Docker-Content-Digest header of replaced manifests. */
  dropDigestHeader?: boolean;
  /** Answer the first N requests for a path matching this with 503. */
  fail503?: { match: RegExp; times: number };
  /** Send this many bytes of each blob response, then nothing more until the client leaves. */
  stallBlobsAfter?: number;
  /** Send blob bodies at most this many bytes per 50 ms (to make a pull last). */
  throttleBlobs?: number;
}

/**
 * A fault-injecting HTTP proxy in front of a test registry: it drops connections in the
 * middle of blob downloads, redirects blobs to a second server on another origin (which
 * records any Authorization header it is sent), corrupts blobs, rewrites manifests, and
 * records every request, so the tests can check resumes, retries and what was sent where.
 */
export class FaultProxy {
  readonly seen: SeenRequest[] = [];
  /** Authorization headers the storage server received (must stay empty). */
  readonly storageAuthorizations: (string | undefined)[] = [];
  options: FaultOptions;
  private server!: http.Server;
  private storage!: http.Server;
  private port = 0;
  private storagePort = 0;
  private dropped = 0;
  private failed = 0;
  private readonly sockets = new Set<import('node:net').Socket>();

  private constructor(
    private readonly upstream: string,
    options: FaultOptions,
    private readonly upstreamAuth: string | undefined,
  ) {
    this.options = options;
  }

  /** `upstream` is "127.0.0.1:PORT"; `auth` the registry's credentials, for the storage server. */
  static async start(
    upstream: string,
    options: FaultOptions = {},
    auth?: { username: string; password: string },
  ): Promise<FaultProxy> {
    const p = new FaultProxy(
      upstream,
      options,
      auth === undefined
        ? undefined
        : `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`,
    );
    p.server = http.createServer((req, res) => p.handle(req, res));
    p.storage = http.createServer((req, res) => p.serveStorage(req, res));
    for (const s of [p.server, p.storage]) {
      s.on('connection', (sock) => {
        p.sockets.add(sock);
        sock.on('close', () => p.sockets.delete(sock));
      });
    }
    p.port = await listen(p.server, '127.0.0.1');
    // 127.0.0.2 is loopback too, and another origin for the client.
    p.storagePort = await listen(p.storage, '127.0.0.2');
    return p;
  }

  /** The registry host through the proxy: "127.0.0.1:PORT". */
  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  blobGets(): SeenRequest[] {
    return this.seen.filter((r) => r.method === 'GET' && /\/blobs\/sha256:/.test(r.url));
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await Promise.all([close(this.server), close(this.storage)]);
  }

  private forward(
    req: http.IncomingMessage,
    path: string,
    headers: http.OutgoingHttpHeaders,
  ): Promise<http.IncomingMessage> {
    const [hostname, port] = this.upstream.split(':');
    return new Promise((resolve, reject) => {
      const up = http.request(
        {
          hostname,
          port: Number(port),
          method: req.method,
          path,
          // The client's Host stays: the registry builds upload Locations from it.
          headers: { host: this.upstream, ...headers },
        },
        resolve,
      );
      up.on('error', reject);
      req.pipe(up);
    });
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const entry: SeenRequest = {
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      range: req.headers.range,
      authorization: req.headers.authorization,
    };
    this.seen.push(entry);
    const o = this.options;
    const isBlobGet = entry.method === 'GET' && /\/blobs\/sha256:/.test(entry.url);
    const isManifestGet = entry.method === 'GET' && /\/manifests\//.test(entry.url);
    if (
      o.fail503 !== undefined &&
      o.fail503.match.test(entry.url) &&
      this.failed < o.fail503.times
    ) {
      this.failed++;
      entry.status = 503;
      res.writeHead(503).end();
      req.resume();
      return;
    }
    if (isBlobGet && o.redirectBlobs === true) {
      entry.status = 307;
      res
        .writeHead(307, { location: `http://127.0.0.2:${this.storagePort}/storage${entry.url}` })
        .end();
      req.resume();
      return;
    }
    void this.forward(req, entry.url, req.headers).then(
      async (up) => {
        entry.status = up.statusCode;
        if (isManifestGet && o.replaceManifest !== undefined && up.statusCode === 200) {
          const body = await collect(up);
          const replaced = o.replaceManifest(body, entry.url) ?? body;
          const headers: http.OutgoingHttpHeaders = {
            ...up.headers,
            'content-length': String(replaced.length),
          };
          if (o.dropDigestHeader === true) delete headers['docker-content-digest'];
          res.writeHead(200, headers).end(replaced);
          return;
        }
        res.writeHead(up.statusCode ?? 502, up.headers);
        if (!isBlobGet || (up.statusCode !== 200 && up.statusCode !== 206)) {
          up.pipe(res);
          return;
        }
        await this.sendBlob(up, res);
      },
      () => {
        entry.status = 502;
        res.writeHead(502).end();
      },
    );
  }

  private async sendBlob(up: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const o = this.options;
    const drop =
      o.dropBlobAfter !== undefined && this.dropped < o.dropBlobAfter.times
        ? o.dropBlobAfter.bytes
        : Infinity;
    let sent = 0;
    let corrupted = false;
    for await (const c of up) {
      let chunk = c as Buffer;
      if (o.corruptBlobs === true && !corrupted && chunk.length > 0) {
        chunk = Buffer.from(chunk);
        chunk[0] = chunk[0]! ^ 0xff;
        corrupted = true;
      }
      const stall = o.stallBlobsAfter ?? Infinity;
      if (sent + chunk.length > stall) {
        res.write(chunk.subarray(0, stall - sent));
        up.destroy();
        // Hold the connection open, sending nothing, until the client goes away.
        if (!res.destroyed) await new Promise((r) => res.once('close', r));
        return;
      }
      if (sent + chunk.length > drop) {
        this.dropped++;
        res.write(chunk.subarray(0, drop - sent));
        // Let the bytes leave, then cut the connection without ending the response.
        await new Promise((r) => setTimeout(r, 20));
        res.socket?.destroy();
        up.destroy();
        return;
      }
      const step = o.throttleBlobs;
      if (step !== undefined) {
        for (let i = 0; i < chunk.length; i += step) {
          res.write(chunk.subarray(i, i + step));
          await new Promise((r) => setTimeout(r, 50));
          if (res.destroyed) {
            up.destroy();
            return;
          }
        }
      } else if (!res.write(chunk)) {
        await new Promise((r) => res.once('drain', r));
      }
      sent += chunk.length;
    }
    res.end();
  }

  /** The other-origin blob store: records the Authorization it gets, fetches with its own. */
  private serveStorage(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.storageAuthorizations.push(req.headers.authorization);
    const path = (req.url ?? '').replace(/^\/storage/, '');
    const headers: http.OutgoingHttpHeaders = {};
    if (req.headers.range !== undefined) headers.range = req.headers.range;
    if (this.upstreamAuth !== undefined) headers.authorization = this.upstreamAuth;
    void this.forward(req, path, headers).then(
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
      () => res.writeHead(502).end(),
    );
  }
}

function listen(server: http.Server, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve((server.address() as AddressInfo).port));
  });
}

function close(server: http.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

async function collect(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  return Buffer.concat(parts);
}
