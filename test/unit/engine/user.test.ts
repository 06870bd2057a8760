import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveUser } from '../../../src/engine/index.js';
import { isChrunError } from '../../../src/util/index.js';

const PASSWD = [
  'root:x:0:0:root:/root:/bin/sh',
  'daemon:x:1:1:daemon:/usr/sbin:/bin/false',
  'user:x:1000:1000:user:/home/user:/bin/sh',
  '# a comment',
  'broken line',
  'nohome:x:1001:1001::',
].join('\n');
const GROUP = [
  'root:x:0:',
  'wheel:x:10:root,user',
  'audio:x:29:user',
  'user:x:1000:',
  'staff:x:50:',
].join('\n');

test('no user: root, with the groups that list root, home from passwd', () => {
  assert.deepEqual(resolveUser(undefined, PASSWD, GROUP), {
    uid: 0,
    gid: 0,
    additionalGids: [0, 10],
    home: '/root',
  });
  assert.deepEqual(resolveUser('', undefined, undefined), {
    uid: 0,
    gid: 0,
    additionalGids: [0],
    home: '/',
  });
});

test('a name or a uid from /etc/passwd, with its supplementary groups', () => {
  const byName = resolveUser('user', PASSWD, GROUP);
  assert.deepEqual(byName, {
    uid: 1000,
    gid: 1000,
    additionalGids: [1000, 10, 29],
    home: '/home/user',
  });
  assert.deepEqual(resolveUser('1000', PASSWD, GROUP), byName);
  assert.equal(resolveUser('nohome', PASSWD, GROUP).home, '/');
});

test('a numeric uid without an entry stands for itself (group 0, home /)', () => {
  assert.deepEqual(resolveUser('4242', PASSWD, GROUP), {
    uid: 4242,
    gid: 0,
    additionalGids: [0],
    home: '/',
  });
  assert.deepEqual(resolveUser('4242:4343', PASSWD, GROUP), {
    uid: 4242,
    gid: 4343,
    additionalGids: [4343],
    home: '/',
  });
});

test('an explicit group (name or number) replaces the primary group, without supplementary ones', () => {
  assert.deepEqual(resolveUser('user:staff', PASSWD, GROUP), {
    uid: 1000,
    gid: 50,
    additionalGids: [50],
    home: '/home/user',
  });
  assert.equal(resolveUser('user:10', PASSWD, GROUP).gid, 10);
  assert.equal(resolveUser('daemon:777', PASSWD, GROUP).gid, 777);
});

test('unknown names are refused as runc words it', () => {
  assert.throws(
    () => resolveUser('nobody', PASSWD, GROUP),
    (e: unknown) =>
      isChrunError(e, 'CHRUN_INVALID_ARGUMENT') &&
      e.message === 'unable to find user nobody: no matching entries in passwd file',
  );
  assert.throws(
    () => resolveUser('user:nogroup', PASSWD, GROUP),
    /unable to find group nogroup: no matching entries in group file/,
  );
  assert.throws(() => resolveUser('nobody', undefined, undefined), /unable to find user nobody/);
  assert.throws(() => resolveUser('4294967296', PASSWD, GROUP), /out of range/);
});
