import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  familiarName,
  familiarString,
  formatReference,
  parseReference,
  referenceName,
} from '../../../src/oci/index.js';
import { isChrunError } from '../../../src/util/index.js';

// The cases below are distribution/reference's own tests (normalize_test.go), which Docker's
// CLI relies on, plus the normalization Docker applies when pulling (TagNameOnly).

const D64 = 'dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c';

test('valid repository names parse', () => {
  for (const name of [
    'docker/docker',
    'library/debian',
    'debian',
    'docker.io/docker/docker',
    'docker.io/library/debian',
    'docker.io/debian',
    'index.docker.io/docker/docker',
    'index.docker.io/library/debian',
    'index.docker.io/debian',
    '127.0.0.1:5000/docker/docker',
    '127.0.0.1:5000/library/debian',
    '127.0.0.1:5000/debian',
    '192.168.0.1',
    '192.168.0.1:80',
    '192.168.0.1:8/debian',
    '192.168.0.2:25000/debian',
    'thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev',
    '[fc00::1]:5000/docker',
    '[fc00::1]:5000/docker/docker',
    '[fc00:1:2:3:4:5:6:7]:5000/library/debian',
    'docker.io/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a',
    'Docker/docker',
    'DOCKER/docker',
    'docker-rules/docker',
    'docker---rules/docker',
    'doc/docker',
    'd/docker',
    'jess/t',
    'dock__er/docker',
  ]) {
    assert.doesNotThrow(() => parseReference(name), name);
  }
});

test('invalid repository names are refused with CHRUN_INVALID_REFERENCE', () => {
  for (const name of [
    'https://github.com/docker/docker',
    'docker/Docker',
    '-docker',
    '-docker/docker',
    '-docker.io/docker/docker',
    'docker///docker',
    'docker.io/docker/Docker',
    'docker.io/docker///docker',
    '[fc00::1]',
    '[fc00::1]:5000',
    'fc00::1:5000/debian',
    '[fe80::1%eth0]:5000/debian',
    '[2001:db8:3:4::192.0.2.33]:5000/debian',
    '1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a',
    'docker-/docker',
    '-docker-/docker',
    '____/____',
    '_docker/_docker',
    'dock..er/docker',
    'dock_.er/docker',
    'dock-.er/docker',
    'docker/',
    '',
    'redis:',
    'redis@',
    'redis:-bad',
    `${'this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_'.repeat(4)}/docker`,
  ]) {
    assert.throws(
      () => parseReference(name),
      (err) => isChrunError(err, 'CHRUN_INVALID_REFERENCE'),
      name,
    );
  }
});

test('familiar, full and ambiguous spellings normalize alike (TestParseRepositoryInfo)', () => {
  const cases: {
    remote: string;
    familiar: string;
    full: string;
    ambiguous?: string;
    domain: string;
  }[] = [
    {
      remote: 'fooo/bar',
      familiar: 'fooo/bar',
      full: 'docker.io/fooo/bar',
      ambiguous: 'index.docker.io/fooo/bar',
      domain: 'docker.io',
    },
    {
      remote: 'library/ubuntu',
      familiar: 'ubuntu',
      full: 'docker.io/library/ubuntu',
      ambiguous: 'library/ubuntu',
      domain: 'docker.io',
    },
    {
      remote: 'nonlibrary/ubuntu',
      familiar: 'nonlibrary/ubuntu',
      full: 'docker.io/nonlibrary/ubuntu',
      domain: 'docker.io',
    },
    {
      remote: 'other/library',
      familiar: 'other/library',
      full: 'docker.io/other/library',
      domain: 'docker.io',
    },
    {
      remote: 'private/moonbase',
      familiar: '127.0.0.1:8000/private/moonbase',
      full: '127.0.0.1:8000/private/moonbase',
      domain: '127.0.0.1:8000',
    },
    {
      remote: 'privatebase',
      familiar: '127.0.0.1:8000/privatebase',
      full: '127.0.0.1:8000/privatebase',
      domain: '127.0.0.1:8000',
    },
    {
      remote: 'private/moonbase',
      familiar: 'example.com/private/moonbase',
      full: 'example.com/private/moonbase',
      domain: 'example.com',
    },
    {
      remote: 'privatebase',
      familiar: 'example.com/privatebase',
      full: 'example.com/privatebase',
      domain: 'example.com',
    },
    {
      remote: 'private/moonbase',
      familiar: 'example.com:8000/private/moonbase',
      full: 'example.com:8000/private/moonbase',
      domain: 'example.com:8000',
    },
    {
      remote: 'privatebasee',
      familiar: 'example.com:8000/privatebasee',
      full: 'example.com:8000/privatebasee',
      domain: 'example.com:8000',
    },
    {
      remote: 'library/ubuntu-12.04-base',
      familiar: 'ubuntu-12.04-base',
      full: 'docker.io/library/ubuntu-12.04-base',
      ambiguous: 'index.docker.io/library/ubuntu-12.04-base',
      domain: 'docker.io',
    },
    {
      remote: 'library/foo',
      familiar: 'foo',
      full: 'docker.io/library/foo',
      ambiguous: 'docker.io/foo',
      domain: 'docker.io',
    },
    {
      remote: 'library/foo/bar',
      familiar: 'library/foo/bar',
      full: 'docker.io/library/foo/bar',
      domain: 'docker.io',
    },
    {
      remote: 'store/foo/bar',
      familiar: 'store/foo/bar',
      full: 'docker.io/store/foo/bar',
      domain: 'docker.io',
    },
    { remote: 'bar', familiar: 'Foo/bar', full: 'Foo/bar', domain: 'Foo' },
    { remote: 'bar', familiar: 'FOO/bar', full: 'FOO/bar', domain: 'FOO' },
  ];
  for (const c of cases) {
    for (const input of [c.familiar, c.full, ...(c.ambiguous === undefined ? [] : [c.ambiguous])]) {
      const ref = parseReference(input, { defaultTag: false });
      assert.equal(ref.domain, c.domain, input);
      assert.equal(ref.path, c.remote, input);
      assert.equal(referenceName(ref), c.full, input);
      assert.equal(familiarName(ref), c.familiar, input);
    }
  }
});

