import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  compileDeviceFilter,
  createCgroupManager,
  detectCgroupLayout,
} from '../../../src/cgroups/index.js';
import { DEFAULT_DEVICE_RULES } from '../../../src/oci/index.js';
import { repoRoot } from '../../helpers/cli.js';
import { testNoLeaks } from '../../helpers/leak-check.js';
import { needsRootAnd } from '../../helpers/requirements.js';
import { tempDir } from '../../helpers/temp.js';

const run = promisify(execFile);

testNoLeaks(
  'the compiled v2 device filter is accepted by the kernel and enforces the default devices',
  { skip: needsRootAnd('gcc', 'busybox') },
  async (t) => {
    const layout = await detectCgroupLayout();
    if (layout.unified === undefined) {
      t.skip('needs a cgroup v2 hierarchy');
      return;
    }
    const tmp = await tempDir();
    t.after(() => tmp.cleanup());
    const loader = path.join(tmp.path, 'bpf-device-loader');
    await run('gcc', [
      '-Wall',
      '-Wextra',
      '-Werror',
      '-O2',
      '-o',
      loader,
      path.join(repoRoot, 'test/fixtures/bpf-device-loader.c'),
    ]);
    const cg = createCgroupManager({ layout, path: `/chrun/devfilter-${process.pid}` });
    t.after(() => cg.destroy());
    cg.create();
    const dir = cg.dirs.find((d) => d.startsWith(`${layout.unified!}/`))!;
    const filter = compileDeviceFilter(DEFAULT_DEVICE_RULES);
    const program = path.join(tmp.path, 'filter.bpf');
    await writeFile(program, filter.program);
    // Device nodes made in the temp dir (mknod is allowed), opened by the shell: c 1:5 is
    // /dev/zero's number and allowed, c 1:11 is /dev/kmsg's and not.
    const allowed = path.join(tmp.path, 'zero');
    const denied = path.join(tmp.path, 'kmsg');
    const open = (node: string, tag: string): string =>
      `if (exec 3<${node}) 2>/dev/null; then echo ${tag}-open; else echo ${tag}-denied; fi`;
    const script = [
      `busybox mknod ${allowed} c 1 5 && busybox mknod ${denied} c 1 11 && echo mknod-ok`,
      open(allowed, 'zero'),
      open(denied, 'kmsg'),
      open('/dev/null', 'null'),
    ].join('; ');
    const { stdout } = await run(loader, [program, dir, 'busybox', 'sh', '-c', script]);
    assert.deepEqual(stdout.trim().split('\n'), [
      'mknod-ok',
      'zero-open',
      'kmsg-denied',
      'null-open',
    ]);
    // The control: outside the filtered cgroup the same node opens.
    const control = await run('busybox', ['sh', '-c', open(denied, 'kmsg')]);
    assert.equal(control.stdout.trim(), 'kmsg-open');
  },
);
