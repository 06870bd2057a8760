import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import { CgroupDriver } from '../../../src/cgroups/index.js';
import {
  DEFAULT_CAPABILITIES,
  applyContainerSecurity,
  boundingSetFromStatus,
  capabilityMask,
  containerSecurity,
  parseProcLimits,
  resolveRlimits,
  resourcesFromFlags,
  type ContainerSecurityOptions,
  type Spec,
} from '../../../src/oci/index.js';
import { Runtime } from '../../../src/runtime/index.js';
import { busyboxBundle, defaultSpec } from '../../helpers/busybox-bundle.js';
import { testNoLeaks } from '../../helpers/leak-check.js';
import { needsRoot } from '../../helpers/requirements.js';

/*
 * The security defaults and the cgroup driver through the real runtime and kernel: docker's
 * seccomp profile, capabilities, masked and read-only paths, rlimits, and cgroup limits with
 * an OOM kill and a fork loop.
 */

const skip = needsRoot();
let dir: string;
let bundle: string;
let rt: Runtime;
let n = 0;

before(async () => {
  if (skip) return;
  dir = await mkdtemp(path.join(os.tmpdir(), 'chrun-sec-'));
  bundle = await busyboxBundle(path.join(dir, 'bundle'), defaultSpec(['true']));
  rt = new Runtime({
    stateDir: path.join(dir, 'state'),
    seccompCacheDir: path.join(dir, 'seccomp'),
    cgroups: new CgroupDriver(),
  });
});
after(async () => {
  if (!skip) await rm(dir, { recursive: true, force: true });
});

const host = {
  availableCapabilities: boundingSetFromStatus(readFileSync('/proc/self/status', 'utf8')),
  kernel: os.release(),
};

async function run(
  script: string,
  security: ContainerSecurityOptions = {},
  edit: (s: Spec) => void = () => undefined,
): Promise<{ stdout: string; stderr: string; exitCode: number; oomKilled: boolean }> {
  let spec = defaultSpec(['sh', '-c', script]);
  spec = applyContainerSecurity(spec, containerSecurity({ ...host, ...security }));
  spec.process!.rlimits = resolveRlimits({
    host: parseProcLimits(readFileSync('/proc/self/limits', 'utf8')),
    canRaise: host.availableCapabilities.includes('CAP_SYS_RESOURCE'),
  });
  edit(spec);
  const p = await rt.run(`sec${process.pid}-${++n}`, bundle, {
    spec,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  p.stdout?.on('data', (d: Buffer) => out.push(d));
  p.stderr?.on('data', (d: Buffer) => err.push(d));
  const st = await p.wait();
  return {
    stdout: Buffer.concat(out).toString(),
    stderr: Buffer.concat(err).toString(),
    exitCode: st.exitCode,
    oomKilled: st.oomKilled,
  };
}

const probe = [
  "grep -E '^(CapEff|CapBnd|Seccomp|NoNewPrivs):' /proc/self/status",
  'unshare -U true 2>/dev/null && echo unshare-ok || echo unshare-denied',
  'mount -t tmpfs t /mnt 2>/dev/null && echo mount-ok || echo mount-denied',
  // masked by /dev/null: /proc/interrupts (docker's newest entry) and /proc/timer_list
  'echo masked=$(cat /proc/interrupts /proc/timer_list | wc -c)',
  '(echo 1 > /proc/sys/kernel/sysrq) 2>/dev/null && echo sysctl-ok || echo sysctl-denied',
  'ulimit -n; ulimit -Hn',
].join('; ');

testNoLeaks(
  "docker's defaults: capabilities, seccomp, no_new_privs, masked and read-only /proc",
  { skip },
  async () => {
    const r = await run(probe);
    assert.equal(r.exitCode, 0, r.stderr);
    const want = capabilityMask(DEFAULT_CAPABILITIES).toString(16).padStart(16, '0');
    const hard = parseProcLimits(readFileSync('/proc/self/limits', 'utf8')).get(
      'RLIMIT_NOFILE',
    )!.hard;
    assert.equal(
      r.stdout,
      [
        `CapEff:\t${want}`,
        `CapBnd:\t${want}`,
        'NoNewPrivs:\t1',
        'Seccomp:\t2',
        'unshare-denied', // docker's profile: unshare only with CAP_SYS_ADMIN
        'mount-denied',
        'masked=0',
        'sysctl-denied', // /proc/sys read-only
        '1024',
        String(Math.min(524288, hard)),
        '',
      ].join('\n'),
    );
  },
);

testNoLeaks(
  'seccomp=unconfined lets the same container unshare a user namespace',
  { skip },
  async () => {
    const r = await run('unshare -U true && echo unshare-ok', { seccomp: { kind: 'unconfined' } });
    assert.equal(r.stdout, 'unshare-ok\n', r.stderr);
  },
);

testNoLeaks(
  '--privileged: every available capability, no seccomp, nothing masked, rw /sys',
  { skip },
  async () => {
    const r = await run(
      "grep -E '^(CapEff|Seccomp|NoNewPrivs):' /proc/self/status; echo interrupts=$(grep -c CPU0 /proc/interrupts); grep ' /sys ' /proc/self/mounts | cut -d' ' -f4 | cut -d, -f1",
      { privileged: true },
    );
    assert.equal(r.exitCode, 0, r.stderr);
    const want = capabilityMask(host.availableCapabilities).toString(16).padStart(16, '0');
    assert.equal(r.stdout, `CapEff:\t${want}\nNoNewPrivs:\t0\nSeccomp:\t0\ninterrupts=1\nrw\n`);
  },
);

testNoLeaks('--memory 16m: a memory hog is OOM-killed, exit 137, reported', { skip }, async () => {
  const { resources } = resourcesFromFlags(
    { memory: '16m', memorySwap: '16m' },
    { cpus: os.availableParallelism() },
  );
  const r = await run('exec dd if=/dev/zero of=/dev/null bs=64M count=1', {}, (s) => {
    s.linux!.resources = { ...s.linux!.resources, ...resources };
  });
  assert.equal(r.exitCode, 137);
  assert.equal(r.oomKilled, true);
});

testNoLeaks('--pids-limit 10: a fork loop stops at the limit', { skip }, async () => {
  const { resources } = resourcesFromFlags(
    { pidsLimit: '10' },
    { cpus: os.availableParallelism() },
  );
  const r = await run(
    'i=0; while [ $i -lt 40 ]; do sleep 30 & i=$((i+1)); done; echo forked-all',
    {},
    (s) => {
      s.linux!.resources = { ...s.linux!.resources, ...resources };
    },
  );
  assert.match(r.stderr, /can't fork: Resource temporarily unavailable/);
  assert.doesNotMatch(r.stdout, /forked-all/);
  assert.equal(r.oomKilled, false);
});
