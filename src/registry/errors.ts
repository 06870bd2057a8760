import { ChrunError, type ErrorCode } from '../util/index.js';

interface RegistryErrorBody {
  errors?: { code?: string; message?: string; detail?: unknown }[];
}

/** "manifest unknown: ..." from a distribution error body, or the HTTP status text. */
export function describeRegistryError(status: number, body: string): string {
  try {
    const doc = JSON.parse(body) as RegistryErrorBody;
    const first = doc.errors?.[0];
    if (first !== undefined) {
      const code = (first.code ?? '').toLowerCase().replace(/_/g, ' ');
      const message = (first.message ?? '').toLowerCase();
      if (message !== '' && code !== '' && message !== code) return `${code}: ${message}`;
      return message !== '' ? message : code;
    }
  } catch {
    // not JSON
  }
  return STATUS_TEXT[status] ?? `http status ${status}`;
}

const STATUS_TEXT: Record<number, string> = {
  400: 'bad request',
  401: 'unauthorized: authentication required',
  403: 'denied: access forbidden',
  404: 'not found',
  405: 'operation not supported by the registry',
  413: 'request too large',
  416: 'requested range not satisfiable',
  429: 'too many requests',
  500: 'internal server error',
  502: 'bad gateway',
  503: 'service unavailable',
  504: 'gateway timeout',
};

/** The error code for an HTTP failure status. */
export function codeForStatus(status: number): ErrorCode {
  if (status === 401 || status === 403) return 'CHRUN_REGISTRY_UNAUTHORIZED';
  if (status === 404) return 'CHRUN_IMAGE_NOT_FOUND';
  return 'CHRUN_REGISTRY_ERROR';
}

/** A ChrunError for a failed registry call: "<what>: <registry's reason>". */
export function registryError(what: string, status: number, body: string): ChrunError {
  return new ChrunError(codeForStatus(status), `${what}: ${describeRegistryError(status, body)}`, {
    fields: { status },
  });
}

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
  'UND_ERR_ABORTED',
  'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
]);

/** The errno-like code of a network failure anywhere in a cause chain, if any. */
export function networkErrorCode(err: unknown): string | undefined {
  let cur: unknown = err;
  for (let depth = 0; depth < 5 && typeof cur === 'object' && cur !== null; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (
      typeof code === 'string' &&
      (NETWORK_CODES.has(code) || code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS'))
    )
      return code;
    if (cur instanceof Error && /other side closed|premature close|aborted/i.test(cur.message))
      return 'ECONNRESET';
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

const NETWORK_TEXT: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_HEADERS_TIMEOUT: 'no response (timed out)',
  UND_ERR_BODY_TIMEOUT: 'transfer stalled (timed out)',
  UND_ERR_SOCKET: 'connection closed',
  ENOTFOUND: 'no such host',
  EAI_AGAIN: 'name resolution failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
};

/** Short text for a network failure code. */
export function describeNetworkError(code: string): string {
  if (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS'))
    return `tls error (${code.toLowerCase()})`;
  return NETWORK_TEXT[code] ?? code.toLowerCase();
}
