import assert from 'node:assert/strict';
import { lstat, mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import {
  DockerConfig,
  authKey,
  isLoopbackRegistry,
  registryEndpoints,
} from '../../../src/registry/index.js';
import { tempDir } from '../../helpers/temp.js';

test('credentials are read from auths (base64 auth or fields), matching docker key spellings', async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  const file = path.join(dir.path, 'config.json');
  await writeFile(
    file,
    JSON.stringify({
      auths: {
        'https://index.docker.io/v1/': { auth: Buffer.from('hubuser:hub:pass').toString('base64') },
        'http://localhost:5000/v2/': { auth: Buffer.from('local:pw').toString('base64') },
        'registry.example.com': { username: 'u', password: 'p' },
      },
      psFormat: 'keep me',
    }),
  );
  const cfg = new DockerConfig(file);
  assert.deepEqual(await cfg.get('docker.io'), { username: 'hubuser', password: 'hub:pass' });
  assert.deepEqual(await cfg.get('localhost:5000'), { username: 'local', password: 'pw' });
  assert.deepEqual(await cfg.get('registry.example.com'), { username: 'u', password: 'p' });
  assert.equal(await cfg.get('other.example.com'), undefined);
});

test('login and logout write the file with mode 0600 and keep other settings', async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  const file = path.join(dir.path, 'sub', 'config.json');
  const cfg = new DockerConfig(file);
  assert.equal(await cfg.get('localhost:5000'), undefined);
  await cfg.set('localhost:5000', { username: 'a', password: 'b' });
  await cfg.set('docker.io', { username: 'c', password: 'd' });
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  const doc = JSON.parse(await readFile(file, 'utf8')) as {
    auths: Record<string, { auth: string }>;
  };
  assert.deepEqual(Object.keys(doc.auths).sort(), [
    'https://index.docker.io/v1/',
    'localhost:5000',
  ]);
  assert.equal(Buffer.from(doc.auths['localhost:5000']!.auth, 'base64').toString(), 'a:b');
  await writeFile(file, JSON.stringify({ ...doc, credsStore: '', detachKeys: 'ctrl-x' }));
  assert.equal(await cfg.remove('localhost:5000'), true);
  assert.equal(await cfg.remove('localhost:5000'), false);
  const after = JSON.parse(await readFile(file, 'utf8')) as { auths: object; detachKeys: string };
  assert.deepEqual(Object.keys(after.auths), ['https://index.docker.io/v1/']);
  assert.equal(after.detachKeys, 'ctrl-x');
  assert.equal((await stat(file)).mode & 0o777, 0o600);
});

test('a damaged config file is a clear error', async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  const file = path.join(dir.path, 'config.json');
  await writeFile(file, '{nope');
  await assert.rejects(new DockerConfig(file).get('x'), /config\.json: not valid JSON/);
});

test('endpoints: docker.io maps to registry-1, loopback gets plain HTTP as a fallback', () => {
  assert.equal(authKey('docker.io'), 'https://index.docker.io/v1/');
  assert.deepEqual(registryEndpoints('docker.io'), [
    { base: 'https://registry-1.docker.io', tlsVerify: true },
  ]);
  assert.deepEqual(registryEndpoints('quay.io'), [{ base: 'https://quay.io', tlsVerify: true }]);
  for (const host of ['localhost:5000', '127.0.0.1:5000', '127.1.2.3', '[::1]:5000', 'localhost']) {
    assert.ok(isLoopbackRegistry(host), host);
    assert.deepEqual(
      registryEndpoints(host).map((e) => e.base.split('://')[0]),
      ['https', 'http'],
      host,
    );
  }
  for (const host of ['128.0.0.1:5000', 'example.com', '[::2]:5000', 'localhost.example.com']) {
    assert.ok(!isLoopbackRegistry(host), host);
  }
  assert.deepEqual(registryEndpoints('example.com:5000', false), [
    { base: 'https://example.com:5000', tlsVerify: false },
    { base: 'http://example.com:5000', tlsVerify: false },
  ]);
});

