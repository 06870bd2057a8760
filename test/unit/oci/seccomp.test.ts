import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  DEFAULT_CAPABILITIES,
  DOCKER_DEFAULT_SECCOMP,
  kernelAtLeast,
  parseSeccompProfile,
  resolveSeccompProfile,
  seccompNativeArch,
  type LinuxSeccomp,
  type LinuxSyscall,
} from '../../../src/oci/index.js';
import { isChrunError } from '../../../src/util/index.js';

const KERNEL = '6.18.44-fc-v445';
const amd64 = (caps: readonly string[] = DEFAULT_CAPABILITIES): LinuxSeccomp =>
  resolveSeccompProfile(DOCKER_DEFAULT_SECCOMP, {
    capabilities: caps,
    arch: 'amd64',
    kernel: KERNEL,
  });
const rulesFor = (s: LinuxSeccomp, name: string): LinuxSyscall[] =>
  (s.syscalls ?? []).filter((r) => r.names.includes(name));
const allowed = (s: LinuxSeccomp, name: string): boolean =>
  rulesFor(s, name).some((r) => r.action === 'SCMP_ACT_ALLOW' && r.args === undefined);

test("docker's default profile: shape of moby/profiles default.json", () => {
  const p = DOCKER_DEFAULT_SECCOMP;
  assert.equal(p.defaultAction, 'SCMP_ACT_ERRNO');
  assert.equal(p.defaultErrnoRet, 1);
  assert.equal(p.archMap?.length, 9);
  assert.equal(p.syscalls?.length, 56);
  const first = p.syscalls[0]!.names ?? [];
  assert.equal(first.length, new Set(first).size, 'no duplicates');
  for (const n of [
    'read',
    'write',
    'execve',
    'openat2',
    'io_uring_setup',
    'mount',
    'keyctl',
    'add_key',
    'kexec_load',
  ]) {
    assert.equal(first.includes(n), ['read', 'write', 'execve', 'openat2'].includes(n), n);
  }
  // the profile round-trips through the docker-format loader unchanged
  assert.deepEqual(parseSeccompProfile(JSON.stringify(p), 'default'), p);
});

