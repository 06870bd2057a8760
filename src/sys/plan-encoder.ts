import { ChrunError } from '../util/index.js';
import { makedev } from './fs-calls.js';
import type { Plan, PlanStep, SeccompRules } from './plan.js';
import { CLONE_F, FRAME_HEADER, M, MNT_F, OP, PLAN_MAGIC, PLAN_MAX } from './protocol.js';

/** A little-endian byte writer that grows as needed. */
export class Writer {
  private buf = Buffer.allocUnsafe(4096);
  private len = 0;

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  get length(): number {
    return this.len;
  }

  u16(v: number): this {
    this.room(2);
    this.buf.writeUInt16LE(v, this.len);
    this.len += 2;
    return this;
  }

  u32(v: number): this {
    this.room(4);
    this.buf.writeUInt32LE(v >>> 0, this.len);
    this.len += 4;
    return this;
  }

  u64(v: bigint | number): this {
    this.room(8);
    this.buf.writeBigUInt64LE(BigInt.asUintN(64, BigInt(v)), this.len);
    this.len += 8;
    return this;
  }

  /** A string: u32 length including a NUL, the UTF-8 bytes, the NUL. No NUL inside. */
  str(s: string): this {
    if (s.includes('\0')) {
      throw new ChrunError(
        'CHRUN_INVALID_ARGUMENT',
        `encode plan: string contains a nul byte: ${JSON.stringify(s)}`,
      );
    }
    const n = Buffer.byteLength(s);
    this.u32(n + 1);
    this.room(n + 1);
    this.buf.write(s, this.len, 'utf8');
    this.buf[this.len + n] = 0;
    this.len += n + 1;
    return this;
  }

  strv(v: readonly string[]): this {
    this.u32(v.length);
    for (const s of v) this.str(s);
    return this;
  }

  bytes(b: Uint8Array): this {
    this.u32(b.length);
    this.room(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
    return this;
  }

  u32v(v: readonly number[]): this {
    this.u32(v.length);
    for (const x of v) this.u32(x);
    return this;
  }

  /** Writes a u32 at an earlier offset (a length known only later). */
  patchU32(offset: number, v: number): void {
    this.buf.writeUInt32LE(v >>> 0, offset);
  }

  done(): Buffer {
    return this.buf.subarray(0, this.len);
  }
}

/** The seccomp rule arguments of OP_SECCOMP_RULES (also the input of `seccomp-export`). */
export function encodeSeccompRules(rules: SeccompRules, w = new Writer()): Writer {
  w.u32(rules.defaultAction).u32(rules.flags).u32v(rules.architectures);
  const blob = new Writer();
  blob.u32(rules.rules.length);
  for (const r of rules.rules) {
    blob.str(r.syscall).u32(r.action).u32(r.args.length);
    for (const a of r.args) blob.u32(a.index).u32(a.op).u64(a.value).u64(a.valueTwo);
  }
  w.bytes(blob.done());
  return w;
}

function mountFlags(s: Extract<PlanStep, { op: 'mount' }>): number {
  return (
    (s.inRoot ? MNT_F.IN_ROOT : 0) |
    (s.mkdir === true ? MNT_F.MKDIR : 0) |
    (s.mkfile === true ? MNT_F.MKFILE : 0) |
    (s.optional === true ? MNT_F.OPTIONAL : 0)
  );
}

function args(w: Writer, s: PlanStep): void {
  switch (s.op) {
    case 'fifo':
    case 'orphan-unlink':
    case 'orphan-rmdir':
    case 'orphan-umount':
    case 'orphan-rmtree':
    case 'console-socket':
    case 'rootfs':
    case 'chroot':
    case 'mask':
    case 'readonly':
    case 'chdir':
      w.str(s.path);
      return;
    case 'clone':
      w.u64(s.flags)
        .str(s.cgroupDir)
        .u32(
          (s.attached ? CLONE_F.ATTACHED : 0) |
            (s.detach ? CLONE_F.DETACH : 0) |
            (s.rawTty === true ? CLONE_F.RAW_TTY : 0),
        );
      return;
    case 'cgroup-join':
      w.str(s.procs);
      return;
    case 'uid-map':
    case 'gid-map':
      w.str(s.map);
      return;
    case 'setns':
      w.str(s.path).u32(s.nstype);
      return;
    case 'mount':
      w.str(s.source).str(s.target).str(s.fstype).u64(s.flags).str(s.data).u32(mountFlags(s));
      return;
    case 'mknod':
      w.str(s.path).u32(s.mode).u64(makedev(s.major, s.minor)).u32(s.uid).u32(s.gid);
      return;
    case 'symlink':
      w.str(s.target).str(s.path);
      return;
    case 'mkdir':
      w.str(s.path).u32(s.mode);
      return;
    case 'write-file':
      w.str(s.path).str(s.data);
      return;
    case 'hostname':
    case 'domainname':
      w.str(s.name);
      return;
    case 'rlimit':
      w.u32(s.resource).u64(s.soft).u64(s.hard);
      return;
    case 'umask':
      w.u32(s.mask);
      return;
    case 'pty':
      w.u32(s.rows).u32(s.cols).str(s.console);
      return;
    case 'caps-bounding':
      w.u64(s.keep);
      return;
    case 'keepcaps':
      w.u32(s.on ? 1 : 0);
      return;
    case 'setgroups':
      w.u32v(s.gids);
      return;
    case 'setgid':
      w.u32(s.gid);
      return;
    case 'setuid':
      w.u32(s.uid);
      return;
    case 'caps':
      w.u64(s.effective).u64(s.permitted).u64(s.inheritable);
      return;
    case 'ambient':
      w.u64(s.caps);
      return;
    case 'seccomp-bpf':
      w.u32(s.flags).bytes(s.program);
      return;
    case 'seccomp-rules':
      encodeSeccompRules(s.rules, w);
      return;
    case 'exec':
      w.str(s.file).strv(s.argv).strv(s.env).str(s.searchPath);
      return;
    case 'close-fds':
      w.u32(s.first);
      return;
    case 'pdeathsig':
      w.u32(s.signal);
      return;
    case 'unshare':
      w.u32(s.flags);
      return;
    case 'setgroups-deny':
    case 'fork':
    case 'pivot-root':
    case 'move-root':
    case 'setsid':
    case 'no-new-privs':
    case 'ready':
    case 'fifo-wait':
    case 'reaper':
    case 'loopback-up':
      return;
  }
}

/** Encodes a plan as the payload of an M_PLAN frame. */
export function encodePlan(plan: Plan): Buffer {
  const w = new Writer();
  w.u32(PLAN_MAGIC).u32(plan.length);
  for (const s of plan) {
    w.u16(OP[s.op]).u16(0);
    const at = w.length;
    w.u32(0);
    args(w, s);
    w.patchU32(at, w.length - at - 4);
  }
  if (w.length > PLAN_MAX) {
    throw new ChrunError(
      'CHRUN_INVALID_ARGUMENT',
      `encode plan: ${w.length} bytes exceed the ${PLAN_MAX}-byte bound`,
    );
  }
  return w.done();
}

/** A frame: u32 payload length, u16 type, u16 aux, payload. */
export function frame(type: number, payload: Uint8Array = Buffer.alloc(0), aux = 0): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER + payload.length);
  out.writeUInt32LE(payload.length, 0);
  out.writeUInt16LE(type, 4);
  out.writeUInt16LE(aux, 6);
  out.set(payload, FRAME_HEADER);
  return out;
}

/** The M_PLAN frame for a plan. */
export function planFrame(plan: Plan): Buffer {
  return frame(M.PLAN, encodePlan(plan));
}
