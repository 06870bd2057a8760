import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ContainerStore, type ContainerInfo } from '../../../src/engine/index.js';
import { isChrunError } from '../../../src/util/index.js';
import { tempDir } from '../../helpers/temp.js';

function info(id: string, extra: Partial<ContainerInfo> = {}): Omit<ContainerInfo, 'name'> {
  return {
    id,
    image: 'busybox',
    imageId: 'sha256:1111',
    command: ['true'],
    created: new Date().toISOString(),
    status: 'created',
    autoRemove: false,
    isolation: 'full',
    snapshot: id,
    ...extra,
  };
}

const A = 'a'.repeat(64);
const B = 'ab'.repeat(32);

test('names are unique, IDs and unique prefixes find containers', async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  const store = new ContainerStore(dir.path);
  const a = store.create({ ...info(A), name: 'web' });
  assert.equal(a.name, 'web');
  const b = store.create(info(B));
  assert.match(b.name, /^[a-z]+_[a-z]+\d?$/);
  assert.throws(
    () => store.create({ ...info('c'.repeat(64)), name: '/web' }),
    (e: unknown) =>
      isChrunError(e, 'CHRUN_CONTAINER_EXISTS') &&
      e.message.includes(`"/web" is already in use by container "${A}"`),
  );
  assert.ok(!existsSync(path.join(dir.path, 'c'.repeat(64))), 'a refused create leaves nothing');
  assert.throws(
    () => store.create({ ...info('d'.repeat(64)), name: 'x' }),
    /invalid container name/,
  );
  assert.equal(store.find('web').id, A);
  assert.equal(store.find(A).id, A);
  assert.equal(store.find('aaaa').id, A);
  assert.equal(store.find(B.slice(0, 6)).id, B);
  assert.throws(() => store.find('a'), /multiple containers found with provided prefix: a/);
  assert.throws(
    () => store.find('nope'),
    (e: unknown) => isChrunError(e, 'CHRUN_CONTAINER_NOT_FOUND'),
  );
  assert.deepEqual(
    store
      .list()
      .map((c) => c.id)
      .sort(),
    [A, B].sort(),
  );
  store.remove(a);
  assert.throws(() => store.find('web'), /no such container: web/);
  // the name is free again
  assert.equal(store.create({ ...info('e'.repeat(64)), name: 'web' }).name, 'web');
});

test('a running container whose holder died reads as exited (137)', async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  const store = new ContainerStore(dir.path);
  const child = spawnSync('true');
  assert.equal(child.status, 0);
  store.create({
    ...info(A, { status: 'running', holder: { pid: child.pid, start: 1 } }),
    name: 'gone',
  });
  const live = store.get(A);
  assert.equal(live.status, 'exited');
  assert.equal(live.exitCode, 137);
  store.create({
    ...info(B, { status: 'running', holder: ContainerStore.self() }),
    name: 'here',
  });
  assert.equal(store.get(B).status, 'running');
});
