import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
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

test('credential helpers (credsStore, credHelpers) are asked when auths has nothing', async (t) => {
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
