import { InvalidArgumentError } from 'commander';

/** `--tls-verify`, `--tls-verify=false`: a boolean option with an optional value. */
export function parseBool(value: string | undefined): boolean {
  if (value === undefined || value === '' || value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new InvalidArgumentError(`"${value}" is not true or false`);
}

/** A positive byte count: "5242880", "5MB", "512k", "1MiB". */
export function parseBytes(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)(i?)b?$/i.exec(value.trim());
  if (m === null) throw new InvalidArgumentError(`"${value}" is not a size`);
  const base = m[3] !== '' ? 1024 : 1000;
  const power = { '': 0, k: 1, m: 2, g: 3 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  const n = Math.floor(Number(m[1]) * base ** power);
  if (n <= 0) throw new InvalidArgumentError(`"${value}" is not a positive size`);
  return n;
}

/** Reads all of standard input (for --password-stdin and import -). */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