test('split hostname cases (TestNormalizedSplitHostname)', () => {
  for (const [input, domain, path] of [
    ['test.com/foo', 'test.com', 'foo'],
    ['test_com/foo', 'docker.io', 'test_com/foo'],
    ['docker/migrator', 'docker.io', 'docker/migrator'],
    ['test.com:8080/foo', 'test.com:8080', 'foo'],
    ['test-com:8080/foo', 'test-com:8080', 'foo'],
    ['foo', 'docker.io', 'library/foo'],
    ['xn--n3h.com/foo', 'xn--n3h.com', 'foo'],
    ['xn--n3h.com:18080/foo', 'xn--n3h.com:18080', 'foo'],
    ['docker.io/foo', 'docker.io', 'library/foo'],
    ['docker.io/library/foo', 'docker.io', 'library/foo'],
    ['docker.io/library/foo/bar', 'docker.io', 'library/foo/bar'],
    ['localhost/foo', 'localhost', 'foo'],
    ['localhost:5000/foo/bar:1', 'localhost:5000', 'foo/bar'],
  ] as const) {
    const ref = parseReference(input);
    assert.equal(ref.domain, domain, input);
    assert.equal(ref.path, path, input);
  }
});

test('tags and digests, and the default tag', () => {
  assert.equal(formatReference(parseReference('redis')), 'docker.io/library/redis:latest');
  assert.equal(formatReference(parseReference('redis:7')), 'docker.io/library/redis:7');
  assert.equal(
    formatReference(parseReference(`redis@sha256:${D64}`)),
    `docker.io/library/redis@sha256:${D64}`,
  );
  const both = parseReference(`busybox:latest@sha256:${D64}`);
  assert.equal(both.tag, 'latest');
  assert.equal(both.digest, `sha256:${D64}`);
  assert.equal(familiarString(both), `busybox:latest@sha256:${D64}`);
  assert.equal(formatReference(both), `docker.io/library/busybox:latest@sha256:${D64}`);
  assert.equal(parseReference('redis', { defaultTag: false }).tag, undefined);
  const local = parseReference('localhost:5000/ns/app:v1.2_rc-3');
  assert.deepEqual(local, { domain: 'localhost:5000', path: 'ns/app', tag: 'v1.2_rc-3' });
  assert.equal(familiarString(local), 'localhost:5000/ns/app:v1.2_rc-3');
  assert.equal(familiarString(parseReference('dmcgowan/myapp:latest')), 'dmcgowan/myapp:latest');
});

test('errors name the bad part', () => {
  const msg = (s: string): string => {
    try {
      parseReference(s);
    } catch (err) {
      return (err as Error).message;
    }
    return 'no error';
  };
  assert.match(msg('Redis'), /repository name "library\/Redis" must be lowercase/);
  assert.match(msg('redis:-x'), /invalid tag "-x"/);
  assert.match(msg('redis@sha256:abc'), /invalid digest "sha256:abc"/);
  assert.match(msg('redis@md5:0123'), /unsupported algorithm "md5"/);
  assert.match(msg('bad_host:5000x/foo'), /invalid registry host "bad_host:5000x"/);
  assert.match(msg('docker///docker'), /empty path component/);
  assert.match(msg('foo/-bar'), /invalid repository name component "-bar"/);
  assert.match(msg(D64), /image ID, not a repository name/);
  assert.match(msg('a@b@c'), /more than one "@"/);
  for (const s of ['Redis', 'redis:-x', ''])
    assert.ok(msg(s).startsWith(`invalid reference "${s}": `));
});
