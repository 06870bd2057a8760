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

/** Asks a question on the terminal; `hidden` reads without echo (passwords). */
export function prompt(question: string, hidden = false): Promise<string> {
  return new Promise((resolve, reject) => {
    const input = process.stdin;
    process.stderr.write(question);
    let answer = '';
    const done = (err?: Error): void => {
      input.off('data', onData);
      if (input.isTTY) input.setRawMode(false);
      input.pause();
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(answer);
    };
    const onData = (buf: Buffer): void => {
      for (const ch of buf.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003' || ch === '\u0004')
          return done(new InvalidArgumentError('login: cancelled'));
        if (ch === '\u007f' || ch === '\b') {
          if (answer.length > 0 && !hidden) process.stderr.write('\b \b');
          answer = answer.slice(0, -1);
        } else {
          answer += ch;
          if (!hidden) process.stderr.write(ch);
        }
      }
    };
    if (input.isTTY) input.setRawMode(true);
    input.resume();
    input.on('data', onData);
  });
}
