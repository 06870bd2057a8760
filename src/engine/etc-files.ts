import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { NetworkMode } from './run-options.js';

const DEFAULT_HOSTS = [
  '127.0.0.1\tlocalhost',
  '::1\tlocalhost ip6-localhost ip6-loopback',
  'fe00::0\tip6-localnet',
  'ff00::0\tip6-mcastprefix',
  'ff02::1\tip6-allnodes',
  'ff02::2\tip6-allrouters',
  '',
].join('\n');

function readOr(file: string, fallback: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}

/** resolv.conf without nameservers on the host's loopback, which a container cannot reach. */
export function containerResolvConf(host: string): string {
  return host
    .split('\n')
    .filter((l) => !/^\s*nameserver\s+(127\.|::1\s*$|::1$)/.test(l))
    .join('\n');
}

/**
 * The container's /etc/hostname, /etc/hosts and /etc/resolv.conf, as docker writes them, in
 * `dir` (bind-mounted into the container): the host's hosts and resolv.conf with --network
 * host; otherwise docker's default hosts and the host's resolv.conf without loopback
 * nameservers.
 */
export function writeEtcFiles(
  dir: string,
  hostname: string,
  network: NetworkMode,
): { hostname: string; hosts: string; resolvConf: string } {
  const files = {
    hostname: path.join(dir, 'hostname'),
    hosts: path.join(dir, 'hosts'),
    resolvConf: path.join(dir, 'resolv.conf'),
  };
  const resolv = readOr('/etc/resolv.conf', '');
  writeFileSync(files.hostname, `${hostname}\n`);
  writeFileSync(
    files.hosts,
    network === 'host' ? readOr('/etc/hosts', DEFAULT_HOSTS) : DEFAULT_HOSTS,
  );
  writeFileSync(files.resolvConf, network === 'host' ? resolv : containerResolvConf(resolv));
  return files;
}
