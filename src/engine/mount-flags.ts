import path from 'node:path';
import type { Mount } from '../oci/index.js';
import { ChrunError } from '../util/index.js';

/** A `-v` bind mount: the OCI mount and the host directory to create when it is missing. */
export interface VolumeMount {
  mount: Mount;
  hostPath: string;
}

const PROPAGATION = new Set(['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave']);

function invalid(spec: string, why: string): ChrunError {
  return new ChrunError(
    'CHRUN_INVALID_ARGUMENT',
    `invalid volume specification: '${spec}': ${why}`,
  );
}

function containerPath(spec: string, dest: string, flag: string): string {
  if (!path.posix.isAbsolute(dest)) {
    throw flag === '-v'
      ? invalid(spec, `the container path '${dest}' must be absolute`)
      : new ChrunError(
          'CHRUN_INVALID_ARGUMENT',
          `invalid --tmpfs '${spec}': the path must be absolute`,
        );
  }
  const clean = path.posix.normalize(dest);
  if (clean === '/') {
    throw new ChrunError(
      'CHRUN_INVALID_ARGUMENT',
      `invalid ${flag} '${spec}': destination can't be '/'`,
    );
  }
  return clean.length > 1 ? clean.replace(/\/$/, '') : clean;
}

/**
 * `-v /host:/container[:opts]` as docker reads it: a bind mount (recursive, rprivate unless a
 * propagation option says otherwise), `ro` or `rw`. Named and anonymous volumes are not
 * supported yet and are refused with the reason.
 */
export function parseVolume(spec: string): VolumeMount {
  const parts = spec.split(':');
  if (parts.length > 3) throw invalid(spec, 'too many colons');
  if (parts.length === 1 || parts[0] === '') {
    throw invalid(
      spec,
      'anonymous volumes are not supported yet (give /host/path:/container/path)',
    );
  }
  const [source, dest, modes] = parts as [string, string | undefined, string | undefined];
  if (dest === undefined || dest === '') throw invalid(spec, 'no container path');
  if (!path.isAbsolute(source)) {
    throw invalid(
      spec,
      `named volumes are not supported yet: '${source}' is not an absolute host path`,
    );
  }
  const destination = containerPath(spec, dest, '-v');
  const options = ['rbind'];
  let propagation = 'rprivate';
  let ro = false;
  for (const m of (modes ?? '').split(',').filter((x) => x !== '')) {
    if (m === 'ro') ro = true;
    else if (m === 'rw') ro = false;
    else if (PROPAGATION.has(m)) propagation = m;
    else if (m === 'z' || m === 'Z')
      throw invalid(spec, 'SELinux relabeling (z, Z) is not supported');
    else throw invalid(spec, `invalid mode: ${m}`);
  }
  if (ro) options.push('ro');
  options.push(propagation);
  const hostPath = path.resolve(source);
  return {
    mount: { destination, type: 'bind', source: hostPath, options },
    hostPath,
  };
}

/** `--tmpfs /path[:options]`: docker's defaults (noexec, nosuid, nodev), then the options. */
export function parseTmpfs(spec: string): Mount {
  const colon = spec.indexOf(':');
  const dest = colon < 0 ? spec : spec.slice(0, colon);
  const extra =
    colon < 0
      ? []
      : spec
          .slice(colon + 1)
          .split(',')
          .filter((o) => o !== '');
  for (const o of extra) {
    if (!/^[a-z_]+(=[\w.,:+-]*)?$/.test(o)) {
      throw new ChrunError(
        'CHRUN_INVALID_ARGUMENT',
        `invalid --tmpfs '${spec}': bad option '${o}'`,
      );
    }
  }
  return {
    destination: containerPath(spec, dest, '--tmpfs'),
    type: 'tmpfs',
    source: 'tmpfs',
    options: ['noexec', 'nosuid', 'nodev', ...extra],
  };
}
