// The library's container start: create+start+wait of `true` in one Node process (no CLI
// start-up; helpers forked by the zygote, cgroups made and removed per container), side by
// side with `runc run` on the same bundle and `bwrap --unshare-all` on the same root. Also
// with the helper spawned per container, and without cgroups (bwrap makes none). Then
// containers per second, one after another and four at a time. (crun, as Debian ships it,
// refuses this hybrid cgroup host.)
//   npm run build && node dist/bench/runtime.js [--runs N] [--warmup N] [--json FILE]
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Runtime } from '../src/runtime/index.js';
import { closeZygotes } from '../src/sys/index.js';
import { busyboxBundle, defaultSpec } from '../test/helpers/busybox-bundle.js';
import { benchMain, type Prepared } from './cli.js';
import type { Subject } from './harness.js';

let seq = 0;

async function prepare(): Promise<Prepared> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chrun-bench-rt-'));
  const bundle = path.join(dir, 'bundle');
  const spec = defaultSpec(['true']);
  await busyboxBundle(bundle, spec); // config.json for runc: the same spec
  const rootfs = path.join(bundle, 'rootfs');
  const state = path.join(dir, 'state');
  const runner = (rt: Runtime) => async (): Promise<void> => {
    const p = await rt.run(`b${seq++}`, bundle, { spec, stdio: ['ignore', 'inherit', 'inherit'] });
    const st = await p.wait();
    if (st.exitCode !== 0) throw new Error(`container exited ${st.exitCode}`);
  };
  const run = runner(new Runtime({ stateDir: state, zygote: true }));
  const spawned = runner(new Runtime({ stateDir: state }));
  const noCgroups = runner(new Runtime({ stateDir: state, zygote: true, cgroups: false }));
  const subjects: Subject[] = [
    { name: 'chrun library run', fn: run },
    { name: 'chrun library run, helper spawned', fn: spawned },
    { name: 'chrun library run, no cgroups', fn: noCgroups },
    {
      name: 'runc run',
      argv: ['runc', '--root', path.join(dir, 'runc'), 'run', '--bundle', bundle, 'bench-runc'],
    },
    {
      name: 'bwrap --unshare-all',
      argv: [
        'bwrap',
        '--unshare-all',
        '--die-with-parent',
        '--ro-bind',
        rootfs,
        '/',
        '--proc',
        '/proc',
        '--dev',
        '/dev',
        '--tmpfs',
        '/tmp',
        '--hostname',
        'chrun-test',
        '/bin/true',
      ],
    },
  ];
  return {
    subjects,
    dispose: async () => {
      for (const [name, fn] of [
        ['chrun library run', run],
        ['chrun library run, no cgroups', noCgroups],
      ] as const) {
        for (const parallel of [1, 4]) {
          const t0 = performance.now();
          let n = 0;
          await Promise.all(
            Array.from({ length: parallel }, async () => {
              while (performance.now() - t0 < 2000) {
                await fn();
                n++;
              }
            }),
          );
          const secs = (performance.now() - t0) / 1000;
          console.log(
            `${name}: ${(n / secs).toFixed(1)} containers/s, ${parallel} at a time (${n} in ${secs.toFixed(2)} s)`,
          );
        }
      }
      closeZygotes();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

const result = await benchMain({
  title: 'runtime: create+start+wait of `true`, library vs runc and bwrap',
  defaults: { runs: 30, warmup: 3, baseline: 'runc run' },
  prepare,
});
if (result !== undefined) {
  const median = (name: string): number | undefined =>
    result.subjects.find((s) => s.name === name)?.median;
  const pairs: [string, string][] = [
    ['chrun library run', 'runc run'],
    ['chrun library run', 'bwrap --unshare-all'],
    ['chrun library run, no cgroups', 'bwrap --unshare-all'],
    ['chrun library run, helper spawned', 'runc run'],
  ];
  for (const [x, y] of pairs) {
    const a = median(x);
    const b = median(y);
    if (a !== undefined && b !== undefined) console.log(`${x} / ${y}: ${(a / b).toFixed(2)}`);
  }
}