test('credential helpers (credsStore, credHelpers) are asked first, auths is the fallback', async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  const helper = path.join(dir.path, 'docker-credential-fake');
  await writeFile(
    helper,
    '#!/bin/sh\n[ "$1" = get ] || exit 2\nread server\ncase "$server" in\n  localhost:7000) echo \'{"ServerURL":"localhost:7000","Username":"h","Secret":"s3"}\' ;;\n  *) echo "credentials not found in native keychain"; exit 1 ;;\nesac\n',
    { mode: 0o755 },
  );
  const oldPath = process.env.PATH;
  process.env.PATH = `${dir.path}:${oldPath ?? ''}`;
  t.after(() => {
    process.env.PATH = oldPath;
  });
  const file = path.join(dir.path, 'config.json');
  await writeFile(
    file,
    JSON.stringify({
      credsStore: 'fake',
      auths: { 'other:1': { auth: Buffer.from('o:p').toString('base64') } },
    }),
  );
  const cfg = new DockerConfig(file);
  assert.deepEqual(await cfg.get('localhost:7000'), { username: 'h', password: 's3' });
  assert.equal(await cfg.get('localhost:7001'), undefined);
  assert.deepEqual(await cfg.get('other:1'), { username: 'o', password: 'p' });
  await writeFile(file, JSON.stringify({ credHelpers: { 'localhost:7000': 'fake' } }));
  assert.deepEqual(await new DockerConfig(file).get('localhost:7000'), {
    username: 'h',
    password: 's3',
  });
  await writeFile(file, JSON.stringify({ credHelpers: { 'localhost:7000': 'missing-helper' } }));
  await assert.rejects(
    new DockerConfig(file).get('localhost:7000'),
    /docker-credential-missing-helper/,
  );
});

test('login writes through a symlinked config.json (the link stays, its target changes)', async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  const dotfiles = path.join(dir.path, 'dotfiles');
  const home = path.join(dir.path, 'home', '.docker');
  await mkdir(dotfiles, { recursive: true });
  await mkdir(home, { recursive: true });
  const target = path.join(dotfiles, 'docker.json');
  await writeFile(target, JSON.stringify({ detachKeys: 'ctrl-x' }), { mode: 0o644 });
  // A relative chain: config.json -> link2 -> ../../dotfiles/docker.json
  await symlink('link2', path.join(home, 'config.json'));
  await symlink('../../dotfiles/docker.json', path.join(home, 'link2'));
  const cfg = new DockerConfig(path.join(home, 'config.json'));
  await cfg.set('localhost:5000', { username: 'a', password: 'b' });
  assert.ok((await lstat(path.join(home, 'config.json'))).isSymbolicLink());
  assert.ok((await lstat(path.join(home, 'link2'))).isSymbolicLink());
  const doc = JSON.parse(await readFile(target, 'utf8')) as { detachKeys: string; auths: object };
  assert.equal(doc.detachKeys, 'ctrl-x');
  assert.deepEqual(Object.keys(doc.auths), ['localhost:5000']);
  assert.equal((await stat(target)).mode & 0o777, 0o600);
  assert.deepEqual(await cfg.get('localhost:5000'), { username: 'a', password: 'b' });
  assert.deepEqual(await readdir(home), ['config.json', 'link2']);

  // A dangling link: its target is created, the link kept.
  const dangling = path.join(dir.path, 'dangling.json');
  await symlink(path.join(dotfiles, 'new', 'made.json'), dangling);
  await new DockerConfig(dangling).set('localhost:5001', { username: 'c', password: 'd' });
  assert.ok((await lstat(dangling)).isSymbolicLink());
  assert.equal((await stat(path.join(dotfiles, 'new', 'made.json'))).mode & 0o777, 0o600);
});

