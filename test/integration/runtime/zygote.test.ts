import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before } from 'node:test';
import { Runtime } from '../../../src/runtime/index.js';
import { closeZygotes } from '../../../src/sys/index.js';
import { isChrunError } from '../../../src/util/index.js';
import { defaultSpec } from '../../helpers/busybox-bundle.js';
import { repoRoot } from '../../helpers/cli.js';
import { testNoLeaks } from '../../helpers/leak-check.js';
import { needsRoot } from '../../helpers/requirements.js';
import { fixture, type Fixture } from './fixture.js';

let f: Fixture;
let rt: Runtime;
const skip = needsRoot();
before(async () => {
  if (skip) return;
  f = await fixture();
  rt = new Runtime({ stateDir: f.stateDir, zygote: true });
});
after(async () => {
  if (!skip) await f.cleanup();
});

/** The pids of this process's children running `chrun-helper zygote`. */
function zygoteChildren(): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        return (
          ppid === process.pid && readFileSync(`/proc/${d}/cmdline`, 'utf8').endsWith('\0zygote\0')
        );
      } catch {
        return false;
      }
    })
    .map(Number);
}

testNoLeaks(
  'warm() starts the zygote ahead; the next container is forked from it',
  { skip },
  async (t) => {
    t.after(() => closeZygotes());
    closeZygotes();
    for (let i = 0; i < 100 && zygoteChildren().length > 0; i++) await sleep(10);
    assert.deepEqual(zygoteChildren(), [], 'no zygote yet');
    new Runtime({ stateDir: f.stateDir }).warm(); // without zygote: nothing
    assert.deepEqual(zygoteChildren(), []);
    rt.warm();
    const [zygote] = zygoteChildren();
    assert.ok(zygote !== undefined, 'the zygote runs before any container');
    const p = await rt.run('zw', f.bundle, {
      spec: defaultSpec(['sh', '-c', 'exit 5']),
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    assert.deepEqual(zygoteChildren(), [zygote], 'the same zygote, no second one');
    assert.equal((await p.wait()).exitCode, 5);
  },
);

testNoLeaks(
  'containers forked by the zygote: statuses, step errors, concurrency',
  { skip },
  async (t) => {
    t.after(() => closeZygotes());
    const run = async (args: string[]): Promise<number> => {
      const p = await rt.run(`z${Math.random().toString(36).slice(2, 9)}`, f.bundle, {
        spec: defaultSpec(args),
        stdio: ['ignore', 'ignore', 'ignore'],
      });
      return (await p.wait()).exitCode;
    };
    assert.deepEqual(
      await Promise.all([run(['true']), run(['sh', '-c', 'exit 7']), run(['false'])]),
      [0, 7, 1],
    );
    await assert.rejects(run(['/nonexistent']), (err: unknown) =>
      isChrunError(err, 'CHRUN_EXEC_NOT_FOUND'),
    );
    const p = await rt.run('zk', f.bundle, {
      spec: defaultSpec(['sleep', '30']),
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    p.kill('SIGKILL');
    assert.equal((await p.wait()).signal, 'SIGKILL');
    // 20 one after another through the same zygote
    for (let i = 0; i < 20; i++) assert.equal(await run(['true']), 0);
  },
);

testNoLeaks(
  'kill -9 of chrun with a zygote leaves no process, cgroup or state behind',
  { skip },
  async (t) => {
    const script = `
    import { Runtime } from ${JSON.stringify(path.join(repoRoot, 'dist/src/runtime/index.js'))};
    import { defaultSpec } from ${JSON.stringify(path.join(repoRoot, 'dist/test/helpers/busybox-bundle.js'))};
    const rt = new Runtime({ stateDir: ${JSON.stringify(f.stateDir)}, zygote: true });
    const p = await rt.run('zk9', ${JSON.stringify(f.bundle)}, { spec: defaultSpec(['sleep', '100']), stdio: ['ignore', 'ignore', 'ignore'] });
    console.log(p.pid);
    await p.wait();`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    t.after(() => child.kill('SIGKILL'));
    const pid = Number(
      await new Promise<string>((res) =>
        child.stdout.once('data', (d: Buffer) => res(d.toString())),
      ),
    );
    assert.ok(existsSync(`/proc/${pid}`));
    child.kill('SIGKILL');
    for (
      let i = 0;
      i < 300 && (existsSync(`/proc/${pid}`) || existsSync(path.join(f.stateDir, 'zk9')));
      i++
    )
      await sleep(10);
    assert.ok(!existsSync(`/proc/${pid}`), 'the container is gone');
    assert.ok(!existsSync(path.join(f.stateDir, 'zk9')), 'its state is gone');
  },
);
