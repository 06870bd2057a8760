// The library's container start: create+start+wait of `true` in one Node process (no CLI
// start-up), side by side with `runc run` on the same bundle (crun, as Debian ships it,
// refuses this hybrid cgroup host) and
// `bwrap --unshare-all` on the same root, then containers per second one after another.
//   npm run build && node dist/bench/runtime.js [--runs N] [--warmup N] [--json FILE]
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Runtime } from '../src/runtime/index.js';
import { busyboxBundle, defaultSpec } from '../test/helpers/busybox-bundle.js';
import { benchMain, type Prepared } from './cli.js';
import type { Subject } from './harness.js';

let seq = 0;

async function prepare(): Promise<Prepared> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chrun-bench-rt-'));
  const bundle = path.join(dir, 'bundle');
  const spec = defaultSpec(['true']);
  await busyboxBundle(bundle, spec);
  // runc and crun: the same config.json (one run at a time; ids reused after delete)
  await writeFile(path.join(bundle, 'config.json'), JSON.stringify(spec));
  const rootfs = path.join(bundle, 'rootfs');
  const rt = new Runtime({
    stateDir: path.join(dir, 'state'),
    seccompCacheDir: path.join(dir, 'seccomp'),
  });
  const run = async (): Promise<void> => {
    const p = await rt.run(`b${seq++}`, bundle, { spec, stdio: ['ignore', 'inherit', 'inherit'] });
    const st = await p.wait();
    if (st.exitCode !== 0) throw new Error(`container exited ${st.exitCode}`);
  };
  const subjects: Subject[] = [
    { name: 'chrun library run', fn: run },
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
      // throughput: containers one after another for two seconds
      const t0 = performance.now();
      let n = 0;
      while (performance.now() - t0 < 2000) {
        await run();
        n++;
      }
      const secs = (performance.now() - t0) / 1000;
      console.log(
        `chrun library: ${(n / secs).toFixed(1)} containers/s one after another (${n} in ${secs.toFixed(2)} s)`,
      );
      await rm(dir, { recursive: true, force: true });
    },
  };
}

const result = await benchMain({
  title: 'runtime: create+start+wait of `true`, library vs runc, bwrap',
  defaults: { runs: 30, warmup: 3, baseline: 'runc run' },
  prepare,
});
if (result !== undefined) {
  const median = (name: string): number | undefined =>
    result.subjects.find((s) => s.name === name)?.median;
  for (const peer of ['runc run', 'bwrap --unshare-all']) {
    const a = median('chrun library run');
    const b = median(peer);
    if (a !== undefined && b !== undefined)
      console.log(`chrun library run / ${peer}: ${(a / b).toFixed(2)}`);
  }
}