async function fakeStoreHelper(
  dir: string,
  t: { after: (fn: () => void) => void },
): Promise<string> {
  // A docker-credential-helpers look-alike keeping one file per server in dir/secrets.
  const helper = path.join(dir, 'docker-credential-vault');
  const secrets = path.join(dir, 'secrets');
  await mkdir(secrets);
  await writeFile(
    helper,
    `#!/bin/sh
set -e
in=$(cat)
case "$1" in
  store)
    case "$in" in *'"Username":"refuse"'*) echo "keychain locked"; exit 1 ;; esac
    key=$(printf %s "$in" | sed 's/.*"ServerURL":"\\([^"]*\\)".*/\\1/' | tr '/:' '__')
    printf %s "$in" > "${secrets}/$key" ;;
  get)
    key=$(printf %s "$in" | tr '/:' '__')
    [ -f "${secrets}/$key" ] || { echo "credentials not found in native keychain"; exit 1; }
    cat "${secrets}/$key" ;;
  erase)
    key=$(printf %s "$in" | tr '/:' '__')
    [ -f "${secrets}/$key" ] || { echo "credentials not found in native keychain"; exit 1; }
    rm "${secrets}/$key" ;;
  *) exit 2 ;;
esac
`,
    { mode: 0o755 },
  );
  const oldPath = process.env.PATH;
  process.env.PATH = `${dir}:${oldPath ?? ''}`;
  t.after(() => {
    process.env.PATH = oldPath;
  });
  return secrets;
}

test('with credsStore or credHelpers, login stores the secret in the helper, never in the file', async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  const secrets = await fakeStoreHelper(dir.path, t);
  const file = path.join(dir.path, 'config.json');
  await writeFile(file, JSON.stringify({ credsStore: 'vault' }));
  const cfg = new DockerConfig(file);
  await cfg.set('localhost:5000', { username: 'u', password: 'secret-pw' });
  await cfg.set('docker.io', { username: 'hub', password: 'hub-pw' });
  const text = await readFile(file, 'utf8');
  assert.ok(!text.includes('secret-pw') && !text.includes('"auth"'), text);
  const doc = JSON.parse(text) as { credsStore: string; auths: Record<string, object> };
  assert.equal(doc.credsStore, 'vault');
  assert.deepEqual(doc.auths, { 'localhost:5000': {}, 'https://index.docker.io/v1/': {} });
  assert.deepEqual((await readdir(secrets)).sort(), [
    'https___index.docker.io_v1_',
    'localhost_5000',
  ]);
  assert.deepEqual(await cfg.get('localhost:5000'), { username: 'u', password: 'secret-pw' });
  assert.deepEqual(await cfg.get('docker.io'), { username: 'hub', password: 'hub-pw' });

  // A helper that refuses: the error names it and the file is unchanged.
  await assert.rejects(
    cfg.set('localhost:6000', { username: 'refuse', password: 'x' }),
    /docker-credential-vault store: keychain locked/,
  );
  assert.equal(await readFile(file, 'utf8'), text);

  assert.equal(await cfg.remove('localhost:5000'), true);
  assert.deepEqual(await readdir(secrets), ['https___index.docker.io_v1_']);
  assert.equal(await cfg.get('localhost:5000'), undefined);
  assert.equal(await cfg.remove('localhost:5000'), false);

  // credHelpers for one registry: that registry's secret goes to the helper only.
  await writeFile(file, JSON.stringify({ credHelpers: { 'localhost:7000': 'vault' } }));
  await cfg.set('localhost:7000', { username: 'v', password: 'helper-pw' });
  await cfg.set('localhost:7001', { username: 'p', password: 'plain-pw' });
  const mixed = JSON.parse(await readFile(file, 'utf8')) as { auths: Record<string, object> };
  assert.deepEqual(mixed.auths['localhost:7000'], {});
  assert.equal(
    Buffer.from((mixed.auths['localhost:7001'] as { auth: string }).auth, 'base64').toString(),
    'p:plain-pw',
  );
  assert.deepEqual(await cfg.get('localhost:7000'), { username: 'v', password: 'helper-pw' });
});
