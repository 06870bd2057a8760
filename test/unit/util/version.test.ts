import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { VERSION } from '../../../src/util/index.js';
import { repoRoot } from '../../helpers/cli.js';

test('VERSION matches package.json and the C helper', async () => {
  const pkg = JSON.parse(await readFile(path.join(repoRoot, 'package.json'), 'utf8')) as {
    version: string;
  };
  assert.equal(VERSION, pkg.version);
  const header = await readFile(path.join(repoRoot, 'native/src/version.h'), 'utf8');
  assert.match(header, new RegExp(`CHRUN_HELPER_VERSION "${VERSION.replace(/\./g, '\\.')}"`));
});
