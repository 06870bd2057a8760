import { ChrunError } from '../../util/index.js';
import type {
  LinuxSeccomp,
  LinuxSeccompAction,
  LinuxSeccompArg,
  LinuxSeccompOperator,
  LinuxSyscall,
} from '../runtime-spec.js';

/*
 * Seccomp profiles in docker's format (what `--security-opt seccomp=PROFILE.json` takes,
 * moby/profiles seccomp.go): the OCI fields plus an archMap, a legacy "name", and rules that
 * apply only with some capabilities, on some architectures or from some kernel on. Resolving
 * one for a container gives plain OCI LinuxSeccomp, as docker's setupSeccomp does.
 */

export interface SeccompFilter {
  caps?: string[];
  /** Docker's architecture names: amd64, x86, x32, arm64, arm, s390x, ppc64le, riscv64... */
  arches?: string[];
  /** "<kernel>.<major>", e.g. "4.8". */
  minKernel?: string;
}

export interface DockerSyscallRule {
  /** Deprecated single name; use names. */
  name?: string;
  names?: string[];
  action: LinuxSeccompAction;
  errnoRet?: number;
  args?: LinuxSeccompArg[];
  comment?: string;
  includes?: SeccompFilter;
  excludes?: SeccompFilter;
}

export interface SeccompArchMapEntry {
  architecture: string;
  subArchitectures: string[] | null;
}

export interface DockerSeccompProfile {
  defaultAction: LinuxSeccompAction;
  defaultErrnoRet?: number;
  architectures?: string[];
  archMap?: SeccompArchMapEntry[];
  flags?: string[];
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls?: DockerSyscallRule[];
}

const ACTIONS: readonly LinuxSeccompAction[] = [
  'SCMP_ACT_KILL',
  'SCMP_ACT_KILL_PROCESS',
  'SCMP_ACT_KILL_THREAD',
  'SCMP_ACT_TRAP',
  'SCMP_ACT_ERRNO',
  'SCMP_ACT_TRACE',
  'SCMP_ACT_ALLOW',
  'SCMP_ACT_LOG',
  'SCMP_ACT_NOTIFY',
];

const OPERATORS: readonly LinuxSeccompOperator[] = [
  'SCMP_CMP_NE',
  'SCMP_CMP_LT',
  'SCMP_CMP_LE',
  'SCMP_CMP_EQ',
  'SCMP_CMP_GE',
  'SCMP_CMP_GT',
  'SCMP_CMP_MASKED_EQ',
];

/** The OCI architecture names (runtime-spec config-linux.md). */
export const SECCOMP_ARCHES: readonly string[] = [
  'SCMP_ARCH_X86',
  'SCMP_ARCH_X86_64',
  'SCMP_ARCH_X32',
  'SCMP_ARCH_ARM',
  'SCMP_ARCH_AARCH64',
  'SCMP_ARCH_MIPS',
  'SCMP_ARCH_MIPS64',
  'SCMP_ARCH_MIPS64N32',
  'SCMP_ARCH_MIPSEL',
  'SCMP_ARCH_MIPSEL64',
  'SCMP_ARCH_MIPSEL64N32',
  'SCMP_ARCH_PPC',
  'SCMP_ARCH_PPC64',
  'SCMP_ARCH_PPC64LE',
  'SCMP_ARCH_S390',
  'SCMP_ARCH_S390X',
  'SCMP_ARCH_PARISC',
  'SCMP_ARCH_PARISC64',
  'SCMP_ARCH_RISCV64',
  'SCMP_ARCH_LOONGARCH64',
];

const FLAGS = [
  'SECCOMP_FILTER_FLAG_TSYNC',
  'SECCOMP_FILTER_FLAG_LOG',
  'SECCOMP_FILTER_FLAG_SPEC_ALLOW',
  'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV',
];

