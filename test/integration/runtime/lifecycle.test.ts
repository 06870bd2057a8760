import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TestContext } from 'node:test';
import { isChrunError } from '../../../src/util/index.js';
import { defaultSpec } from '../../helpers/busybox-bundle.js';
import { repoRoot } from '../../helpers/cli.js';
import { testNoLeaks } from '../../helpers/leak-check.js';
import { fileFixture } from './fixture.js';

const { f, skip } = fileFixture();

/** Deletes the containers when the test ends, passed or failed (a failure must not cascade). */
function cleanUp(t: TestContext, ...ids: string[]): void {
  t.after(async () => {
    const left = await f.rt.list();
    for (const id of ids.filter((i) => left.includes(i)))
      await f.rt.delete(id, { force: true }).catch(() => undefined);
  });
}

testNoLeaks(
  'create waits on the exec fifo; start releases it; delete removes it',
  { skip },
  async (t) => {
    cleanUp(t, 'c1');
    const spec = defaultSpec(['sh', '-c', 'echo started > /dev/shm/x; cat /dev/shm/x; exit 3']);
    const p = await f.rt.create('c1', f.bundle, { spec, stdio: ['ignore', 'pipe', 'ignore'] });
    const st = await f.rt.state('c1');
    assert.equal(st.status, 'created');
    assert.equal(st.pid, p.pid);
    // it has not run its command: the exec fifo holds it
    await sleep(50);
    assert.equal((await f.rt.state('c1')).status, 'created');
    await assert.rejects(f.rt.delete('c1'), { code: 'CHRUN_STATE_TRANSITION' });
    await f.rt.start('c1');
    await assert.rejects(f.rt.start('c1'), (err: unknown) =>
      isChrunError(err, 'CHRUN_STATE_TRANSITION'),
    );
    const out: Buffer[] = [];
    p.stdout?.on('data', (d: Buffer) => out.push(d));
    const exit = await p.wait();
    assert.equal(exit.exitCode, 3);
    assert.equal(Buffer.concat(out).toString(), 'started\n');
    assert.equal((await f.rt.state('c1')).status, 'stopped');
    await assert.rejects(f.rt.kill('c1', 'SIGTERM'), { code: 'CHRUN_STATE_TRANSITION' });
    await f.rt.delete('c1');
    await assert.rejects(f.rt.state('c1'), { code: 'CHRUN_CONTAINER_NOT_FOUND' });
  },
);

