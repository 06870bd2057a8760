import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileDeviceFilter, reduceDeviceRules } from '../../../src/cgroups/index.js';
import {
  DEFAULT_DEVICE_RULES,
  PRIVILEGED_DEVICE_RULES,
  type LinuxDeviceCgroup,
} from '../../../src/oci/index.js';

/** Runs a compiled program the way the kernel would, for the instructions it uses. */
function run(
  program: Buffer,
  type: 'b' | 'c',
  access: string,
  major: number,
  minor: number,
): boolean {
  let acc = 0;
  for (const ch of access) acc |= ({ m: 1, r: 2, w: 4 } as Record<string, number>)[ch]!;
  const ctx = [(acc << 16) | (type === 'c' ? 2 : 1), major, minor];
  const r = new Array<number>(11).fill(0);
  for (let pc = 0, steps = 0; steps < 1000; steps++) {
    const code = program.readUInt8(pc * 8);
    const regs = program.readUInt8(pc * 8 + 1);
    const dst = regs & 0xf;
    const src = regs >> 4;
    const off = program.readInt16LE(pc * 8 + 2);
    const imm = program.readInt32LE(pc * 8 + 4);
    pc++;
    switch (code) {
      case 0x61:
        assert.equal(src, 1, 'loads come from the context');
        r[dst] = ctx[off / 4]!;
        break;
      case 0x54:
        r[dst] = (r[dst]! & imm) >>> 0;
        break;
      case 0x74:
        r[dst] = r[dst]! >>> imm;
        break;
      case 0xb4:
        r[dst] = imm >>> 0;
        break;
      case 0xbc:
        r[dst] = r[src]!;
        break;
      case 0x55:
        if (r[dst] !== imm >>> 0) pc += off;
        break;
      case 0x5d:
        if (r[dst] !== r[src]) pc += off;
        break;
      case 0x95:
        return r[0] === 1;
      default:
        assert.fail(`unexpected opcode 0x${code.toString(16)}`);
    }
    assert.ok(pc < program.length / 8, 'jumps stay inside the program');
  }
  return assert.fail('the program does not end');
}

test('the encoding: struct bpf_insn, little-endian, dst in the low nibble', () => {
  const f = compileDeviceFilter([{ allow: false, access: 'rwm' }]);
  assert.equal(f.instructions, 8);
  assert.equal(f.program.length, 64);
  assert.equal(f.program.subarray(0, 8).toString('hex'), '6112000000000000'); // r2 = *(u32 *)(r1 + 0)
  assert.equal(f.program.subarray(8, 16).toString('hex'), '54020000ffff0000'); // w2 &= 0xffff
  assert.equal(f.program.subarray(48, 64).toString('hex'), 'b400000000000000' + '9500000000000000'); // w0 = 0; exit
});

test("docker's default rules: the default devices, any mknod, ptys, tun; nothing else", () => {
  const { program } = compileDeviceFilter(DEFAULT_DEVICE_RULES);
  assert.ok(run(program, 'c', 'rw', 1, 3), '/dev/null');
  assert.ok(run(program, 'c', 'rw', 1, 9), '/dev/urandom');
  assert.ok(run(program, 'c', 'rw', 5, 0), '/dev/tty');
  assert.ok(run(program, 'c', 'rw', 136, 7), '/dev/pts/7');
  assert.ok(run(program, 'c', 'rw', 10, 200), '/dev/net/tun');
  assert.ok(run(program, 'c', 'm', 8, 0), 'mknod of any char device');
  assert.ok(run(program, 'b', 'm', 8, 0), 'mknod of any block device');
  assert.ok(!run(program, 'b', 'r', 8, 0), 'reading the host disk');
  assert.ok(!run(program, 'b', 'rm', 8, 0), 'mknod and read at once');
  assert.ok(!run(program, 'c', 'r', 1, 1), '/dev/mem');
  assert.ok(!run(program, 'c', 'rw', 10, 229), '/dev/fuse');
});

test('--privileged allows everything', () => {
  const f = compileDeviceFilter(PRIVILEGED_DEVICE_RULES);
  assert.equal(f.defaultAllow, true);
  assert.deepEqual(f.exceptions, []);
  assert.ok(run(f.program, 'b', 'rwm', 8, 0));
});

test('access subsets, allow-all with a deny, and a deny taking back part of an allow', () => {
  const ro: LinuxDeviceCgroup[] = [
    { allow: false, access: 'rwm' },
    { allow: true, type: 'c', major: 1, minor: 3, access: 'r' },
  ];
  assert.ok(run(compileDeviceFilter(ro).program, 'c', 'r', 1, 3));
  assert.ok(!run(compileDeviceFilter(ro).program, 'c', 'rw', 1, 3));
  const blacklist: LinuxDeviceCgroup[] = [
    { allow: true, access: 'rwm' },
    { allow: false, type: 'c', major: 1, minor: 3, access: 'w' },
  ];
  const b = compileDeviceFilter(blacklist).program;
  assert.ok(!run(b, 'c', 'w', 1, 3));
  assert.ok(run(b, 'c', 'r', 1, 3));
  assert.ok(run(b, 'b', 'rwm', 8, 0));
  const takeBack: LinuxDeviceCgroup[] = [
    { allow: false, access: 'rwm' },
    { allow: true, type: 'c', major: 1, minor: 3, access: 'rw' },
    { allow: false, type: 'c', major: 1, minor: 3, access: 'w' },
  ];
  assert.deepEqual(reduceDeviceRules(takeBack), {
    defaultAllow: false,
    exceptions: [{ type: 'c', major: 1, minor: 3, access: 2 }],
  });
  assert.deepEqual(
    reduceDeviceRules([...takeBack, { allow: false, type: 'c', major: 1, minor: 3, access: 'r' }])
      .exceptions,
    [],
  );
  assert.throws(
    () => compileDeviceFilter([{ allow: true, type: 'x' }]),
    /invalid device rule type "x"/,
  );
  assert.throws(
    () => compileDeviceFilter([{ allow: true, type: 'c', access: 'z' }]),
    /invalid device rule access "z"/,
  );
});
