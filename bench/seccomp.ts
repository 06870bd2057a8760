// Loading docker's default seccomp profile in a container: libseccomp building the filter
// from the rules in every container, against the BPF program chrun compiled once (with the
// helper's `seccomp-export`) and loads as bytes. Prints the step's own time (from the
// helper's per-step timings) and the whole run, medians over the runs.
//   npm run build && node dist/bench/seccomp.js [--runs N] [--warmup N]
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { applyContainerSecurity, containerSecurity } from '../src/oci/index.js';
import { Runtime } from '../src/runtime/index.js';
import { closeZygotes } from '../src/sys/index.js';
import { busyboxBundle, defaultSpec } from '../test/helpers/busybox-bundle.js';
import { benchMain, type Prepared } from './cli.js';
import type { Subject } from './harness.js';

let seq = 0;
const stepUsec = new Map<string, number[]>();

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

async function prepare(): Promise<Prepared> {
  const spec = applyContainerSecurity(
    defaultSpec(['true']),
    containerSecurity({ kernel: os.release() }),
  );
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chrun-bench-seccomp-'));
  const bundle = path.join(dir, 'bundle');
  await busyboxBundle(bundle, spec);
  const state = path.join(dir, 'state');
  const subject = (name: string, cache: boolean): Subject => {
    const rt = new Runtime({ stateDir: state, zygote: true, seccompCache: cache, cgroups: false });
    return {
      name,
      fn: async () => {
        const p = await rt.run(`s${seq++}`, bundle, {
          spec,
          stdio: ['ignore', 'inherit', 'inherit'],
        });
        if ((await p.wait()).exitCode !== 0) throw new Error('container failed');
        const step = p.explain().find((s) => s.what.startsWith('load seccomp filter'));
        if (step?.usec !== undefined)
          stepUsec.set(name, [...(stepUsec.get(name) ?? []), step.usec]);
      },
    };
  };
  return {
    subjects: [subject('cached bpf', true), subject('libseccomp per container', false)],
    dispose: async () => {
      closeZygotes();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

const result = await benchMain({
  title: "seccomp: docker's default profile, cached BPF vs libseccomp in each container",
  defaults: { runs: 30, warmup: 3, baseline: 'libseccomp per container' },
  prepare,
});
if (result !== undefined) {
  for (const [name, v] of stepUsec) {
    console.log(
      `${name}: the seccomp step took ${median(v).toFixed(0)} us (median of ${v.length})`,
    );
  }
}
