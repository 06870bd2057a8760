import { ChrunError } from '../../util/index.js';

/** What `--security-opt` asked for. */
export interface SecurityOpts {
  /** "default", "unconfined", or the path of a profile in docker's format. */
  seccomp: { kind: 'default' } | { kind: 'unconfined' } | { kind: 'file'; path: string };
  /** no-new-privileges[=true|false]; undefined when not given. */
  noNewPrivileges?: boolean;
}

/**
 * Parses `--security-opt` values as docker does: KEY=VALUE (or the legacy KEY:VALUE),
 * seccomp=unconfined|PROFILE.json, no-new-privileges[=true|false]. AppArmor and SELinux
 * labels are refused: chrun applies neither.
 */
export function parseSecurityOpts(values: readonly string[]): SecurityOpts {
  const out: SecurityOpts = { seccomp: { kind: 'default' } };
  for (const raw of values) {
    if (raw === 'no-new-privileges') {
      out.noNewPrivileges = true;
      continue;
    }
    const sep = /[=:]/.exec(raw);
    if (sep === null)
      throw new ChrunError('CHRUN_INVALID_ARGUMENT', `invalid --security-opt: "${raw}"`);
    const key = raw.slice(0, sep.index);
    const value = raw.slice(sep.index + 1);
    switch (key) {
      case 'seccomp':
        if (value === '')
          throw new ChrunError(
            'CHRUN_INVALID_ARGUMENT',
            `invalid --security-opt: "${raw}": no profile`,
          );
        out.seccomp =
          value === 'unconfined' ? { kind: 'unconfined' } : { kind: 'file', path: value };
        break;
      case 'no-new-privileges':
        if (value !== 'true' && value !== 'false') {
          throw new ChrunError(
            'CHRUN_INVALID_ARGUMENT',
            `invalid --security-opt: "${raw}": want no-new-privileges=true|false`,
          );
        }
        out.noNewPrivileges = value === 'true';
        break;
      case 'apparmor':
      case 'label':
        throw new ChrunError(
          'CHRUN_UNSUPPORTED',
          `--security-opt ${key}: chrun does not apply ${key === 'label' ? 'SELinux labels' : 'AppArmor profiles'}`,
        );
      default:
        throw new ChrunError('CHRUN_INVALID_ARGUMENT', `invalid --security-opt: "${raw}"`);
    }
  }
  return out;
}
