import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseTmpfs, parseVolume } from '../../../src/engine/index.js';

test('-v host:container[:opts] is a recursive, rprivate bind', () => {
  assert.deepEqual(parseVolume('/srv/data:/data'), {
    mount: {
      destination: '/data',
      type: 'bind',
      source: '/srv/data',
      options: ['rbind', 'rprivate'],
    },
    hostPath: '/srv/data',
  });
  assert.deepEqual(parseVolume('/srv/data/:/data/:ro').mount.options, ['rbind', 'ro', 'rprivate']);
  assert.deepEqual(parseVolume('/a:/b:ro,rslave').mount.options, ['rbind', 'ro', 'rslave']);
  assert.deepEqual(parseVolume('/a:/b:ro,rw').mount.options, ['rbind', 'rprivate']);
  assert.equal(parseVolume('/a/../b:/x/./y').mount.destination, '/x/y');
});

test('bad -v values are refused with the reason', () => {
  assert.throws(() => parseVolume('/data'), /anonymous volumes are not supported yet/);
  assert.throws(() => parseVolume('name:/data'), /named volumes are not supported yet/);
  assert.throws(() => parseVolume('/a:rel'), /the container path 'rel' must be absolute/);
  assert.throws(() => parseVolume('/a:/'), /destination can't be '\/'/);
  assert.throws(() => parseVolume('/a:/b:bogus'), /invalid mode: bogus/);
  assert.throws(() => parseVolume('/a:/b:Z'), /SELinux/);
  assert.throws(() => parseVolume('/a:/b:ro:x'), /too many colons/);
});

test('--tmpfs: docker defaults first, the user options after (they win)', () => {
  assert.deepEqual(parseTmpfs('/run'), {
    destination: '/run',
    type: 'tmpfs',
    source: 'tmpfs',
    options: ['noexec', 'nosuid', 'nodev'],
  });
  assert.deepEqual(parseTmpfs('/run:exec,size=64m,mode=1777').options, [
    'noexec',
    'nosuid',
    'nodev',
    'exec',
    'size=64m',
    'mode=1777',
  ]);
  assert.throws(() => parseTmpfs('run'), /must be absolute/);
  assert.throws(() => parseTmpfs('/run:size=1m;rm -rf'), /bad option/);
});
