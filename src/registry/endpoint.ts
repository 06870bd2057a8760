import net from 'node:net';

/** Docker Hub's API host: references say docker.io, the registry is registry-1.docker.io. */
export const DOCKER_HUB_REGISTRY = 'registry-1.docker.io';

export interface Endpoint {
  /** The base URL, without /v2/: "https://registry-1.docker.io". */
  base: string;
  /** Whether certificates are verified on this endpoint. */
  tlsVerify: boolean;
}

/** The host name of "host:port" / "[v6]:port", without brackets and port. */
export function hostName(domain: string): string {
  if (domain.startsWith('[')) return domain.slice(1, domain.indexOf(']'));
  const colon = domain.lastIndexOf(':');
  return colon < 0 ? domain : domain.slice(0, colon);
}

/** localhost, 127.0.0.0/8 and ::1: registries Docker reaches over plain HTTP by itself. */
export function isLoopbackRegistry(domain: string): boolean {
  const host = hostName(domain).toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (net.isIPv4(host)) return host.startsWith('127.');
  if (net.isIPv6(host)) return host === '::1' || host === '0:0:0:0:0:0:0:1';
  return false;
}

/**
 * The endpoints to try for a registry, in order. Secure registries get HTTPS with
 * verification only; loopback registries and those with tlsVerify=false get HTTPS without
 * verification first, then plain HTTP (as Docker treats insecure registries).
 */
export function registryEndpoints(domain: string, tlsVerify = true): Endpoint[] {
  const host = domain === 'docker.io' ? DOCKER_HUB_REGISTRY : domain;
  if (tlsVerify && !isLoopbackRegistry(domain))
    return [{ base: `https://${host}`, tlsVerify: true }];
  return [
    { base: `https://${host}`, tlsVerify: false },
    { base: `http://${host}`, tlsVerify: false },
  ];
}
