/**
 * The one error class chrun throws. Every failure carries a stable `code` that callers
 * (and the CLI) can switch on, structured fields for the details, and an ES2022 `cause`.
 * Messages are lowercase "verb object: cause"; only the CLI turns them into text for users.
 */
export type ErrorCode =
  | 'CHRUN_INVALID_ARGUMENT'
  | 'CHRUN_INVALID_REFERENCE'
  | 'CHRUN_IMAGE_NOT_FOUND'
  | 'CHRUN_IMAGE_IN_USE'
  | 'CHRUN_MANIFEST_INVALID'
  | 'CHRUN_MANIFEST_UNSUPPORTED'
  | 'CHRUN_PLATFORM_NOT_FOUND'
  | 'CHRUN_DIGEST_MISMATCH'
  | 'CHRUN_SIZE_MISMATCH'
  | 'CHRUN_REGISTRY_ERROR'
  | 'CHRUN_REGISTRY_UNAUTHORIZED'
  | 'CHRUN_NETWORK_ERROR'
  | 'CHRUN_ARCHIVE_INVALID'
  | 'CHRUN_LAYER_UNSAFE'
  | 'CHRUN_LAYER_INVALID'
  | 'CHRUN_CONTAINER_NOT_FOUND'
  | 'CHRUN_CONTAINER_EXISTS'
  | 'CHRUN_STATE_TRANSITION'
  | 'CHRUN_MOUNT_FAILED'
  | 'CHRUN_CGROUP_FAILED'
  | 'CHRUN_HELPER_FAILED'
  | 'CHRUN_HELPER_MISSING'
  | 'CHRUN_EXEC_NOT_FOUND'
  | 'CHRUN_EXEC_PERMISSION'
  | 'CHRUN_RLIMIT_EXCEEDS_HARD'
  | 'CHRUN_LOCKED'
  | 'CHRUN_NO_SPACE'
  | 'CHRUN_NOT_ROOT'
  | 'CHRUN_UNSUPPORTED'
  | 'CHRUN_INTERNAL';

/** Structured details; every field is optional and printed only by debug output. */
export interface ErrorFields {
  path?: string;
  op?: string;
  digest?: string;
  errno?: number;
  syscall?: string;
  reference?: string;
  [key: string]: unknown;
}

export interface ChrunErrorOptions {
  cause?: unknown;
  fields?: ErrorFields;
}

export class ChrunError extends Error {
  override readonly name = 'ChrunError';
  readonly code: ErrorCode;
  readonly fields: ErrorFields;

  constructor(code: ErrorCode, message: string, options: ChrunErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.fields = options.fields ?? {};
  }
}

/** True when `err` is a ChrunError, optionally with the given code. */
export function isChrunError(err: unknown, code?: ErrorCode): err is ChrunError {
  return err instanceof ChrunError && (code === undefined || err.code === code);
}

/** The errno string of a Node system error ('ENOENT', ...), or undefined. */
export function errnoCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = err.code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

/**
 * The short reason of any thrown value, lowercase, without Node's "ENOENT: " prefix noise:
 * for a system error only the kernel's words ("no such file or directory"). For messages
 * that already name what failed ("mount proc on /proc: <reason>"); describeError() keeps
 * the call and the path for those that do not.
 */
export function reasonOf(err: unknown): string {
  if (err instanceof ChrunError) return err.message;
  if (err instanceof Error) {
    const { code, syscall } = err as NodeJS.ErrnoException;
    if (typeof code === 'string' && typeof syscall === 'string') return describeErrno(code);
    return err.message;
  }
  return String(err);
}

/**
 * Any thrown value as one lowercase line that says what failed: a Node system error as
 * Go and the kernel tools print it, "<syscall> <path>: <kernel text>" ("mkdir
 * /x/content/blobs/sha256: not a directory", "rename /a /b: ...", "connect 127.0.0.1:5000:
 * connection refused"); anything else as reasonOf().
 */
export function describeError(err: unknown): string {
  if (err instanceof ChrunError || !(err instanceof Error)) return reasonOf(err);
  const e = err as NodeJS.ErrnoException & { dest?: unknown; address?: unknown; port?: unknown };
  if (typeof e.code !== 'string' || typeof e.syscall !== 'string') return err.message;
  const objects: string[] = [];
  // spawn's syscall already names the program ("spawn docker-credential-x").
  if (typeof e.path === 'string' && !e.syscall.endsWith(` ${e.path}`)) objects.push(e.path);
  if (typeof e.dest === 'string') objects.push(e.dest);
  if (typeof e.address === 'string') {
    objects.push(typeof e.port === 'number' ? `${e.address}:${e.port}` : e.address);
  }
  return `${[e.syscall, ...objects].join(' ')}: ${describeErrno(e.code)}`;
}

const ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EEXIST: 'file exists',
  ENOTDIR: 'not a directory',
  EISDIR: 'is a directory',
  ENOTEMPTY: 'directory not empty',
  EBUSY: 'device or resource busy',
  EINVAL: 'invalid argument',
  ENOSPC: 'no space left on device',
  EROFS: 'read-only file system',
  ELOOP: 'too many levels of symbolic links',
  EXDEV: 'invalid cross-device link',
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by peer',
  ETIMEDOUT: 'connection timed out',
  ENOTFOUND: 'no such host',
  EAGAIN: 'resource temporarily unavailable',
  ENOEXEC: 'exec format error',
  E2BIG: 'argument list too long',
  ENOMEM: 'cannot allocate memory',
  ESRCH: 'no such process',
  EPIPE: 'broken pipe',
};

/** The kernel's wording for an errno name, as strerror(3) would print it (lowercase). */
export function describeErrno(code: string): string {
  return ERRNO_TEXT[code] ?? code.toLowerCase();
}