/** libseccomp's native architecture names by Node's process.arch, and their OCI names. */
const NATIVE: Record<string, { docker: string; oci: string }> = {
  x64: { docker: 'amd64', oci: 'SCMP_ARCH_X86_64' },
  ia32: { docker: 'x86', oci: 'SCMP_ARCH_X86' },
  arm64: { docker: 'arm64', oci: 'SCMP_ARCH_AARCH64' },
  arm: { docker: 'arm', oci: 'SCMP_ARCH_ARM' },
  s390x: { docker: 's390x', oci: 'SCMP_ARCH_S390X' },
  ppc64: { docker: 'ppc64le', oci: 'SCMP_ARCH_PPC64LE' },
  riscv64: { docker: 'riscv64', oci: 'SCMP_ARCH_RISCV64' },
  loong64: { docker: 'loong64', oci: 'SCMP_ARCH_LOONGARCH64' },
  mips64el: { docker: 'mipsel64', oci: 'SCMP_ARCH_MIPSEL64' },
  mipsel: { docker: 'mipsel', oci: 'SCMP_ARCH_MIPSEL' },
};

/** The architecture as docker's profiles name it ("amd64" for Node's "x64"). */
export function seccompNativeArch(nodeArch: string = process.arch): string {
  return NATIVE[nodeArch]?.docker ?? nodeArch;
}

function bad(source: string, where: string, why: string): ChrunError {
  return new ChrunError('CHRUN_INVALID_ARGUMENT', `load seccomp profile ${source}: ${where}${why}`);
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function stringList(
  v: unknown,
  where: string,
  source: string,
  allowed?: readonly string[],
): string[] {
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) {
    throw bad(source, where, ': want a list of strings');
  }
  const list = v as string[];
  if (allowed !== undefined) {
    const unknown = list.find((s) => !allowed.includes(s));
    if (unknown !== undefined) throw bad(source, where, `: unknown value "${unknown}"`);
  }
  return list;
}

function nonNegativeInt(v: unknown, where: string, source: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    throw bad(source, where, ': want a non-negative integer');
  }
  return v;
}

function action(v: unknown, where: string, source: string): LinuxSeccompAction {
  if (typeof v !== 'string' || !ACTIONS.includes(v as LinuxSeccompAction)) {
    throw bad(source, where, `: unknown action ${JSON.stringify(v)}`);
  }
  return v as LinuxSeccompAction;
}

function filter(v: unknown, where: string, source: string): SeccompFilter {
  if (!isObject(v)) throw bad(source, where, ': want an object');
  const out: SeccompFilter = {};
  if (v.caps !== undefined && v.caps !== null)
    out.caps = stringList(v.caps, `${where}.caps`, source);
  if (v.arches !== undefined && v.arches !== null)
    out.arches = stringList(v.arches, `${where}.arches`, source);
  if (v.minKernel !== undefined && v.minKernel !== '') {
    if (
      typeof v.minKernel !== 'string' ||
      !/^\d+\.\d+$/.test(v.minKernel) ||
      /^0+\.0+$/.test(v.minKernel)
    ) {
      throw bad(
        source,
        `${where}.minKernel`,
        `: invalid kernel version ${JSON.stringify(v.minKernel)}, expected "<kernel>.<major>"`,
      );
    }
    out.minKernel = v.minKernel;
  }
  return out;
}

