import type { ContainerConfig } from '../oci/index.js';
import { ChrunError } from '../util/index.js';

function bad(change: string, why: string): ChrunError {
  return new ChrunError('CHRUN_INVALID_ARGUMENT', `invalid --change "${change}": ${why}`);
}

/** The JSON form `["a", "b"]`, or the shell form run by /bin/sh -c. */
function commandList(change: string, rest: string): string[] {
  if (rest.startsWith('[')) {
    let v: unknown;
    try {
      v = JSON.parse(rest);
    } catch {
      throw bad(change, 'not a valid JSON array');
    }
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))
      throw bad(change, 'want a JSON array of strings');
    return v as string[];
  }
  return ['/bin/sh', '-c', rest];
}

/** Splits `K=V K2="v 2"` into pairs, honouring double quotes and backslashes. */
function keyValues(change: string, rest: string): [string, string][] {
  const out: [string, string][] = [];
  const words: string[] = [];
  let cur = '';
  let quote: string | undefined;
  let started = false;
  for (let i = 0; i < rest.length; i++) {
    const ch = rest[i]!;
    if (ch === '\\' && i + 1 < rest.length) {
      cur += rest[++i]!;
      started = true;
    } else if (quote !== undefined) {
      if (ch === quote) quote = undefined;
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      started = true;
    } else if (/\s/.test(ch)) {
      if (started) words.push(cur);
      cur = '';
      started = false;
    } else {
      cur += ch;
      started = true;
    }
  }
  if (quote !== undefined) throw bad(change, 'unterminated quote');
  if (started) words.push(cur);
  for (const w of words) {
    const eq = w.indexOf('=');
    if (eq <= 0) throw bad(change, `"${w}" is not KEY=VALUE`);
    out.push([w.slice(0, eq), w.slice(eq + 1)]);
  }
  return out;
}

/**
 * Applies Dockerfile instructions given with `import --change` to an image config: CMD,
 * ENTRYPOINT, ENV, WORKDIR, USER, EXPOSE, LABEL, VOLUME, STOPSIGNAL. Others are refused.
 */
export function applyChanges(config: ContainerConfig, changes: readonly string[]): ContainerConfig {
  const out: ContainerConfig = { ...config };
  for (const change of changes) {
    const m = /^\s*([A-Za-z]+)\s+([\s\S]*?)\s*$/.exec(change);
    if (m === null || m[2] === '') throw bad(change, 'want INSTRUCTION ARGUMENTS, e.g. CMD ["sh"]');
    const instruction = m[1]!.toUpperCase();
    const rest = m[2]!;
    switch (instruction) {
      case 'CMD':
        out.Cmd = commandList(change, rest);
        break;
      case 'ENTRYPOINT':
        out.Entrypoint = commandList(change, rest);
        break;
      case 'ENV': {
        const pairs =
          /^[^\s=]+\s+[^=]*$/.test(rest) && !rest.includes('=')
            ? [
                [rest.split(/\s+/, 1)[0]!, rest.slice(rest.split(/\s+/, 1)[0]!.length).trim()] as [
                  string,
                  string,
                ],
              ]
            : keyValues(change, rest);
        const env = [...(out.Env ?? [])];
        for (const [k, v] of pairs) {
          const i = env.findIndex((e) => e.startsWith(`${k}=`));
          if (i >= 0) env[i] = `${k}=${v}`;
          else env.push(`${k}=${v}`);
        }
        out.Env = env;
        break;
      }
      case 'LABEL':
        out.Labels = { ...(out.Labels ?? {}), ...Object.fromEntries(keyValues(change, rest)) };
        break;
      case 'WORKDIR':
        if (!rest.startsWith('/')) throw bad(change, 'WORKDIR must be an absolute path');
        out.WorkingDir = rest;
        break;
      case 'USER':
        if (/\s/.test(rest)) throw bad(change, 'USER takes one user[:group]');
        out.User = rest;
        break;
      case 'EXPOSE': {
        const ports = { ...(out.ExposedPorts ?? {}) };
        for (const p of rest.split(/\s+/)) {
          const pm = /^(\d{1,5})(?:-(\d{1,5}))?(?:\/(tcp|udp|sctp))?$/i.exec(p);
          if (pm === null || Number(pm[1]) > 65535)
            throw bad(change, `"${p}" is not a port (80, 53/udp)`);
          ports[
            `${pm[1]!}${pm[2] === undefined ? '' : `-${pm[2]}`}/${(pm[3] ?? 'tcp').toLowerCase()}`
          ] = {};
        }
        out.ExposedPorts = ports;
        break;
      }
      case 'VOLUME': {
        const vols = { ...(out.Volumes ?? {}) };
        const list = rest.startsWith('[') ? commandList(change, rest) : rest.split(/\s+/);
        for (const v of list) vols[v] = {};
        out.Volumes = vols;
        break;
      }
      case 'STOPSIGNAL':
        out.StopSignal = rest;
        break;
      default:
        throw bad(
          change,
          `${instruction} is not supported (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR)`,
        );
    }
  }
  return out;
}
