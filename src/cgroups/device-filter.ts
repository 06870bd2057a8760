import type { LinuxDeviceCgroup } from '../oci/index.js';
import { ChrunError } from '../util/index.js';

/*
 * cgroup v2 has no devices controller: device access is decided by an eBPF program of type
 * BPF_PROG_TYPE_CGROUP_DEVICE attached to the cgroup. This compiles OCI device rules into
 * that program, as runc's devicefilter.go (after crun's ebpf.c) does; loading and attaching
 * it (bpf(2)) is left to the helper, since Node cannot make the syscall.
 *
 * The rules are first reduced the way the v1 kernel applies them (security/device_cgroup.c):
 * a default (allow all, or deny all) plus exceptions, each the opposite of the default. The
 * program checks the exceptions and returns the default when none matches.
 */

export interface DeviceFilter {
  /** struct bpf_insn[] in host (little-endian) byte order. */
  program: Buffer;
  /** Number of instructions. */
  instructions: number;
  /** The license string for BPF_PROG_LOAD (as runc's). */
  license: 'Apache';
  /** What the program answers when no exception matches. */
  defaultAllow: boolean;
  /** The exceptions it checks, for --explain. */
  exceptions: ExceptionRule[];
}

export interface ExceptionRule {
  type: 'b' | 'c';
  /** -1 for any. */
  major: number;
  minor: number;
  /** Bits: 1 mknod, 2 read, 4 write (BPF_DEVCG_ACC_*). */
  access: number;
}

const ACC = { m: 1, r: 2, w: 4 } as const;
const DEV_BLOCK = 1;
const DEV_CHAR = 2;

function accessBits(access: string | undefined): number {
  let bits = 0;
  for (const ch of access ?? 'rwm') {
    const b = ACC[ch as keyof typeof ACC] as number | undefined;
    if (b === undefined) {
      throw new ChrunError(
        'CHRUN_INVALID_ARGUMENT',
        `invalid device rule access "${access}": want some of r, w, m`,
      );
    }
    bits |= b;
  }
  return bits;
}

const num = (n: number | null | undefined): number =>
  n === undefined || n === null || n < 0 ? -1 : n;

/** The v1 kernel's reading of a rule list: a default and the exceptions to it. */
export function reduceDeviceRules(rules: readonly LinuxDeviceCgroup[]): {
  defaultAllow: boolean;
  exceptions: ExceptionRule[];
} {
  // A cgroup starts allowing everything (its parent's list, at the root "a *:* rwm").
  let defaultAllow = true;
  let exceptions: ExceptionRule[] = [];
  for (const rule of rules) {
    const type = rule.type ?? 'a';
    if (type === 'a') {
      // "a" resets the list whatever follows it, as the kernel reads it.
      defaultAllow = rule.allow;
      exceptions = [];
      continue;
    }
    if (type !== 'b' && type !== 'c') {
      throw new ChrunError(
        'CHRUN_INVALID_ARGUMENT',
        `invalid device rule type "${type}": want a, b or c`,
      );
    }
    const ex: ExceptionRule = {
      type,
      major: num(rule.major),
      minor: num(rule.minor),
      access: accessBits(rule.access),
    };
    const same = exceptions.find(
      (e) => e.type === ex.type && e.major === ex.major && e.minor === ex.minor,
    );
    if (rule.allow === defaultAllow) {
      // Like the default: takes the access away from a matching exception.
      if (same !== undefined) {
        same.access &= ~ex.access;
        if (same.access === 0) exceptions = exceptions.filter((e) => e !== same);
      }
    } else if (same !== undefined) {
      same.access |= ex.access;
    } else {
      exceptions.push(ex);
    }
  }
  return { defaultAllow, exceptions };
}

// struct bpf_insn opcodes
const LDX_MEM_W = 0x61;
const ALU32_AND_K = 0x54;
const ALU32_RSH_K = 0x74;
const ALU32_MOV_K = 0xb4;
const ALU32_MOV_X = 0xbc;
const JMP_JNE_K = 0x55;
const JMP_JNE_X = 0x5d;
const JMP_EXIT = 0x95;

interface Insn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

const insn = (code: number, dst: number, src: number, off: number, imm: number): Insn => ({
  code,
  dst,
  src,
  off,
  imm,
});

/** Compiles device rules into a BPF_PROG_TYPE_CGROUP_DEVICE program. */
export function compileDeviceFilter(rules: readonly LinuxDeviceCgroup[]): DeviceFilter {
  const { defaultAllow, exceptions } = reduceDeviceRules(rules);
  const out: Insn[] = [
    // struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; } at R1
    insn(LDX_MEM_W, 2, 1, 0, 0), // R2 = access_type
    insn(ALU32_AND_K, 2, 0, 0, 0xffff), // R2 = device type
    insn(LDX_MEM_W, 3, 1, 0, 0),
    insn(ALU32_RSH_K, 3, 0, 0, 16), // R3 = requested access
    insn(LDX_MEM_W, 4, 1, 4, 0), // R4 = major
    insn(LDX_MEM_W, 5, 1, 8, 0), // R5 = minor
  ];
  for (const ex of exceptions) {
    // Each check jumps past the rest of its block (to the next exception) when it fails.
    const checks: Insn[] = [insn(JMP_JNE_K, 2, 0, 0, ex.type === 'c' ? DEV_CHAR : DEV_BLOCK)];
    if (ex.access !== 7) {
      // (requested & allowed) != requested: asks for more than the rule covers
      checks.push(
        insn(ALU32_MOV_X, 1, 3, 0, 0),
        insn(ALU32_AND_K, 1, 0, 0, ex.access),
        insn(JMP_JNE_X, 1, 3, 0, 0),
      );
    }
    if (ex.major >= 0) checks.push(insn(JMP_JNE_K, 4, 0, 0, ex.major));
    if (ex.minor >= 0) checks.push(insn(JMP_JNE_K, 5, 0, 0, ex.minor));
    const block = [
      ...checks,
      insn(ALU32_MOV_K, 0, 0, 0, defaultAllow ? 0 : 1),
      insn(JMP_EXIT, 0, 0, 0, 0),
    ];
    block.forEach((i, at) => {
      if (i.code === JMP_JNE_K || i.code === JMP_JNE_X) i.off = block.length - at - 1;
    });
    out.push(...block);
  }
  out.push(insn(ALU32_MOV_K, 0, 0, 0, defaultAllow ? 1 : 0), insn(JMP_EXIT, 0, 0, 0, 0));
  const program = Buffer.alloc(out.length * 8);
  out.forEach((i, n) => {
    program.writeUInt8(i.code, n * 8);
    program.writeUInt8((i.src << 4) | i.dst, n * 8 + 1);
    program.writeInt16LE(i.off, n * 8 + 2);
    program.writeInt32LE(i.imm, n * 8 + 4);
  });
  return { program, instructions: out.length, license: 'Apache', defaultAllow, exceptions };
}
