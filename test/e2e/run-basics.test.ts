import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { busyboxLayer } from '../helpers/image-builder.js';
import { testNoLeaks } from '../helpers/leak-check.js';
import { fileRunEnv } from '../helpers/run-env.js';

/*
 * `chrun run` through bin/chrun: stdio, exit codes, the image's config and the flags that
 * override it, names and records, mounts. Every test under the leak checker.
 */

const { env, opts } = fileRunEnv(async (e) => {
  await e.load('app:1', [busyboxLayer({ applets: 'all' })], {
    Entrypoint: ['/bin/sh', '-c'],
    Cmd: ['echo "$GREETING from $(pwd) as $(id -un) home $HOME"'],
    Env: ['GREETING=hello', 'PATH=/bin'],
    WorkingDir: '/srv/app',
    User: 'user',
  });
});

function oneLine(stderr: string): string {
  const lines = stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line on stderr: ${stderr}`);
  return lines[0]!;
}

testNoLeaks("stdio passes through and the exit code is the container's", opts, async () => {
  const r = await env.chrun(
    ['run', '--rm', '-i', 'busybox', 'sh', '-c', 'cat; echo to-stderr >&2; exit 3'],
    { input: 'hello\nworld\n' },
  );
  assert.equal(r.code, 3, r.stderr);
  assert.equal(r.stdout, 'hello\nworld\n');
  assert.equal(r.stderr, 'to-stderr\n');
  // without -i the container's stdin is empty
  const closed = await env.chrun(['run', '--rm', 'busybox', 'sh', '-c', 'cat; echo end'], {
    input: 'not for the container',
  });
  assert.equal(closed.code, 0, closed.stderr);
  assert.equal(closed.stdout, 'end\n');
  // options after the image are the container's
  const passed = await env.chrun(['run', '--rm', 'busybox', 'echo', '-n', '--rm', '-v']);
  assert.equal(passed.stdout, '--rm -v');
});

testNoLeaks('125, 126 and 127 with the reason, and nothing kept with --rm', opts, async () => {
  const notFound = await env.chrun(['run', '--rm', 'busybox', '/usr/bin/foo']);
  assert.equal(notFound.code, 127);
  assert.equal(oneLine(notFound.stderr), 'chrun: exec /usr/bin/foo: no such file or directory');
  const notInPath = await env.chrun(['run', '--rm', 'busybox', 'nosuchcommand']);
  assert.equal(notInPath.code, 127);
  assert.match(oneLine(notInPath.stderr), /^chrun: exec nosuchcommand: no such file or directory$/);
  const notExec = await env.chrun(['run', '--rm', 'busybox', '/etc/passwd']);
  assert.equal(notExec.code, 126);
  assert.equal(oneLine(notExec.stderr), 'chrun: exec /etc/passwd: permission denied');
  const badFlag = await env.chrun(['run', '--rm', '--memory', '1k', 'busybox', 'true']);
  assert.equal(badFlag.code, 125);
  assert.equal(oneLine(badFlag.stderr), 'chrun: minimum memory limit allowed is 6MB');
  const noImage = await env.chrun(['run', '--rm', '--pull', 'never', 'nosuch', 'true']);
  assert.equal(noImage.code, 125);
  assert.equal(oneLine(noImage.stderr), 'chrun: no such image: nosuch');
  const unknown = await env.chrun(['run', '--bogus', 'busybox']);
  assert.equal(unknown.code, 125);
  assert.match(oneLine(unknown.stderr), /unknown option '--bogus'/);
  assert.equal((await env.chrun(['ps', '-a', '-q'])).stdout, '');
});

testNoLeaks('a container that could not start is kept as created, like docker', opts, async () => {
  const r = await env.chrun(['run', '--name', 'broken', 'busybox', '/nope']);
  assert.equal(r.code, 127);
  const ps = await env.chrun(['ps', '-a', '--format', 'json']);
  const row = JSON.parse(ps.stdout) as { Names: string; State: string; Status: string };
  assert.deepEqual([row.Names, row.State, row.Status], ['broken', 'created', 'Created']);
  assert.equal((await env.chrun(['rm', 'broken'])).code, 0);
});

testNoLeaks(
  "the image's Entrypoint, Cmd, Env, WorkingDir and User, then overridden",
  opts,
  async () => {
    const plain = await env.chrun(['run', '--rm', 'app:1']);
    assert.equal(plain.code, 0, plain.stderr);
    // WorkingDir /srv/app is not in the image: it is created
    assert.equal(plain.stdout, 'hello from /srv/app as user home /home/user\n');
    const envFile = path.join(env.dir, 'app.env');
    await writeFile(envFile, '# greeting\nGREETING=from-file\nOTHER=1\n');
    const over = await env.chrun([
      'run',
      '--rm',
      '--env-file',
      envFile,
      '-e',
      'GREETING=bye',
      '-w',
      '/tmp/work',
      '-u',
      'root',
      'app:1',
      'echo "$GREETING $OTHER from $(pwd) as $(id -un) home $HOME"',
    ]);
    assert.equal(over.stdout, 'bye 1 from /tmp/work as root home /root\n', over.stderr);
    const fileOnly = await env.chrun(['run', '--rm', '--env-file', envFile, 'app:1']);
    assert.equal(fileOnly.stdout, 'from-file from /srv/app as user home /home/user\n');
    // A missing env file is chrun's error, not node's: Node 20 looks for its own --env-file
    // anywhere on its command line (bin/chrun's shebang ends node's options with --).
    const none = path.join(env.dir, 'none.env');
    for (const flag of [['--env-file', none], [`--env-file=${none}`]]) {
      const missing = await env.chrun(['run', '--rm', ...flag, 'app:1']);
      assert.equal(missing.code, 125, missing.stderr);
      assert.equal(missing.stderr, `chrun: open ${none}: no such file or directory\n`);
    }
    // --entrypoint replaces the Entrypoint and clears the Cmd
    const ep = await env.chrun(['run', '--rm', '--entrypoint', '/bin/echo', 'app:1', 'a', 'b']);
    assert.equal(ep.stdout, 'a b\n');
    const cleared = await env.chrun(['run', '--rm', '--entrypoint', '', 'app:1', 'id']);
    assert.equal(cleared.stdout, 'uid=1000(user) gid=1000(user) groups=1000(user)\n');
    const group = await env.chrun([
      'run',
      '--rm',
      '-u',
      'user:disk',
      '--entrypoint',
      'id',
      'app:1',
    ]);
    assert.equal(group.stdout, 'uid=1000(user) gid=6(disk) groups=6(disk)\n');
    const numeric = await env.chrun(['run', '--rm', '-u', '4242', 'busybox', 'id']);
    assert.equal(numeric.stdout, 'uid=4242 gid=0(root) groups=0(root)\n');
    const missing = await env.chrun(['run', '--rm', '-u', 'nosuch', 'busybox', 'id']);
    assert.equal(missing.code, 125);
    assert.equal(
      oneLine(missing.stderr),
      'chrun: unable to find user nosuch: no matching entries in passwd file',
    );
    const environment = await env.chrun(['run', '--rm', '-t', '-h', 'box1', 'busybox', 'env']);
    // exactly docker's: PATH (the image's), HOSTNAME, TERM with -t, HOME from /etc/passwd
    assert.deepEqual(environment.stdout.replace(/\r/g, '').trim().split('\n').sort(), [
      'HOME=/root',
      'HOSTNAME=box1',
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      'TERM=xterm',
    ]);
  },
);

testNoLeaks(
  'names, hostnames, ps -a, rm, and rmi refused while a container uses the image',
  opts,
  async (t) => {
    t.after(() => env.chrun(['rm', '-f', 'keep1']));
    const r = await env.chrun([
      'run',
      '--name',
      'keep1',
      '-h',
      'myhost',
      'busybox',
      'sh',
      '-c',
      'hostname; cat /etc/hostname; exit 4',
    ]);
    assert.equal(r.code, 4, r.stderr);
    assert.equal(r.stdout, 'myhost\nmyhost\n');
    const taken = await env.chrun(['run', '--name', 'keep1', 'busybox', 'true']);
    assert.equal(taken.code, 125);
    assert.match(
      oneLine(taken.stderr),
      /^chrun: the container name "\/keep1" is already in use by container "[0-9a-f]{64}"/,
    );
    const ps = await env.chrun(['ps', '-a']);
    const lines = ps.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+NAMES$/);
    assert.equal(lines.length, 2);
    assert.match(
      lines[1]!,
      /^[0-9a-f]{12}\s+busybox\s+"sh -c hostname; cat…"\s+.* ago\s+Exited \(4\) .* ago\s+keep1$/,
    );
    assert.equal((await env.chrun(['ps'])).stdout.trimEnd().split('\n').length, 1, 'not running');
    const rmi = await env.chrun(['rmi', 'busybox']);
    assert.equal(rmi.code, 125);
    assert.match(
      oneLine(rmi.stderr),
      /^chrun: unable to remove repository reference "busybox" \(must force\) - container keep1 is using its referenced image [0-9a-f]{12}$/,
    );
    const rm = await env.chrun(['rm', 'keep1']);
    assert.equal(rm.code, 0, rm.stderr);
    assert.equal(rm.stdout, 'keep1\n');
    assert.equal((await env.chrun(['ps', '-aq'])).stdout, '');
    const again = await env.chrun(['rm', 'keep1']);
    assert.equal(again.code, 125);
    assert.equal(oneLine(again.stderr), 'chrun: no such container: keep1');
  },
);

testNoLeaks(
  '-v binds (rw, ro, created when missing), --tmpfs, --read-only, writes stay in the container',
  opts,
  async () => {
    const data = path.join(env.dir, 'data');
    await mkdir(data, { recursive: true });
    await writeFile(path.join(data, 'f'), 'from the host\n');
    const created = path.join(env.dir, 'made', 'by', 'v');
    const r = await env.chrun([
      'run',
      '--rm',
      '-v',
      `${data}:/data`,
      '-v',
      `${data}:/ro:ro`,
      '-v',
      `${created}:/made`,
      '--tmpfs',
      '/scratch:size=1m',
      'busybox',
      'sh',
      '-c',
      'cat /data/f; echo new > /data/new; (echo x > /ro/y) 2>/dev/null; echo ro=$?; ' +
        'grep " /scratch " /proc/mounts | cut -d" " -f3,4; touch /made/here',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      'from the host\nro=1\ntmpfs rw,nosuid,nodev,noexec,relatime,size=1024k\n',
    );
    assert.equal(await readFile(path.join(data, 'new'), 'utf8'), 'new\n');
    assert.ok(!existsSync(path.join(data, 'y')));
    assert.ok(existsSync(path.join(created, 'here')));
    const ro = await env.chrun([
      'run',
      '--rm',
      '--read-only',
      '--tmpfs',
      '/tmp',
      'busybox',
      'sh',
      '-c',
      '(touch /x) 2>&1; touch /tmp/ok && echo tmp-ok',
    ]);
    assert.equal(ro.stdout, 'touch: /x: Read-only file system\ntmp-ok\n', ro.stderr);
    const write = await env.chrun(['run', '--rm', 'busybox', 'sh', '-c', 'echo a > /etc/written']);
    assert.equal(write.code, 0);
    const read = await env.chrun(['run', '--rm', 'busybox', 'cat', '/etc/written']);
    assert.equal(read.code, 1, 'a container never sees what another wrote');
    const bad = await env.chrun(['run', '--rm', '-v', 'named:/x', 'busybox', 'true']);
    assert.equal(bad.code, 125);
    assert.match(oneLine(bad.stderr), /named volumes are not supported yet/);
  },
);

testNoLeaks(
  '--init puts a reaper in as PID 1; --network none has lo only, up; host has the host network',
  opts,
  async () => {
    const init = await env.chrun([
      'run',
      '--rm',
      '--init',
      'busybox',
      'sh',
      '-c',
      'echo $$; cat /proc/1/comm',
    ]);
    assert.equal(init.code, 0, init.stderr);
    const [shPid, oneComm] = init.stdout.trim().split('\n');
    assert.notEqual(shPid, '1', 'the command is not PID 1');
    assert.notEqual(oneComm, 'sh');
    const plain = await env.chrun(['run', '--rm', 'busybox', 'sh', '-c', 'echo $$']);
    assert.equal(plain.stdout, '1\n');
    const none = await env.chrun([
      'run',
      '--rm',
      'busybox',
      'sh',
      '-c',
      'ip -o link | cut -d" " -f2,3',
    ]);
    assert.equal(none.stdout, 'lo: <LOOPBACK,UP,LOWER_UP>\n', none.stderr);
    const host = await env.chrun([
      'run',
      '--rm',
      '--network',
      'host',
      'busybox',
      'sh',
      '-c',
      'ip -o link | wc -l; hostname',
    ]);
    const [links, hostname] = host.stdout.trim().split('\n');
    assert.ok(Number(links) >= 1);
    const { hostname: hostName } = await import('node:os');
    assert.equal(hostname, hostName());
  },
);
