import { Option, type Command } from 'commander';
import { parseBool } from './options.js';

/** What --tls-verify and --authfile parse into. */
export interface RegistryFlags {
  tlsVerify?: boolean;
  authfile?: string;
}

/**
 * The registry flags of pull, push, login and logout, defined once: `--authfile` always,
 * `--tls-verify [bool]` unless `tls` is false (logout talks to no registry).
 */
export function addRegistryOptions(cmd: Command, options: { tls?: boolean } = {}): Command {
  if (options.tls !== false) {
    cmd.addOption(
      new Option(
        '--tls-verify [bool]',
        'verify TLS certificates (loopback registries may use plain HTTP)',
      )
        .argParser(parseBool)
        .default(true),
    );
  }
  return cmd.option('--authfile <file>', 'credentials file (default: ~/.docker/config.json)');
}

/** The library's registry access options from the flags. */
export function registryAccess(flags: RegistryFlags): { tlsVerify?: boolean; authFile?: string } {
  return {
    ...(flags.tlsVerify === undefined ? {} : { tlsVerify: flags.tlsVerify }),
    ...(flags.authfile === undefined ? {} : { authFile: flags.authfile }),
  };
}