function syscallRule(v: unknown, where: string, source: string): DockerSyscallRule {
  if (!isObject(v)) throw bad(source, where, ': want an object');
  const hasName = typeof v.name === 'string' && v.name !== '';
  const hasNames = Array.isArray(v.names) && v.names.length > 0;
  if (hasName && hasNames) {
    throw bad(
      source,
      where,
      ": both 'name' and 'names' are specified in the seccomp profile, use either 'name' or 'names'",
    );
  }
  if (!hasName && !hasNames) throw bad(source, where, ": no syscall 'names'");
  const rule: DockerSyscallRule = {
    names: hasName ? [v.name as string] : stringList(v.names, `${where}.names`, source),
    action: action(v.action, `${where}.action`, source),
  };
  if (rule.names!.some((n) => n === ''))
    throw bad(source, `${where}.names`, ': empty syscall name');
  if (v.errnoRet !== undefined && v.errnoRet !== null)
    rule.errnoRet = nonNegativeInt(v.errnoRet, `${where}.errnoRet`, source);
  if (v.args !== undefined && v.args !== null) {
    if (!Array.isArray(v.args)) throw bad(source, `${where}.args`, ': want a list');
    rule.args = v.args.map((a: unknown, i) => {
      const at = `${where}.args[${i}]`;
      if (!isObject(a)) throw bad(source, at, ': want an object');
      const index = nonNegativeInt(a.index, `${at}.index`, source);
      if (index > 5) throw bad(source, `${at}.index`, ': a syscall has arguments 0 to 5');
      if (typeof a.op !== 'string' || !OPERATORS.includes(a.op as LinuxSeccompOperator)) {
        throw bad(source, `${at}.op`, `: unknown operator ${JSON.stringify(a.op)}`);
      }
      const arg: LinuxSeccompArg = {
        index,
        value: nonNegativeInt(a.value, `${at}.value`, source),
        op: a.op as LinuxSeccompOperator,
      };
      if (a.valueTwo !== undefined && a.valueTwo !== null)
        arg.valueTwo = nonNegativeInt(a.valueTwo, `${at}.valueTwo`, source);
      return arg;
    });
  }
  if (typeof v.comment === 'string') rule.comment = v.comment;
  if (v.includes !== undefined && v.includes !== null)
    rule.includes = filter(v.includes, `${where}.includes`, source);
  if (v.excludes !== undefined && v.excludes !== null)
    rule.excludes = filter(v.excludes, `${where}.excludes`, source);
  return rule;
}

/**
 * Parses and checks a profile in docker's format. `source` names it in errors (its path).
 * Unknown fields are ignored, as docker ignores them (podman's profiles add "defaultErrno").
 * Returns undefined for a profile that turns seccomp off (no defaultAction and no rules).
 */
export function parseSeccompProfile(
  text: string,
  source = 'profile',
): DockerSeccompProfile | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw bad(source, '', `invalid JSON: ${(err as Error).message}`);
  }
  if (!isObject(doc)) throw bad(source, '', 'want a JSON object');
  const syscalls = doc.syscalls ?? [];
  if (!Array.isArray(syscalls)) throw bad(source, 'syscalls', ': want a list');
  if ((doc.defaultAction === undefined || doc.defaultAction === '') && syscalls.length === 0)
    return undefined;
  const profile: DockerSeccompProfile = {
    defaultAction: action(doc.defaultAction, 'defaultAction', source),
    syscalls: syscalls.map((s: unknown, i) => syscallRule(s, `syscalls[${i}]`, source)),
  };
  if (doc.defaultErrnoRet !== undefined && doc.defaultErrnoRet !== null) {
    profile.defaultErrnoRet = nonNegativeInt(doc.defaultErrnoRet, 'defaultErrnoRet', source);
  }
  const hasArchitectures = Array.isArray(doc.architectures) && doc.architectures.length > 0;
  const hasArchMap = Array.isArray(doc.archMap) && doc.archMap.length > 0;
  if (hasArchitectures && hasArchMap) {
    throw bad(
      source,
      '',
      "both 'architectures' and 'archMap' are specified in the seccomp profile, use either 'architectures' or 'archMap'",
    );
  }
  if (doc.architectures !== undefined && doc.architectures !== null) {
    profile.architectures = stringList(doc.architectures, 'architectures', source, SECCOMP_ARCHES);
  }
  if (hasArchMap) {
    profile.archMap = (doc.archMap as unknown[]).map((e, i) => {
      const at = `archMap[${i}]`;
      if (!isObject(e)) throw bad(source, at, ': want an object');
      const [architecture] = stringList(
        [e.architecture],
        `${at}.architecture`,
        source,
        SECCOMP_ARCHES,
      );
      const sub =
        e.subArchitectures === null || e.subArchitectures === undefined
          ? null
          : stringList(e.subArchitectures, `${at}.subArchitectures`, source, SECCOMP_ARCHES);
      return { architecture: architecture!, subArchitectures: sub };
    });
  }
  if (doc.flags !== undefined && doc.flags !== null)
    profile.flags = stringList(doc.flags, 'flags', source, FLAGS);
  if (typeof doc.listenerPath === 'string' && doc.listenerPath !== '')
    profile.listenerPath = doc.listenerPath;
  if (typeof doc.listenerMetadata === 'string' && doc.listenerMetadata !== '') {
    profile.listenerMetadata = doc.listenerMetadata;
  }
  return profile;
}

