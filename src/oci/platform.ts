import { ChrunError } from '../util/index.js';
import type { Descriptor, ImageIndex, Platform } from './image-types.js';

/** Node's process.arch names to OCI (GOARCH) names. */
const NODE_ARCH: Record<string, string> = {
  x64: 'amd64',
  ia32: '386',
  arm64: 'arm64',
  arm: 'arm',
  ppc64: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
  loong64: 'loong64',
  mips: 'mips',
  mipsel: 'mipsle',
};

/** containerd's normalizeArch: the canonical architecture and variant spelling. */
function normalizeArch(arch: string, variant: string): [string, string] {
  arch = arch.toLowerCase();
  variant = variant.toLowerCase();
  switch (arch) {
    case 'i386':
      return ['386', ''];
    case 'x86_64':
    case 'x86-64':
    case 'amd64':
      return ['amd64', variant === 'v1' ? '' : variant];
    case 'aarch64':
    case 'arm64':
      return ['arm64', variant === '8' || variant === 'v8' ? '' : variant];
    case 'armhf':
      return ['arm', 'v7'];
    case 'armel':
      return ['arm', 'v6'];
    case 'arm':
      if (variant === '' || variant === '7') return ['arm', 'v7'];
      if (variant === '5' || variant === '6' || variant === '8') return ['arm', `v${variant}`];
      return ['arm', variant];
    default:
      return [arch, variant];
  }
}

/** A platform in canonical form (lowercase, "x86_64" -> "amd64", "arm64/v8" -> "arm64"). */
export function normalizePlatform(p: Platform): Platform {
  const os = p.os.toLowerCase() === 'macos' ? 'darwin' : p.os.toLowerCase();
  const [architecture, variant] = normalizeArch(p.architecture, p.variant ?? '');
  return {
    os,
    architecture,
    ...(variant === '' ? {} : { variant }),
    ...(p['os.version'] === undefined ? {} : { 'os.version': p['os.version'] }),
  };
}

/** The platform this process runs on, normalized. */
export function hostPlatform(): Platform {
  const arch = NODE_ARCH[process.arch] ?? process.arch;
  let variant = '';
  if (arch === 'arm') {
    const v = (process.config.variables as Record<string, unknown>).arm_version;
    variant = typeof v === 'string' || typeof v === 'number' ? `v${v}` : 'v7';
  }
  return normalizePlatform({ os: 'linux', architecture: arch, variant });
}

/** Parses "os/arch[/variant]" (as `--platform` takes it), normalized. */
export function parsePlatform(spec: string): Platform {
  const parts = spec.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[A-Za-z0-9_.-]+$/.test(p))) {
    throw new ChrunError(
      'CHRUN_INVALID_ARGUMENT',
      `invalid platform "${spec}": want os/arch[/variant], for example linux/arm64`,
    );
  }
  return normalizePlatform({ os: parts[0]!, architecture: parts[1]!, variant: parts[2] ?? '' });
}

/** "linux/arm64/v8"-style text for messages. */
export function formatPlatform(p: Platform): string {
  return [
    p.os,
    p.architecture,
    ...(p.variant === undefined || p.variant === '' ? [] : [p.variant]),
  ].join('/');
}

/**
 * The platforms an image may be for and still run here, best first: containerd's
 * platforms.Only (amd64 also runs 386; arm/v7 also v6 and v5; arm64 v8.x also lower minor
 * versions, then 32-bit arm).
 */
export function compatiblePlatforms(want: Platform): Platform[] {
  const p = normalizePlatform(want);
  const out: Platform[] = [p];
  const variantNumber = (v: string | undefined): number =>
    v === undefined ? NaN : Number.parseInt(v.replace(/^v/, ''), 10);
  if (p.architecture === 'amd64') {
    const n = variantNumber(p.variant);
    if (n > 1) {
      for (let v = n - 1; v >= 1; v--) {
        out.push(normalizePlatform({ ...p, variant: `v${v}` }));
      }
    }
    out.push({ os: p.os, architecture: '386' });
  } else if (p.architecture === 'arm') {
    const n = variantNumber(p.variant);
    if (n > 5) for (let v = n - 1; v >= 5; v--) out.push({ ...p, variant: `v${v}` });
  } else if (p.architecture === 'arm64') {
    const variant = p.variant ?? 'v8';
    const m = /^v(\d+)(?:\.(\d+))?$/.exec(variant);
    if (m !== null) {
      let major = Number(m[1]);
      let minor = m[2] === undefined ? 0 : Number(m[2]);
      if (major === 9) {
        for (let v = minor - 1; v >= 0; v--)
          out.push({ ...p, variant: v === 0 ? 'v9' : `v9.${v}` });
        minor += 5;
        major = 8;
        out.push({ ...p, variant: `v8.${minor}` });
      }
      if (major === 8) {
        for (let v = minor - 1; v >= 0; v--) {
          out.push(normalizePlatform({ ...p, variant: v === 0 ? 'v8' : `v8.${v}` }));
        }
      }
    }
    for (let v = 8; v >= 5; v--) out.push({ os: p.os, architecture: 'arm', variant: `v${v}` });
  }
  return out;
}

function samePlatform(a: Platform, b: Platform): boolean {
  return (
    a.os === b.os &&
    a.architecture === b.architecture &&
    (a.variant ?? '') === (b.variant ?? '') &&
    (a.os !== 'windows' || (a['os.version'] ?? '') === (b['os.version'] ?? ''))
  );
}

/** The rank of `have` for `want` (0 best), or -1 when it cannot run there. */
export function platformRank(want: Platform, have: Platform): number {
  const h = normalizePlatform(have);
  return compatiblePlatforms(want).findIndex((c) => samePlatform(normalizePlatform(c), h));
}

/** True when an image for `have` runs on `want` (exactly or by compatibility). */
export function platformMatches(want: Platform, have: Platform): boolean {
  return platformRank(want, have) >= 0;
}

/** The platforms an index offers, as text, for "no manifest for this platform" errors. */
export function offeredPlatforms(index: ImageIndex): string[] {
  return index.manifests
    .filter((m) => m.platform !== undefined && m.platform.os !== 'unknown')
    .map((m) => formatPlatform(normalizePlatform(m.platform!)));
}

/**
 * Picks the manifest of an index for a platform: the best-ranked compatible entry, the first
 * one on ties (as containerd does). Throws CHRUN_PLATFORM_NOT_FOUND listing what is offered.
 */
export function selectManifest(index: ImageIndex, want: Platform, what = 'image'): Descriptor {
  let best: Descriptor | undefined;
  let bestRank = Infinity;
  for (const m of index.manifests) {
    if (m.platform === undefined) continue;
    const rank = platformRank(want, m.platform);
    if (rank >= 0 && rank < bestRank) {
      best = m;
      bestRank = rank;
    }
  }
  if (best === undefined) {
    const offered = offeredPlatforms(index);
    throw new ChrunError(
      'CHRUN_PLATFORM_NOT_FOUND',
      `no manifest for ${formatPlatform(normalizePlatform(want))} in ${what}` +
        ` (offered: ${offered.length === 0 ? 'none' : offered.join(', ')})`,
      { fields: { platform: formatPlatform(want), offered } },
    );
  }
  return best;
}
