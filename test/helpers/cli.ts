import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (tests run from dist/test/..., compiled). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const chrunBin = path.join(repoRoot, 'bin', 'chrun');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  root?: string;
  input?: string | Buffer;
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
}

/** Runs `bin/chrun ARGS` as a user would, with --root when given, and collects its output. */
export function runChrun(args: readonly string[], opts: CliOptions = {}): Promise<CliResult> {
  const argv = opts.root === undefined ? [...args] : ['--root', opts.root, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(chrunBin, argv, {
      env: { ...process.env, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: opts.timeoutMs ?? 120_000,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
      }),
    );
    child.stdin.end(opts.input);
  });
}
