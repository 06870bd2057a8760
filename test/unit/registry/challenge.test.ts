import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseChallenges } from '../../../src/registry/index.js';

test('a Docker Hub style Bearer challenge', () => {
  assert.deepEqual(
    parseChallenges(
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/redis:pull"',
    ),
    [
      {
        scheme: 'bearer',
        params: {
          realm: 'https://auth.docker.io/token',
          service: 'registry.docker.io',
          scope: 'repository:library/redis:pull',
        },
      },
    ],
  );
});

test('several challenges in one value, spaces, unquoted tokens and escapes', () => {
  const c = parseChallenges(
    'Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple, with comma" ,  Bearer realm=https://x/t,error="invalid_token"',
  );
  assert.deepEqual(c, [
    { scheme: 'newauth', params: { realm: 'apps', type: '1', title: 'Login to "apps"' } },
    { scheme: 'basic', params: { realm: 'simple, with comma' } },
    { scheme: 'bearer', params: { realm: 'https://x/t', error: 'invalid_token' } },
  ]);
});

test('scope lists with spaces survive quoting; header given several times', () => {
  const c = parseChallenges([
    'Basic realm="Registry Realm"',
    'Bearer realm="http://127.0.0.1:5001/token",service="reg",scope="repository:a:pull repository:b:pull,push"',
  ]);
  assert.equal(c.length, 2);
  assert.equal(c[0]?.scheme, 'basic');
  assert.equal(c[1]?.params.scope, 'repository:a:pull repository:b:pull,push');
});

test('token68 schemes, case-insensitive names, and junk', () => {
  assert.deepEqual(parseChallenges('Negotiate abc+/def==, BASIC REALM="r"'), [
    { scheme: 'negotiate', params: {}, token68: 'abc+/def==' },
    { scheme: 'basic', params: { realm: 'r' } },
  ]);
  assert.deepEqual(parseChallenges(''), []);
  assert.deepEqual(parseChallenges(undefined), []);
  assert.deepEqual(parseChallenges(', ,'), []);
  assert.deepEqual(parseChallenges('Bearer'), [{ scheme: 'bearer', params: {} }]);
  // An unterminated quote takes the rest of the value rather than failing.
  assert.deepEqual(parseChallenges('Basic realm="open'), [
    { scheme: 'basic', params: { realm: 'open' } },
  ]);
});
