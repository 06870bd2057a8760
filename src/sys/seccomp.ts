import type { LinuxSeccomp, LinuxSeccompAction, LinuxSeccompOperator } from '../oci/index.js';
import { ChrunError } from '../util/index.js';
import type { SeccompRule, SeccompRules } from './plan.js';

/** libseccomp's action values. */
function actionValue(action: LinuxSeccompAction, errnoRet: number | undefined): number {
  switch (action) {
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD':
      return 0x00000000;
    case 'SCMP_ACT_KILL_PROCESS':
      return 0x80000000;
    case 'SCMP_ACT_TRAP':
      return 0x00030000;
    case 'SCMP_ACT_ERRNO':
      return (0x00050000 | ((errnoRet ?? 1) & 0xffff)) >>> 0;
    case 'SCMP_ACT_TRACE':
      return (0x7ff00000 | ((errnoRet ?? 1) & 0xffff)) >>> 0;
    case 'SCMP_ACT_LOG':
      return 0x7ffc0000;
    case 'SCMP_ACT_ALLOW':
      return 0x7fff0000;
    case 'SCMP_ACT_NOTIFY':
      return 0x7fc00000;
  }
}

const OPS: Record<LinuxSeccompOperator, number> = {
  SCMP_CMP_NE: 1,
  SCMP_CMP_LT: 2,
  SCMP_CMP_LE: 3,
  SCMP_CMP_EQ: 4,
  SCMP_CMP_GE: 5,
  SCMP_CMP_GT: 6,
  SCMP_CMP_MASKED_EQ: 7,
};

/** AUDIT_ARCH_* values for the OCI architecture names. */
const ARCHES: Record<string, number> = {
  SCMP_ARCH_X86: 0x40000003,
  SCMP_ARCH_X86_64: 0xc000003e,
  SCMP_ARCH_X32: 0x4000003e,
  SCMP_ARCH_ARM: 0x40000028,
  SCMP_ARCH_AARCH64: 0xc00000b7,
  SCMP_ARCH_PPC64LE: 0xc0000015,
  SCMP_ARCH_S390X: 0x80000016,
  SCMP_ARCH_RISCV64: 0xc00000f3,
};

const FLAGS: Record<string, number> = {
  SECCOMP_FILTER_FLAG_TSYNC: 1,
  SECCOMP_FILTER_FLAG_LOG: 2,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: 4,
};

/** The architectures this host's kernel can run (x86_64 also runs x86 and x32 code). */
function hostArchitectures(): Set<number> {
  switch (process.arch) {
    case 'x64':
      return new Set([0xc000003e, 0x40000003, 0x4000003e]);
    case 'arm64':
      return new Set([0xc00000b7, 0x40000028]);
    case 'arm':
      return new Set([0x40000028]);
    case 'riscv64':
      return new Set([0xc00000f3]);
    case 'ppc64':
      return new Set([0xc0000015]);
    case 's390x':
      return new Set([0x80000016]);
    default:
      return new Set();
  }
}

/**
 * An OCI seccomp section in libseccomp's terms. Rules whose action is the default are left
 * out (libseccomp refuses them, and they change nothing); architectures this host cannot run
 * are left out too (a profile lists every architecture docker supports).
 */
export function seccompRules(spec: LinuxSeccomp): SeccompRules {
  const defaultAction = actionValue(spec.defaultAction, spec.defaultErrnoRet);
  const host = hostArchitectures();
  const architectures: number[] = [];
  for (const a of spec.architectures ?? []) {
    const v = ARCHES[a];
    if (v === undefined) {
      throw new ChrunError('CHRUN_INVALID_ARGUMENT', `seccomp: unknown architecture ${a}`);
    }
    if (host.has(v)) architectures.push(v);
  }
  let flags = 0;
  for (const f of spec.flags ?? []) {
    const v = FLAGS[f];
    if (v === undefined)
      throw new ChrunError('CHRUN_INVALID_ARGUMENT', `seccomp: unsupported flag ${f}`);
    flags |= v;
  }
  const rules: SeccompRule[] = [];
  for (const sc of spec.syscalls ?? []) {
    const action = actionValue(sc.action, sc.errnoRet);
    if (action === defaultAction) continue;
    const args = (sc.args ?? []).map((a) => {
      const op = OPS[a.op];
      if (a.index < 0 || a.index > 5) {
        throw new ChrunError(
          'CHRUN_INVALID_ARGUMENT',
          `seccomp: argument index ${a.index} out of range`,
        );
      }
      return { index: a.index, op, value: BigInt(a.value), valueTwo: BigInt(a.valueTwo ?? 0) };
    });
    for (const name of sc.names) rules.push({ syscall: name, action, args });
  }
  return { defaultAction, flags, architectures, rules };
}