test('resolved for amd64 with the default capabilities', () => {
  const s = amd64();
  assert.deepEqual(s.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  assert.equal(s.defaultAction, 'SCMP_ACT_ERRNO');
  assert.equal(s.defaultErrnoRet, 1);
  for (const name of ['read', 'arch_prctl', 'modify_ldt', 'ptrace', 'chroot'])
    assert.ok(allowed(s, name), name);
  for (const name of [
    'mount',
    'unshare',
    'setns',
    'bpf',
    'reboot',
    'init_module',
    'sync_file_range2',
    's390_runtime_instr',
    'open_by_handle_at',
  ]) {
    assert.ok(!allowed(s, name), name);
  }
  // clone: only without namespace flags; clone3: ENOSYS so libc falls back to clone
  assert.deepEqual(rulesFor(s, 'clone'), [
    {
      names: ['clone'],
      action: 'SCMP_ACT_ALLOW',
      args: [{ index: 0, value: 2114060288, op: 'SCMP_CMP_MASKED_EQ' }],
    },
  ]);
  assert.deepEqual(rulesFor(s, 'clone3'), [
    { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
  ]);
  // personality: the five values docker allows
  assert.deepEqual(
    rulesFor(s, 'personality').map((r) => r.args?.[0]?.value),
    [0, 8, 131072, 131080, 4294967295],
  );
  // socket: AF_UNIX..AF_ROSE as one rule, then each family but AF_ALG (38) and AF_VSOCK (40)
  const socket = rulesFor(s, 'socket');
  assert.deepEqual(socket[0]!.args, [{ index: 0, value: 12, op: 'SCMP_CMP_LT' }]);
  const families = socket.slice(1).map((r) => r.args![0]!.value);
  assert.ok(families.includes(16) && families.includes(17), 'netlink and packet');
  assert.ok(!families.includes(38) && !families.includes(40));
  assert.equal(s.syscalls!.length, 38);
});

test('capability-conditional rules follow the container capabilities', () => {
  const admin = amd64([...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN']);
  for (const name of ['mount', 'unshare', 'setns', 'clone', 'clone3', 'bpf'])
    assert.ok(allowed(admin, name), name);
  assert.equal(rulesFor(admin, 'clone3').length, 1, 'no ENOSYS rule with CAP_SYS_ADMIN');
  const ptrace = amd64([...DEFAULT_CAPABILITIES, 'CAP_SYS_PTRACE']);
  for (const name of ['kcmp', 'pidfd_getfd', 'process_madvise'])
    assert.ok(allowed(ptrace, name), name);
  const noChroot = amd64(DEFAULT_CAPABILITIES.filter((c) => c !== 'CAP_SYS_CHROOT'));
  assert.ok(!allowed(noChroot, 'chroot'));
  assert.ok(allowed(amd64([...DEFAULT_CAPABILITIES, 'CAP_BPF']), 'bpf'));
});

test('architecture- and kernel-conditional rules', () => {
  const s390 = resolveSeccompProfile(DOCKER_DEFAULT_SECCOMP, {
    capabilities: DEFAULT_CAPABILITIES,
    arch: 's390x',
    kernel: KERNEL,
  });
  assert.deepEqual(s390.architectures, ['SCMP_ARCH_S390X', 'SCMP_ARCH_S390']);
  assert.deepEqual(
    rulesFor(s390, 'clone')[0]?.args?.[0]?.index,
    1,
    's390 has flags in the second argument',
  );
  assert.ok(allowed(s390, 's390_runtime_instr'));
  assert.ok(!allowed(s390, 'arch_prctl'));
  const arm64 = resolveSeccompProfile(DOCKER_DEFAULT_SECCOMP, {
    capabilities: DEFAULT_CAPABILITIES,
    arch: 'arm64',
    kernel: KERNEL,
  });
  assert.deepEqual(arm64.architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
  assert.ok(allowed(arm64, 'cacheflush'));
  const old = resolveSeccompProfile(DOCKER_DEFAULT_SECCOMP, {
    capabilities: DEFAULT_CAPABILITIES,
    arch: 'amd64',
    kernel: '4.4.0',
  });
  assert.ok(!allowed(old, 'ptrace'), 'ptrace only from 4.8 without CAP_SYS_PTRACE');
  assert.equal(seccompNativeArch('x64'), 'amd64');
  assert.equal(seccompNativeArch('arm64'), 'arm64');
  assert.ok(kernelAtLeast('4.8.0', '4.8'));
  assert.ok(kernelAtLeast('5.0-rc1', '4.8'));
  assert.ok(!kernelAtLeast('4.7.10', '4.8'));
});

const err = (re: RegExp) => (e: unknown) =>
  isChrunError(e, 'CHRUN_INVALID_ARGUMENT') && re.test(e.message);

test('a user profile: archMap, name, includes and excludes', () => {
  const p = parseSeccompProfile(
    JSON.stringify({
      defaultAction: 'SCMP_ACT_ALLOW',
      archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86'] }],
      syscalls: [
        { name: 'mkdir', action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
        { names: ['chmod'], action: 'SCMP_ACT_ERRNO', excludes: { caps: ['CAP_FOWNER'] } },
        { names: ['reboot'], action: 'SCMP_ACT_KILL_PROCESS', includes: { arches: ['arm64'] } },
        {
          names: ['write'],
          action: 'SCMP_ACT_ERRNO',
          args: [{ index: 0, value: 99, op: 'SCMP_CMP_EQ' }],
          comment: 'x',
        },
      ],
      unknownField: true,
    }),
    'p.json',
  );
  assert.ok(p !== undefined);
  const s = resolveSeccompProfile(p, {
    capabilities: ['CAP_FOWNER'],
    arch: 'amd64',
    kernel: KERNEL,
  });
  assert.deepEqual(s, {
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'],
    syscalls: [
      { names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
      {
        names: ['write'],
        action: 'SCMP_ACT_ERRNO',
        args: [{ index: 0, value: 99, op: 'SCMP_CMP_EQ' }],
      },
    ],
  });
  assert.equal(
    parseSeccompProfile('{}', 'off.json'),
    undefined,
    'an empty profile turns seccomp off',
  );
});

test('invalid profiles get one clear line', () => {
  const parse = (doc: unknown): unknown =>
    parseSeccompProfile(typeof doc === 'string' ? doc : JSON.stringify(doc), 'p.json');
  assert.throws(() => parse('{nope'), err(/^load seccomp profile p.json: invalid JSON: /));
  assert.throws(() => parse([]), err(/want a JSON object/));
  assert.throws(
    () => parse({ defaultAction: 'SCMP_ACT_MAYBE' }),
    err(/defaultAction: unknown action "SCMP_ACT_MAYBE"/),
  );
  assert.throws(
    () =>
      parse({
        defaultAction: 'SCMP_ACT_ERRNO',
        architectures: ['SCMP_ARCH_X86_64'],
        archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: null }],
      }),
    err(
      /both 'architectures' and 'archMap' are specified in the seccomp profile, use either 'architectures' or 'archMap'/,
    ),
  );
  assert.throws(
    () =>
      parse({
        defaultAction: 'SCMP_ACT_ERRNO',
        syscalls: [{ name: 'a', names: ['b'], action: 'SCMP_ACT_ALLOW' }],
      }),
    err(/syscalls\[0\]: both 'name' and 'names' are specified/),
  );
  assert.throws(
    () => parse({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ action: 'SCMP_ACT_ALLOW' }] }),
    err(/syscalls\[0\]: no syscall 'names'/),
  );
  assert.throws(
    () =>
      parse({
        defaultAction: 'SCMP_ACT_ERRNO',
        syscalls: [
          {
            names: ['x'],
            action: 'SCMP_ACT_ALLOW',
            args: [{ index: 6, value: 0, op: 'SCMP_CMP_EQ' }],
          },
        ],
      }),
    err(/syscalls\[0\].args\[0\].index: a syscall has arguments 0 to 5/),
  );
  assert.throws(
    () =>
      parse({
        defaultAction: 'SCMP_ACT_ERRNO',
        syscalls: [
          { names: ['x'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0, op: 'EQ' }] },
        ],
      }),
    err(/unknown operator "EQ"/),
  );
  assert.throws(
    () => parse({ defaultAction: 'SCMP_ACT_ERRNO', architectures: ['x86_64'] }),
    err(/architectures: unknown value "x86_64"/),
  );
  assert.throws(
    () =>
      parse({
        defaultAction: 'SCMP_ACT_ERRNO',
        syscalls: [{ names: ['x'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '4' } }],
      }),
    err(/invalid kernel version "4", expected "<kernel>.<major>"/),
  );
  assert.throws(
    () => parse({ syscalls: [{ names: ['x'], action: 'SCMP_ACT_ALLOW' }] }),
    err(/defaultAction: unknown action undefined/),
  );
});

const PODMAN = '/usr/share/containers/seccomp.json';
test(
  "podman's profile (Debian containers-common), an independent docker-format file",
  { skip: !existsSync(PODMAN) && 'no podman profile' },
  () => {
    const p = parseSeccompProfile(readFileSync(PODMAN, 'utf8'), PODMAN);
    assert.ok(p !== undefined);
    const s = resolveSeccompProfile(p, {
      capabilities: DEFAULT_CAPABILITIES,
      arch: 'amd64',
      kernel: KERNEL,
    });
    assert.deepEqual(s.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
    const allows = (n: string): boolean =>
      (s.syscalls ?? []).some((r) => r.names.includes(n) && r.action === 'SCMP_ACT_ALLOW');
    assert.ok(allows('read') && allows('arch_prctl'));
    assert.ok(!allows('init_module'));
    // most of what docker allows unconditionally, podman allows too
    const ours = DOCKER_DEFAULT_SECCOMP.syscalls![0]!.names!;
    const shared = ours.filter(allows).length;
    assert.ok(shared / ours.length > 0.8, `${shared} of ${ours.length}`);
  },
);
