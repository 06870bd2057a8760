import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chainId, chainIds, type Digest } from '../../../src/oci/index.js';

// Vectors computed independently with sha256sum: printf '%s %s' "$a" "$b" | sha256sum
const A: Digest = 'sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4';
const B: Digest = 'sha256:9c27e219663c25e0f28493790cc0b88bc973ba3b1686355f221c38a36978ac63';
const C: Digest = 'sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae';

test('chain IDs follow the OCI image spec', () => {
  assert.equal(chainId([]), undefined);
  assert.equal(chainId([A]), A);
  assert.deepEqual(chainIds([A, B, C]), [
    A,
    'sha256:820055974ba9611fba1d7b6c5783a9636318b3ba116207bc6d168a4ff3982d25',
    'sha256:7aaa2a375c46fc64b2d2b2b3128e9f25a9a1835786a98910b3655d51f1a52d9f',
  ]);
  assert.equal(
    chainId([A, B, C]),
    'sha256:7aaa2a375c46fc64b2d2b2b3128e9f25a9a1835786a98910b3655d51f1a52d9f',
  );
  assert.notEqual(chainId([B, A]), chainId([A, B]));
});
