import { createRequire } from 'node:module';
import v8 from 'node:v8';
import type { Readable } from 'node:stream';
import type { Agent, Dispatcher } from 'undici';

/** The two pieces of undici the client uses. */
export interface UndiciLite {
  Agent: typeof Agent;
  request: (
    dispatcher: Dispatcher,
    url: URL,
    options: {
      method: Dispatcher.HttpMethod;
      headers: Record<string, string>;
      body?: Buffer | Readable | null;
      signal?: AbortSignal | null;
    },
  ) => Promise<Dispatcher.ResponseData>;
}

let cached: UndiciLite | undefined;

/**
 * undici's Agent and request() without the rest of undici. `import('undici')` loads fetch,
 * WebSocket, the caches and mocks too, ~150 ms on a loaded machine; these two modules are
 * ~35 ms, paid only by commands that talk to a registry. undici ships no exports map, so
 * the deep paths are reachable; should a release move them, the whole package is used.
 */
export function loadUndici(): UndiciLite {
  if (cached !== undefined) return cached;
  const require = createRequire(import.meta.url);
  cached = load(require);
  // undici parses HTTP with llhttp compiled to WebAssembly. V8 recompiles it with TurboFan
  // on a background thread, and Node waits for that job before exiting: 120-200 ms added
  // to every pull on this 2-core machine. Liftoff code is fast enough for HTTP headers
  // (bodies are only counted), so stay with it. Set before undici compiles its module (at
  // its first connection), after its modules are loaded: V8 rejects code caches made under
  // other flags, Node's own for its built-in modules too, and those undici loads were then
  // compiled from source. bin/chrun sets the flag back before writing its code cache.
  v8.setFlagsFromString('--liftoff-only');
  return cached;
}

function load(require: NodeJS.Require): UndiciLite {
  try {
    const AgentClass = require('undici/lib/dispatcher/agent.js') as typeof Agent;
    const apiRequest = require('undici/lib/api/api-request.js') as (
      this: Dispatcher,
      opts: Dispatcher.RequestOptions,
    ) => Promise<Dispatcher.ResponseData>;
    if (typeof AgentClass !== 'function' || typeof apiRequest !== 'function')
      throw new Error('layout');
    return {
      Agent: AgentClass,
      request: (dispatcher, url, o) =>
        apiRequest.call(dispatcher, {
          origin: url.origin,
          path: `${url.pathname}${url.search}`,
          method: o.method,
          headers: o.headers,
          body: o.body ?? null,
          signal: o.signal ?? null,
        }),
    };
  } catch {
    const full = require('undici') as typeof import('undici');
    return {
      Agent: full.Agent,
      request: (dispatcher, url, o) =>
        full.request(url, {
          method: o.method,
          headers: o.headers,
          body: o.body ?? null,
          signal: o.signal ?? null,
          dispatcher,
        }),
    };
  }
}
