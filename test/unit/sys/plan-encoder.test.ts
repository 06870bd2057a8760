import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { encodePlan, frame, planFrame, Writer } from '../../../src/sys/plan-encoder.js';
import { makedev } from '../../../src/sys/fs-calls.js';
import type { Plan } from '../../../src/sys/plan.js';
import { M, PLAN_MAGIC } from '../../../src/sys/protocol.js';
import { helperPath } from '../../../src/sys/helper-path.js';
import { skipUnless } from '../../helpers/requirements.js';

const helper = helperPath();
const needsHelper = (): string | false =>
  skipUnless(existsSync(helper), 'needs the built helper (npm run build:native)');

/** Runs the C decoder (`chrun-helper decode`) on a frame and returns its lines. */
function decode(bytes: Buffer): { lines: string[]; status: number | null } {
  const r = spawnSync(helper, ['decode'], { input: bytes, encoding: 'utf8' });
  return { lines: r.stdout.trim().split('\n'), status: r.status };
}

const plan: Plan = [
  { op: 'fifo', path: '/run/x/exec.fifo' },
  { op: 'clone', flags: 0x20020000, cgroupDir: '', attached: true, detach: false },
  { op: 'cgroup-join', procs: '/sys/fs/cgroup/pids/c1/cgroup.procs' },
  {
    op: 'mount',
    source: 'proc',
    target: '/proc',
    fstype: 'proc',
    flags: 14,
    data: '',
    inRoot: true,
    mkdir: true,
  },
  { op: 'mknod', path: '/dev/null', mode: 0o20666, major: 1, minor: 3, uid: 0, gid: 0 },
  { op: 'rlimit', resource: 7, soft: 1024n, hard: 0xffffffffffffffffn },
  { op: 'setgroups', gids: [10, 20] },
  { op: 'caps', effective: 1n << 40n, permitted: 3n, inheritable: 0n },
  { op: 'seccomp-bpf', flags: 0, program: Buffer.alloc(16), ruleCount: 1 },
  {
    op: 'exec',
    file: 'sh',
    argv: ['sh', '-c', 'echo ünïcode'],
    env: ['A=1'],
    searchPath: '/bin:/usr/bin',
  },
];

test('the encoder writes a magic, a count, and self-delimiting steps', () => {
  const b = encodePlan(plan);
  assert.equal(b.readUInt32LE(0), PLAN_MAGIC);
  assert.equal(b.readUInt32LE(4), plan.length);
  // walk the steps by their lengths: they must end exactly at the end
  let off = 8;
  for (let i = 0; i < plan.length; i++) off += 8 + b.readUInt32LE(off + 4);
  assert.equal(off, b.length);
});

test('frames carry length, type and aux', () => {
  const f = frame(M.KILL, Buffer.from([9, 0, 0, 0]), 7);
  assert.deepEqual([...f], [4, 0, 0, 0, 3, 0, 7, 0, 9, 0, 0, 0]);
});

test('strings with a nul byte are refused', () => {
  assert.throws(() => new Writer().str('a\0b'), /nul byte/);
});

test('makedev matches glibc for small and large numbers', () => {
  assert.equal(makedev(1, 3), 0x103n);
  assert.equal(makedev(5, 0), 0x500n);
  assert.equal(makedev(259, 70000), 286327664n); // glibc makedev(259, 70000)
});

test('the C decoder reads back every step and argument', { skip: needsHelper() }, () => {
  const { lines, status } = decode(planFrame(plan));
  assert.equal(status, 0, lines.join('\n'));
  assert.deepEqual(lines, [
    'fifo s:/run/x/exec.fifo',
    'clone U:537001984 s: u:1',
    'cgroup-join s:/sys/fs/cgroup/pids/c1/cgroup.procs',
    'mount s:proc s:/proc s:proc U:14 s: u:3',
    'mknod s:/dev/null u:8630 U:259 u:0 u:0',
    'rlimit u:7 U:1024 U:18446744073709551615',
    'setgroups a:[10,20]',
    'caps U:1099511627776 U:3 U:0',
    'seccomp-bpf u:0 b:16',
    'exec s:sh v:[sh,-c,echo ünïcode] v:[A=1] s:/bin:/usr/bin',
  ]);
});

test('the C decoder refuses damaged plans with a reason', { skip: needsHelper() }, () => {
  const good = encodePlan(plan);
  const cases: [Buffer, RegExp][] = [
    [good.subarray(0, good.length - 3), /truncated|malformed|trailing/],
    [Buffer.concat([good, Buffer.from([1])]), /trailing/],
    [Buffer.from(good).fill(0, 0, 4), /bad magic/],
    [encodePlan([{ op: 'hostname', name: 'x' }]), /before clone/],
    [
      encodePlan([
        { op: 'clone', flags: 0, cgroupDir: '', attached: false, detach: false },
        { op: 'clone', flags: 0, cgroupDir: '', attached: false, detach: false },
      ]),
      /second clone/,
    ],
  ];
  // an unknown op
  const unknown = Buffer.from(good);
  unknown.writeUInt16LE(999, 8);
  cases.push([unknown, /unknown op 999/]);
  // a string without its nul: corrupt the last byte of the fifo path
  const nonul = Buffer.from(good);
  nonul[8 + 8 + 4 + '/run/x/exec.fifo'.length] = 0x41;
  cases.push([nonul, /malformed/]);
  // a count that cannot fit
  const huge = Buffer.from(good);
  huge.writeUInt32LE(0x7fffffff, 4);
  cases.push([huge, /cannot fit/]);
  for (const [bytes, re] of cases) {
    const { lines, status } = decode(frame(M.PLAN, bytes));
    assert.equal(status, 1, `expected a refusal for ${re}`);
    assert.match(lines.join('\n'), re);
  }
});
