import { ChrunError } from '../util/index.js';

/** Looks a variable up in the caller's environment (process.env by default). */
export type EnvLookup = (name: string) => string | undefined;

const processEnv: EnvLookup = (name) => process.env[name];

function badKey(why: string): ChrunError {
  return new ChrunError('CHRUN_INVALID_ARGUMENT', `poorly formatted environment: ${why}`);
}

/**
 * An env file as docker reads one (`--env-file`): a UTF-8 BOM dropped, leading white space
 * trimmed, blank lines and lines starting with '#' skipped; `NAME=value` taken literally (no
 * quotes, no trimming of the value); a bare `NAME` takes the caller's value, and is left out
 * when the caller has none.
 */
export function parseEnvFile(text: string, file: string, lookup: EnvLookup = processEnv): string[] {
  const out: string[] = [];
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  if (lines.at(-1) === '') lines.pop();
  lines.forEach((raw, i) => {
    if (raw.includes('\uFFFD')) {
      throw new ChrunError(
        'CHRUN_INVALID_ARGUMENT',
        `env file ${file} contains invalid utf8 bytes at line ${i + 1}`,
      );
    }
    const line = raw.replace(/\r$/, '').replace(/^\s+/, '');
    if (line === '' || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    const name = (eq < 0 ? line : line.slice(0, eq)).replace(/^[ \t]+/, '');
    if (/[ \t]/.test(name)) throw badKey(`variable '${name}' contains whitespaces`);
    if (name === '') throw badKey(`no variable name on line '${line}'`);
    if (eq >= 0) out.push(`${name}=${line.slice(eq + 1)}`);
    else {
      const value = lookup(name.trim());
      if (value !== undefined) out.push(`${name.trim()}=${value}`);
    }
  });
  return out;
}

/**
 * `-e NAME=value` as given; `-e NAME` takes the caller's value, or stays a bare NAME (which
 * unsets NAME in the container's environment) when the caller has none.
 */
export function parseEnvFlag(value: string, lookup: EnvLookup = processEnv): string {
  const eq = value.indexOf('=');
  const name = eq < 0 ? value : value.slice(0, eq);
  if (name === '') {
    throw new ChrunError('CHRUN_INVALID_ARGUMENT', `invalid environment variable: ${value}`);
  }
  if (eq >= 0) return value;
  const found = lookup(name);
  return found === undefined ? name : `${name}=${found}`;
}

/**
 * docker's ReplaceOrAppendEnvValues: each override replaces the variable of the same name
 * in place or is appended; a bare NAME removes it.
 */
export function mergeEnv(defaults: readonly string[], overrides: readonly string[]): string[] {
  const out: (string | undefined)[] = [...defaults];
  const index = new Map<string, number>();
  out.forEach((e, i) => {
    const eq = e!.indexOf('=');
    index.set(eq < 0 ? e! : e!.slice(0, eq), i);
  });
  for (const v of overrides) {
    const eq = v.indexOf('=');
    const name = eq < 0 ? v : v.slice(0, eq);
    const at = index.get(name);
    if (eq < 0) {
      if (at !== undefined) out[at] = undefined;
      continue;
    }
    if (at !== undefined) out[at] = v;
    else {
      index.set(name, out.length);
      out.push(v);
    }
  }
  return out.filter((e): e is string => e !== undefined);
}
