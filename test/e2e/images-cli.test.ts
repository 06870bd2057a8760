import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { buildImage, busyboxLayer, writeDockerArchive } from '../helpers/image-builder.js';
import {
  dirFor,
  fixtureImage,
  leaks,
  registryFor,
  seededImage,
} from '../helpers/image-fixtures.js';
import { testNoLeaks } from '../helpers/leak-check.js';
import { needsCommands } from '../helpers/requirements.js';
import { runChrun, type CliResult } from '../helpers/cli.js';

const run = promisify(execFile);
const opts = { skip: needsCommands('docker-registry', 'skopeo'), leaks };

/** A failure as the issue wants it: exit 125, one line on stderr starting "chrun: ". */
function assertOneLineError(res: CliResult, pattern: RegExp, what: string): void {
  assert.equal(res.code, 125, `${what}: exit ${res.code}\n${res.stderr}`);
  const lines = res.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `${what}: ${res.stderr}`);
  assert.match(lines[0]!, /^chrun: /, what);
  assert.match(lines[0]!, pattern, what);
}

testNoLeaks('pull, images, inspect, tag, push, rmi through bin/chrun', opts, async (t) => {
  const { reg, dir, img, digest } = await seededImage(t, 'test/app:v1', {
    spec: {
      layers: [
        { compression: 'gzip', bytes: 50_000 },
        { compression: 'zstd', bytes: 50_000 },
      ],
    },
  });
  const root = path.join(dir, 'root');
  const ref = `${reg.host}/test/app:v1`;

  const pull = await runChrun(['pull', ref], { root });
  assert.equal(pull.code, 0, pull.stderr);
  const lines = pull.stdout.trimEnd().split('\n');
  assert.equal(lines[0], 'v1: Pulling from test/app');
  for (const l of img.layers)
    assert.ok(lines.includes(`${l.digest.slice(7, 19)}: Pull complete`), pull.stdout);
  assert.ok(lines.includes(`Digest: ${digest}`), pull.stdout);
  assert.ok(lines.includes(`Status: Downloaded newer image for ${ref}`), pull.stdout);
  assert.equal(lines.at(-1), ref);
  const again = await runChrun(['pull', '-q', ref], { root });
  assert.equal(again.stdout, `${ref}\n`);
  const verbose = await runChrun(['image', 'pull', ref], { root });
  assert.match(verbose.stdout, /Status: Image is up to date for /);
  // A new name for an image already here: no layer is fetched, but the name is new, so
  // docker says "Downloaded newer image"; and no tag given means "Using default tag".
  await reg.seed(img.source, 'test/app:latest');
  const byDefault = await runChrun(['pull', `${reg.host}/test/app`], { root });
  assert.equal(byDefault.code, 0, byDefault.stderr);
  const defaultLines = byDefault.stdout.trimEnd().split('\n');
  assert.deepEqual(defaultLines.slice(0, 2), [
    'Using default tag: latest',
    'latest: Pulling from test/app',
  ]);
  for (const l of img.layers) {
    assert.ok(defaultLines.includes(`${l.digest.slice(7, 19)}: Already exists`), byDefault.stdout);
  }
  assert.deepEqual(defaultLines.slice(-3), [
    `Digest: ${digest}`,
    `Status: Downloaded newer image for ${reg.host}/test/app:latest`,
    `${reg.host}/test/app:latest`,
  ]);
  const byDigest = await runChrun(['pull', `${reg.host}/test/app@${digest}`], { root });
  assert.deepEqual(byDigest.stdout.trimEnd().split('\n').slice(-2), [
    `Status: Image is up to date for ${reg.host}/test/app@${digest}`,
    `${reg.host}/test/app@${digest}`,
  ]);
  assert.equal(
    (await runChrun(['rmi', `${reg.host}/test/app:latest`], { root })).stdout,
    `Untagged: ${reg.host}/test/app:latest\n`,
  );

  const images = await runChrun(['images'], { root });
  const [header, row] = images.stdout.trimEnd().split('\n');
  assert.match(header!, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
  const id = JSON.parse(
    await readFile(path.join(img.dir, 'blobs', 'sha256', img.manifestDigest.slice(7)), 'utf8'),
  ) as { config: { digest: string } };
  assert.match(
    row!,
    new RegExp(
      `^${reg.host}/test/app\\s+v1\\s+${id.config.digest.slice(7, 19)}\\s+\\S.* ago\\s+\\d`,
    ),
  );
  const json = await runChrun(['images', '--format', 'json'], { root });
  const parsed = JSON.parse(json.stdout) as {
    Repository: string;
    Tag: string;
    ID: string;
    Digest: string;
  };
  assert.deepEqual(
    [parsed.Repository, parsed.Tag, parsed.ID, parsed.Digest],
    [`${reg.host}/test/app`, 'v1', id.config.digest.slice(7, 19), digest],
  );
  assert.equal(
    (await runChrun(['images', '-q'], { root })).stdout,
    `${id.config.digest.slice(7, 19)}\n`,
  );
  assert.equal(
    (await runChrun(['image', 'ls', '-q', '--no-trunc'], { root })).stdout,
    `${id.config.digest}\n`,
  );

  const inspect = await runChrun(['inspect', ref], { root });
  const doc = JSON.parse(inspect.stdout) as {
    Id: string;
    RepoTags: string[];
    RootFS: { Layers: string[] };
  }[];
  assert.equal(doc[0]!.Id, id.config.digest);
  assert.deepEqual(doc[0]!.RepoTags, [ref]);
  assert.deepEqual(
    doc[0]!.RootFS.Layers,
    img.layers.map((l) => l.diffId),
  );
  const f = await runChrun(['image', 'inspect', '-f', '{{.Id}} {{.Os}} {{json .RepoTags}}', ref], {
    root,
  });
  assert.equal(f.stdout, `${id.config.digest} linux ["${ref}"]\n`);

  assert.equal((await runChrun(['tag', ref, `${reg.host}/copy/app:2`], { root })).code, 0);
  const push = await runChrun(['push', `${reg.host}/copy/app:2`], { root });
  assert.equal(push.code, 0, push.stderr);
  assert.match(
    push.stdout,
    new RegExp(`^The push refers to repository \\[${reg.host}/copy/app\\]`),
  );
  assert.match(push.stdout, new RegExp(`2: digest: ${digest} size: \\d+`));
  assert.deepEqual(await reg.tags('copy/app'), ['2']);
  const chunked = await runChrun(
    ['push', '-q', '--chunk-size', '20k', '--no-mount', ref, `${reg.host}/chunked/app:3`],
    { root },
  );
  assert.equal(chunked.code, 0, chunked.stderr);
  assert.equal(chunked.stdout, '');
  assert.deepEqual(await reg.tags('chunked/app'), ['3']);

  const untag = await runChrun(['rmi', `${reg.host}/copy/app:2`], { root });
  // The push recorded copy/app@digest; with the repository's last tag it goes too (docker).
  assert.equal(
    untag.stdout,
    `Untagged: ${reg.host}/copy/app:2\nUntagged: ${reg.host}/copy/app@${digest}\n`,
  );
  const rmi = await runChrun(['rmi', ref], { root });
  assert.match(rmi.stdout, new RegExp(`^Untagged: ${reg.host}/test/app:v1\\n`));
  assert.match(rmi.stdout, new RegExp(`Deleted: ${id.config.digest}\\n$`));
  assert.equal((await runChrun(['images', '-q'], { root })).stdout, '');
});

testNoLeaks(
  'save, load, import, image prune, login and logout through bin/chrun',
  opts,
  async (t) => {
    const auth = { username: 'dave', password: 'pw2' };
    const reg = await registryFor(t, { auth });
    const dir = await dirFor(t);
    const root = path.join(dir, 'root');
    const image = await buildImage({ layers: [busyboxLayer()], config: { Cmd: ['/bin/sh'] } });
    await writeDockerArchive(path.join(dir, 'in.tar'), image, ['busybox:e2e']);
    const load = await runChrun(['load', '-i', path.join(dir, 'in.tar')], { root });
    assert.equal(load.stdout, 'Loaded image: busybox:e2e\n', load.stderr);
    const fromStdin = await runChrun(['image', 'load', '-q'], {
      root,
      input: await readFile(path.join(dir, 'in.tar')),
    });
    assert.equal(fromStdin.code, 0, fromStdin.stderr);

    for (const format of ['docker-archive', 'oci-archive']) {
      const out = path.join(dir, `out-${format}.tar`);
      const save = await runChrun(['save', '--format', format, '-o', out, 'busybox:e2e'], { root });
      assert.equal(save.code, 0, save.stderr);
      assert.ok((await stat(out)).size > 100_000);
      const other = path.join(dir, `other-${format}`);
      const back = await runChrun(['load', '-i', out], { root: other });
      assert.equal(back.stdout, 'Loaded image: busybox:e2e\n', back.stderr);
    }
    const toStdout = await runChrun(['save', 'busybox:e2e'], { root });
    assert.equal(toStdout.code, 0);
    assert.ok(toStdout.stdout.length > 0);

    await writeFile(path.join(dir, 'rootfs.tar'), image.layers[0]!.tar);
    const imp = await runChrun(
      [
        'import',
        '-c',
        'CMD ["/bin/sh"]',
        '-c',
        'ENV A=1',
        path.join(dir, 'rootfs.tar'),
        'imported:1',
      ],
      { root },
    );
    assert.match(imp.stdout, /^sha256:[0-9a-f]{64}\n$/);
    const impStdin = await runChrun(['import', '-'], { root, input: image.layers[0]!.tar });
    assert.match(impStdin.stdout, /^sha256:[0-9a-f]{64}\n$/);
    const cfg = await runChrun(['inspect', '-f', '{{json .Config}}', 'imported:1'], { root });
    assert.equal(cfg.stdout, '{"Cmd":["/bin/sh"],"Env":["A=1"]}\n');

    const prune = await runChrun(['image', 'prune', '-f'], { root });
    assert.equal(prune.code, 0, prune.stderr);
    assert.match(
      prune.stdout,
      /^Deleted Images:\ndeleted: sha256:[0-9a-f]{64}\n\nTotal reclaimed space: /,
    );
    const pruneAll = await runChrun(['image', 'prune', '-a', '-f'], { root });
    assert.match(pruneAll.stdout, /untagged: busybox:e2e/);
    assert.equal((await runChrun(['images', '-q'], { root })).stdout, '');

    const authfile = path.join(dir, 'auth', 'config.json');
    const bad = await runChrun(
      ['login', '-u', 'dave', '--password-stdin', '--authfile', authfile, reg.host],
      { root, input: 'wrong\n' },
    );
    assertOneLineError(bad, /incorrect username or password/, 'login with a wrong password');
    const good = await runChrun(
      ['login', '-u', 'dave', '--password-stdin', '--authfile', authfile, reg.host],
      { root, input: 'pw2\n' },
    );
    assert.equal(good.stdout, 'Login Succeeded\n', good.stderr);
    assert.equal((await stat(authfile)).mode & 0o777, 0o600);
    const img = await fixtureImage(path.join(dir, 'layout'), 'v1');
    await reg.seed(img.source, 'private/app:1');
    const pull = await runChrun(
      ['pull', '-q', '--authfile', authfile, `${reg.host}/private/app:1`],
      { root },
    );
    assert.equal(pull.code, 0, pull.stderr);
    assert.equal(
      (await runChrun(['logout', '--authfile', authfile, reg.host], { root })).stdout,
      `Removing login credentials for ${reg.host}\n`,
    );
    assert.equal(
      (await runChrun(['logout', '--authfile', authfile, reg.host], { root })).stdout,
      `Not logged in to ${reg.host}\n`,
    );
    const denied = await runChrun(
      ['pull', '-q', '--authfile', authfile, `${reg.host}/private/app:1`],
      { root: path.join(dir, 'r2') },
    );
    assertOneLineError(denied, /run chrun login|unauthorized/, 'pull without credentials');
  },
);

testNoLeaks(
  'bad input: one line on stderr naming what is wrong, exit 125, the store unchanged',
  opts,
  async (t) => {
    const reg = await registryFor(t);
    const dir = await dirFor(t);
    const root = path.join(dir, 'root');
    const img = await fixtureImage(path.join(dir, 'layout'), 'v1');
    await reg.seed(img.source, 'test/app:v1');
    await writeFile(path.join(dir, 'junk.tar'), 'junk'.repeat(500));
    const cases: [string[], RegExp][] = [
      [
        ['pull', 'Bad:x'],
        /invalid reference "Bad:x": repository name "library\/Bad" must be lowercase/,
      ],
      [['pull', 'ok:-tag'], /invalid tag "-tag"/],
      [['pull', `${reg.host}/test/app@sha256:123`], /invalid digest "sha256:123"/],
      [
        ['pull', `${reg.host}/test/app:nope`],
        new RegExp(`${reg.host}/test/app:nope: manifest unknown`),
      ],
      [['pull', `${reg.host}/no/such:1`], new RegExp(`${reg.host}/no/such:1: `)],
      [['pull', '127.0.0.1:1/x:1'], /registry 127\.0\.0\.1:1 is not reachable: connection refused/],
      [['pull', '--platform', 'linux', 'x'], /invalid platform "linux"/],
      [
        ['pull', '--platform', 'linux/s390x', `${reg.host}/test/app:v1`],
        /is for linux\/amd64, not linux\/s390x/,
      ],
      [['pull', '--tls-verify=maybe', 'x'], /"maybe" is not true or false/],
      [['rmi', 'nothere'], /no such image: nothere/],
      [['rmi', 'Bad'], /invalid reference "Bad"/],
      [['tag', 'nothere', 'x:1'], /no such image: nothere/],
      [['inspect', 'nothere'], /no such image: nothere/],
      // The template is checked before any image is looked up, as docker does.
      [['inspect', '-f', '{{range .X}}', 'nothere'], /template parsing error: unsupported action/],
      [['inspect', '-f', '{{.Id', 'nothere'], /^chrun: template parsing error: unclosed action$/],
      [['push', 'nothere:1'], /no such image: nothere:1/],
      [['load', '-i', path.join(dir, 'missing.tar')], /no such file or directory/],
      [['load', '-i', path.join(dir, 'junk.tar')], /archive/],
      [['save', '-o', path.join(dir, 'out.tar'), 'nothere'], /no such image: nothere/],
      [['save', '--format', 'zip', 'x'], /argument 'zip' is invalid/],
      [['import', path.join(dir, 'missing.tar')], /no such file or directory/],
      [['import', path.join(dir, 'junk.tar'), 'x:1'], /import: not a tar archive/],
      [['import', '-c', 'RUN make', path.join(dir, 'junk.tar')], /RUN is not supported/],
      [['images', '--format', 'xml'], /argument 'xml' is invalid/],
      [['login', '-u', 'x', reg.host], /give a password/],
    ];
    for (const [args, pattern] of cases) {
      assertOneLineError(await runChrun(args, { root }), pattern, args.join(' '));
    }
    // Nothing of the failures is in the store.
    assert.equal((await runChrun(['images', '-q'], { root })).stdout, '');
    const blobs = await run('find', [path.join(root, 'content', 'blobs'), '-type', 'f']).catch(
      () => ({ stdout: '' }),
    );
    assert.equal(blobs.stdout, '');
    // The junk import's layer was collected, as was the save's temp file.
    assert.equal(
      (await run('find', [dir, '-name', '.out.tar*']).catch(() => ({ stdout: '' }))).stdout,
      '',
    );
  },
);

testNoLeaks(
  'pull on a terminal draws the layers in place',
  { skip: needsCommands('docker-registry', 'skopeo', 'script'), leaks },
  async (t) => {
    const { reg, dir, img } = await seededImage(t, 'test/tty:1', {
      spec: {
        layers: [{ compression: 'gzip', bytes: 2_000_000 }],
      },
    });
    const { chrunBin } = await import('../helpers/cli.js');
    const cmd = `${chrunBin} --root ${path.join(dir, 'root')} pull ${reg.host}/test/tty:1`;
    const { stdout } = await run('script', ['-qec', cmd, '/dev/null'], {
      env: { ...process.env, COLUMNS: '100' },
    });
    const id = img.layers[0]!.digest.slice(7, 19);
    assert.ok(stdout.includes('\x1b[2K'), 'lines are cleared and redrawn');
    assert.match(stdout, new RegExp(`\\x1b\\[2K${id}: Pull complete`));
    assert.match(stdout, new RegExp(`${reg.host}/test/tty:1\\r?\\n$`));
  },
);

testNoLeaks(
  'login on a terminal asks for what is missing, the password without echo',
  { skip: needsCommands('docker-registry', 'script'), leaks },
  async (t) => {
    const reg = await registryFor(t, { auth: { username: 'erin', password: 'sesame' } });
    const dir = await dirFor(t);
    const authfile = path.join(dir, 'config.json');
    const { chrunBin } = await import('../helpers/cli.js');
    const cmd = `${chrunBin} --root ${path.join(dir, 'root')} login --authfile ${authfile} ${reg.host}`;
    const child = execFile('script', ['-qec', cmd, '/dev/null']);
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    const waitFor = async (text: string): Promise<void> => {
      for (let i = 0; i < 200 && !out.includes(text); i++)
        await new Promise((r) => setTimeout(r, 25));
      assert.ok(out.includes(text), `waited for "${text}", got: ${out}`);
    };
    await waitFor('Username: ');
    child.stdin?.write('erin\r');
    await waitFor('Password: ');
    child.stdin?.write('sesame\r');
    await new Promise((r) => child.once('exit', r));
    assert.match(out, /Login Succeeded/);
    assert.ok(!out.includes('sesame'), 'the password is not echoed');
    const saved = JSON.parse(await readFile(authfile, 'utf8')) as {
      auths: Record<string, { auth: string }>;
    };
    assert.equal(Buffer.from(saved.auths[reg.host]!.auth, 'base64').toString(), 'erin:sesame');
  },
);