testNoLeaks(
  'output read only after the exit is reported has all arrived when wait() resolves',
  { skip },
  async (t) => {
    cleanUp(t, 'late');
    const p = await f.rt.run('late', f.bundle, {
      spec: defaultSpec(['sh', '-c', 'echo one; echo two >&2; echo three']),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // the container has ended (run removes its record then) and its output sits in chrun's
    // buffers, not yet read
    for (let i = 0; i < 300 && (await f.rt.list()).includes('late'); i++) await sleep(10);
    assert.ok(!(await f.rt.list()).includes('late'), 'the container has ended');
    await sleep(100);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    p.stdout?.on('data', (d: Buffer) => out.push(d));
    p.stderr?.on('data', (d: Buffer) => err.push(d));
    assert.equal((await p.wait()).exitCode, 0);
    assert.equal(Buffer.concat(out).toString(), 'one\nthree\n');
    assert.equal(Buffer.concat(err).toString(), 'two\n');
  },
);

testNoLeaks('kill and delete --force of a running container', { skip }, async (t) => {
  cleanUp(t, 'c2', 'c3');
  const p = await f.rt.create('c2', f.bundle, {
    spec: defaultSpec(['sleep', '60']),
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  await f.rt.start('c2');
  assert.equal((await f.rt.state('c2')).status, 'running');
  await assert.rejects(f.rt.create('c2', f.bundle, { spec: defaultSpec(['true']) }), {
    code: 'CHRUN_CONTAINER_EXISTS',
  });
  await f.rt.kill('c2', 'KILL');
  assert.equal((await p.wait()).signal, 'SIGKILL');
  const p3 = await f.rt.create('c3', f.bundle, {
    spec: defaultSpec(['sleep', '60']),
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  await f.rt.delete('c3', { force: true });
  await p3.wait();
  await f.rt.delete('c2');
  assert.deepEqual(await f.rt.list(), []);
});

testNoLeaks(
  'exec joins a running container: same namespaces, its own process',
  { skip },
  async (t) => {
    cleanUp(t, 'c4');
    const p = await f.rt.run('c4', f.bundle, {
      spec: defaultSpec(['sleep', '60']),
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    const e = await f.rt.exec(
      'c4',
      {
        args: [
          'sh',
          '-c',
          'hostname; readlink /proc/1/ns/pid; readlink /proc/self/ns/pid; cat /proc/1/cmdline',
        ],
      },
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const out: Buffer[] = [];
    e.stdout?.on('data', (d: Buffer) => out.push(d));
    assert.equal((await e.wait()).exitCode, 0);
    const [host, ns1, nsSelf, cmd] = Buffer.concat(out).toString().split('\n');
    assert.equal(host, 'chrun-test');
    assert.equal(ns1, nsSelf, 'the exec shares the pid namespace');
    assert.equal(cmd, 'sleep\u000060\u0000');
    p.kill('SIGKILL');
    await p.wait();
  },
);

testNoLeaks('kill -9 of chrun leaves no process, mount or state behind', { skip }, async (t) => {
  // a separate node process runs a container and is killed with SIGKILL
  const script = `
    import { Runtime } from ${JSON.stringify(path.join(repoRoot, 'dist/src/runtime/index.js'))};
    import { defaultSpec } from ${JSON.stringify(path.join(repoRoot, 'dist/test/helpers/busybox-bundle.js'))};
    const rt = new Runtime({ stateDir: ${JSON.stringify(f.stateDir)} });
    const p = await rt.run('k9', ${JSON.stringify(f.bundle)}, { spec: defaultSpec(['sh', '-c', 'sleep 100 & sleep 100']), stdio: ['ignore', 'ignore', 'ignore'] });
    console.log(p.pid);
    await p.wait();`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const pid = Number(
    await new Promise<string>((res) => child.stdout.once('data', (d: Buffer) => res(d.toString()))),
  );
  t.after(() => child.kill('SIGKILL'));
  assert.ok(pid > 0);
  assert.ok(existsSync(path.join(f.stateDir, 'k9', 'state.json')));
  assert.match(readFileSync(`/proc/${pid}/cmdline`, 'utf8'), /^(sh|sleep)\0/);
  child.kill('SIGKILL');
  for (
    let i = 0;
    i < 200 && (existsSync(`/proc/${pid}`) || existsSync(path.join(f.stateDir, 'k9')));
    i++
  )
    await sleep(10);
  assert.ok(!existsSync(`/proc/${pid}`), 'the container is gone');
  assert.ok(!existsSync(path.join(f.stateDir, 'k9')), 'its state is gone');
});

testNoLeaks(
  'the process is in its cgroups before it runs, with the limits of the spec',
  { skip },
  async (t) => {
    cleanUp(t, 'cg1');
    const spec = defaultSpec(['sh', '-c', 'cat /proc/self/cgroup; exec sleep 30']);
    // without a cgroup namespace the container sees its cgroup paths as the host does
    spec.linux!.namespaces = spec.linux!.namespaces!.filter((n) => n.type !== 'cgroup');
    spec.linux!.resources = { pids: { limit: 33 }, memory: { limit: 64 * 1024 * 1024 } };
    const p = await f.rt.run('cg1', f.bundle, { spec, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    await new Promise<void>((res) =>
      p.stdout?.on('data', (d: Buffer) => {
        text += d.toString();
        if (text.includes('memory:')) res();
      }),
    );
    // the first thing the command saw: its own cgroups, not chrun's
    assert.match(text, /^\d+:pids:\/chrun\/cg1$/m);
    assert.match(text, /^\d+:memory:\/chrun\/cg1$/m);
    const pidsDir = '/sys/fs/cgroup/pids/chrun/cg1';
    assert.equal(readFileSync(`${pidsDir}/pids.max`, 'utf8').trim(), '33');
    assert.ok(readFileSync(`${pidsDir}/cgroup.procs`, 'utf8').split('\n').includes(String(p.pid)));
    p.kill('SIGKILL');
    await p.wait();
    assert.ok(!existsSync(pidsDir), 'the cgroup is removed when the container ends');
  },
);

testNoLeaks(
  'an overlay root from the snapshotter is mounted inside the container only',
  { skip },
  async (t) => {
    cleanUp(t, 'ovl');
    const base = path.join(f.dir, 'ovl');
    for (const d of ['upper', 'work', 'root']) mkdirSync(path.join(base, d), { recursive: true });
    const spec = defaultSpec([
      'sh',
      '-c',
      'echo written > /etc/new; cat /etc/new; grep " / " /proc/self/mounts',
    ]);
    spec.root = { path: path.join(base, 'root'), readonly: false };
    const p = await f.rt.run('ovl', f.bundle, {
      spec,
      stdio: ['ignore', 'pipe', 'pipe'],
      rootMounts: [
        {
          type: 'overlay',
          source: 'overlay',
          options: [
            `lowerdir=${path.join(f.bundle, 'rootfs')}`,
            `upperdir=${path.join(base, 'upper')}`,
            `workdir=${path.join(base, 'work')}`,
          ],
        },
      ],
    });
    const out: Buffer[] = [];
    p.stdout?.on('data', (d: Buffer) => out.push(d));
    assert.equal((await p.wait()).exitCode, 0);
    const text = Buffer.concat(out).toString();
    assert.match(text, /^written\noverlay \/ overlay /);
    // the write went to the container's upper layer, the image stayed as it was
    assert.equal(readFileSync(path.join(base, 'upper', 'etc', 'new'), 'utf8'), 'written\n');
    assert.ok(!existsSync(path.join(f.bundle, 'rootfs', 'etc', 'new')));
  },
);

testNoLeaks(
  'create in one process, start, state and delete from another (keep: helper)',
  { skip },
  async (t) => {
    cleanUp(t, 'kept');
    const out = path.join(f.dir, 'kept.out');
    const script = `
    import { Runtime } from ${JSON.stringify(path.join(repoRoot, 'dist/src/runtime/index.js'))};
    import { defaultSpec } from ${JSON.stringify(path.join(repoRoot, 'dist/test/helpers/busybox-bundle.js'))};
    import { openSync } from 'node:fs';
    const rt = new Runtime({ stateDir: ${JSON.stringify(f.stateDir)} });
    const fd = openSync(${JSON.stringify(out)}, 'w');
    const p = await rt.create('kept', ${JSON.stringify(f.bundle)}, { spec: defaultSpec(['sh', '-c', 'echo ran as $$']), stdio: ['ignore', fd, fd], keep: 'helper' });
    console.log(p.pid);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const pid = Number(
      await new Promise<string>((res) =>
        child.stdout.once('data', (d: Buffer) => res(d.toString())),
      ),
    );
    await new Promise((res) => child.once('exit', res));
    // the creating process is gone; the container waits on its exec fifo, held by the helper
    assert.equal((await f.rt.state('kept')).status, 'created');
    assert.equal((await f.rt.state('kept')).pid, pid);
    await f.rt.start('kept');
    for (let i = 0; i < 300 && (await f.rt.state('kept')).status !== 'stopped'; i++)
      await sleep(10);
    assert.equal((await f.rt.state('kept')).status, 'stopped');
    assert.equal(readFileSync(out, 'utf8'), 'ran as 1\n');
    await f.rt.delete('kept');
  },
);
