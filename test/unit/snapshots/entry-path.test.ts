import assert from 'node:assert/strict';
import { test } from 'node:test';
import { entryComponents } from '../../../src/snapshots/entry-path.js';

test('entry paths: ./ prefixes and empty components go, the rest stays', () => {
  assert.deepEqual(entryComponents('./usr/bin/'), ['usr', 'bin']);
  assert.deepEqual(entryComponents('usr//lib/./x'), ['usr', 'lib', 'x']);
  assert.deepEqual(entryComponents('./'), []);
  assert.deepEqual(entryComponents('.wh..wh..opq'), ['.wh..wh..opq']);
});

test('entry paths: absolute paths, .. and NUL are refused, not clamped', () => {
  assert.deepEqual(entryComponents('/etc/passwd'), { refused: 'is an absolute path' });
  assert.deepEqual(entryComponents('a/../../b'), { refused: "has a '..' component" });
  assert.deepEqual(entryComponents('..'), { refused: "has a '..' component" });
  assert.deepEqual(entryComponents('a\0b'), { refused: 'contains a NUL byte' });
});
