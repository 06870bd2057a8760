import { spawn } from 'node:child_process';
import { ChrunError } from '../util/index.js';
import { findCommand } from './find-command.js';
import { drainOrClose } from './pipe-through.js';

export interface PipeProcessOptions {
  /** What the process does, for messages: 'decompress zstd'. */
  what: string;
  /** The Debian package that provides the command, named when it is missing. */
  pkg: string;
}

/**
 * Feeds `source` to the stdin of `command args` and yields its stdout: a filter such as
 * `zstd -d`. Fails with CHRUN_UNSUPPORTED naming the Debian package when the command is missing,
 * and with CHRUN_ARCHIVE_INVALID (its stderr as the cause) when it exits non-zero. An error of
 * the source wins over the process's. When the consumer stops early the process is killed.
 */
export async function* pipeProcess(
  source: AsyncIterable<Uint8Array>,
  command: string,
  args: readonly string[],
  opts: PipeProcessOptions,
): AsyncGenerator<Buffer, void, undefined> {
  const exe = findCommand(command);
  if (exe === undefined) {
    throw new ChrunError(
      'CHRUN_UNSUPPORTED',
      `${opts.what}: the ${command} command is not installed (Debian package ${opts.pkg})`,
    );
  }
  const child = spawn(exe, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const state: { spawnError?: Error; exited: boolean } = { exited: false };
  child.on('error', (err) => (state.spawnError = err));
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  void closed.then(() => (state.exited = true));
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    if (stderr.length < 4096) stderr += d.toString();
  });
  child.stdin.on('error', () => undefined); // EPIPE when the process stops reading early

  const src: { failed: boolean; error?: unknown } = { failed: false };
  const feed = async (): Promise<void> => {
    try {
      for await (const chunk of source) {
        if (child.stdin.destroyed) return;
        if (!child.stdin.write(chunk)) await drainOrClose(child.stdin);
      }
      child.stdin.end();
    } catch (err) {
      src.failed = true;
      src.error = err;
      child.kill('SIGKILL');
    }
  };
  void feed();
  let complete = false;
  try {
    for await (const out of child.stdout) yield out as Buffer;
    const { code, signal } = await closed;
    if (src.failed) throw src.error;
    if (state.spawnError !== undefined || code !== 0) {
      const last = stderr.trim().split('\n').pop() ?? '';
      const why =
        last !== '' ? last : (state.spawnError?.message ?? `exit status ${code ?? signal ?? '?'}`);
      throw new ChrunError('CHRUN_ARCHIVE_INVALID', `${opts.what}: ${why.toLowerCase()}`, {
        cause: state.spawnError,
        fields: { op: opts.what, exitCode: code, signal },
      });
    }
    complete = true;
  } finally {
    if (!complete && !state.exited) {
      child.stdin.destroy();
      child.kill('SIGKILL');
    }
  }
}