export interface SeccompContext {
  /** The container's bounding set: rules with includes.caps / excludes.caps look here. */
  capabilities: readonly string[];
  /** Docker's name of the architecture (seccompNativeArch()). */
  arch?: string;
  /** The kernel release (os.release()), for minKernel. */
  kernel?: string;
}

/** True when `release` ("6.18.44-fc") is at least "<kernel>.<major>". */
export function kernelAtLeast(release: string, min: string): boolean {
  const r = /^(\d+)\.(\d+)/.exec(release);
  const m = /^(\d+)\.(\d+)$/.exec(min);
  if (r === null || m === null) {
    throw new ChrunError(
      'CHRUN_INVALID_ARGUMENT',
      `compare kernel versions: cannot read "${release}" or "${min}"`,
    );
  }
  const [rk, rm, mk, mm] = [r[1], r[2], m[1], m[2]].map(Number) as [number, number, number, number];
  return rk > mk || (rk === mk && rm >= mm);
}

/**
 * The OCI seccomp section for one container, as docker's setupSeccomp builds it: the native
 * architecture's archMap entry, and only the rules whose includes all hold and none of whose
 * excludes does.
 */
export function resolveSeccompProfile(
  profile: DockerSeccompProfile,
  ctx: SeccompContext,
): LinuxSeccomp {
  const arch = ctx.arch ?? seccompNativeArch();
  const ociArch = Object.values(NATIVE).find((n) => n.docker === arch)?.oci;
  const out: LinuxSeccomp = { defaultAction: profile.defaultAction };
  if (profile.defaultErrnoRet !== undefined) out.defaultErrnoRet = profile.defaultErrnoRet;
  if (profile.architectures !== undefined && profile.architectures.length > 0) {
    out.architectures = [...profile.architectures];
  } else if (ociArch !== undefined) {
    const entry = profile.archMap?.find((a) => a.architecture === ociArch);
    if (entry !== undefined)
      out.architectures = [entry.architecture, ...(entry.subArchitectures ?? [])];
  }
  if (profile.flags !== undefined) out.flags = [...profile.flags];
  if (profile.listenerPath !== undefined) out.listenerPath = profile.listenerPath;
  if (profile.listenerMetadata !== undefined) out.listenerMetadata = profile.listenerMetadata;
  const caps = new Set(ctx.capabilities);
  const kernelOk = (min: string): boolean => {
    if (ctx.kernel === undefined) {
      throw new ChrunError(
        'CHRUN_INVALID_ARGUMENT',
        'resolve seccomp profile: a rule needs the kernel version (minKernel)',
      );
    }
    return kernelAtLeast(ctx.kernel, min);
  };
  const syscalls: LinuxSyscall[] = [];
  for (const rule of profile.syscalls ?? []) {
    const ex = rule.excludes;
    if (ex !== undefined) {
      if (ex.arches?.includes(arch)) continue;
      if (ex.caps?.some((c) => caps.has(c))) continue;
      if (ex.minKernel !== undefined && kernelOk(ex.minKernel)) continue;
    }
    const inc = rule.includes;
    if (inc !== undefined) {
      if (inc.arches !== undefined && inc.arches.length > 0 && !inc.arches.includes(arch)) continue;
      if (inc.caps?.some((c) => !caps.has(c))) continue;
      if (inc.minKernel !== undefined && !kernelOk(inc.minKernel)) continue;
    }
    const names = rule.names ?? (rule.name !== undefined ? [rule.name] : []);
    const call: LinuxSyscall = { names: [...names], action: rule.action };
    if (rule.errnoRet !== undefined) call.errnoRet = rule.errnoRet;
    if (rule.args !== undefined && rule.args.length > 0)
      call.args = rule.args.map((a) => ({ ...a }));
    syscalls.push(call);
  }
  out.syscalls = syscalls;
  return out;
}
