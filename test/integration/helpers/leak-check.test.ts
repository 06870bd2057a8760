import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdir, readFile, readdir, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { repoRoot } from '../../helpers/cli.js';
import { LeakCheck, testNoLeaks } from '../../helpers/leak-check.js';
import { hierarchies } from '../../helpers/leaks/cgroups.js';
import { readMountinfo } from '../../helpers/leaks/mounts.js';
import { needsRoot, needsRootAnd } from '../../helpers/requirements.js';
import { tempDir } from '../../helpers/temp.js';

const run = promisify(execFile);
/** Unique per run, short enough for a link name (15 bytes). */
const tag = `lk${process.pid}`;

/** Asserts that the check fails now and names every expected line, then returns the text. */
async function assertLeaks(check: LeakCheck, ...expected: RegExp[]): Promise<string> {
  let message = '';
  await assert.rejects(check.assertClean({ settleMs: 100 }), (err: Error) => {
    assert.equal(err.name, 'LeakError');
    message = err.message;
    return true;
  });
  for (const re of expected) assert.match(message, re);
  return message;
}

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

test(
  'a clean test passes, and a tmpfs mount is detected and named',
  { skip: needsRoot() },
  async () => {
    const dir = await tempDir();
    try {
      const check = await LeakCheck.start();
      await check.assertClean();
      await run('mount', ['-t', 'tmpfs', 'tmpfs', dir.path]);
      try {
        const msg = await assertLeaks(
          check,
          new RegExp(`^  leaked: mount tmpfs on ${esc(dir.path)}$`, 'm'),
        );
        assert.match(msg, /left the machine changed \(1 after waiting \d+ ms\)/);
      } finally {
        await run('umount', [dir.path]);
      }
      await check.assertClean();
    } finally {
      await dir.cleanup();
    }
  },
);

test('a mount removed by the test is reported as gone', { skip: needsRoot() }, async () => {
  const dir = await tempDir();
  await run('mount', ['-t', 'tmpfs', 'tmpfs', dir.path]);
  let mounted = true;
  try {
    const check = await LeakCheck.start();
    await run('umount', [dir.path]);
    mounted = false;
    await assertLeaks(check, new RegExp(`^  gone: mount tmpfs on ${esc(dir.path)}$`, 'm'));
  } finally {
    if (mounted) await run('umount', [dir.path]);
    await dir.cleanup();
  }
});

test('a cgroup in a v1 hierarchy and in the v2 mount is detected, children folded in', async (t) => {
  const hs = hierarchies(await readMountinfo());
  const v1 =
    hs.find((h) => h.version === 1 && h.controllers.includes('pids')) ??
    hs.find((h) => h.version === 1);
  const v2 = hs.find((h) => h.version === 2);
  const skip =
    needsRoot() || (v1 === undefined && v2 === undefined && 'no cgroup hierarchy mounted');
  if (skip !== false) return t.skip(skip);
  const dirs = [v1, v2]
    .filter((h) => h !== undefined)
    .map((h) => path.join(h.mountPoint, `chrun-${tag}`));
  const check = await LeakCheck.start();
  try {
    for (const d of dirs) await mkdir(path.join(d, 'child'), { recursive: true });
    const msg = await assertLeaks(
      check,
      ...dirs.map((d) => new RegExp(`^  leaked: cgroup ${esc(d)}$`, 'm')),
    );
    assert.doesNotMatch(msg, /child/, 'the child is folded into its leaked parent');
  } finally {
    for (const d of dirs) {
      await rmdir(path.join(d, 'child')).catch(() => undefined);
      await rmdir(d).catch(() => undefined);
    }
  }
  await check.assertClean();
});

test(
  'a named network namespace is detected (and its nsfs mount)',
  { skip: needsRootAnd('ip') },
  async () => {
    const netnsDirMounted = (await readMountinfo()).some((m) => m.mountPoint === '/run/netns');
    const check = await LeakCheck.start();
    await run('ip', ['netns', 'add', tag]);
    try {
      await assertLeaks(
        check,
        new RegExp(`^  leaked: netns ${tag}$`, 'm'),
        new RegExp(`^  leaked: mount nsfs on /run/netns/${tag} `, 'm'),
      );
    } finally {
      await run('ip', ['netns', 'del', tag]);
      // The first `ip netns add` bind-mounts /run/netns on itself; undo that when it was us.
      if (!netnsDirMounted && (await readdir('/run/netns')).length === 0) {
        await run('umount', ['/run/netns']);
      }
    }
    await check.assertClean();
  },
);

test(
  'a veth pair is detected, both ends named with their kind',
  { skip: needsRootAnd('ip') },
  async () => {
    const check = await LeakCheck.start();
    await run('ip', ['link', 'add', `${tag}a`, 'type', 'veth', 'peer', 'name', `${tag}b`]);
    try {
      await assertLeaks(
        check,
        new RegExp(`^  leaked: link ${tag}a \\(veth\\)$`, 'm'),
        new RegExp(`^  leaked: link ${tag}b \\(veth\\)$`, 'm'),
      );
    } finally {
      await run('ip', ['link', 'del', `${tag}a`]);
    }
    await check.assertClean();
  },
);

/** `nft list table FAMILY NAME` succeeds: the table exists. */
async function nftTableExists(family: string, name: string): Promise<boolean> {
  return run('nft', ['list', 'table', family, name]).then(
    () => true,
    () => false,
  );
}

test(
  'an iptables rule in a custom chain is detected, chain and rule',
  { skip: needsRootAnd('iptables', 'nft') },
  async () => {
    const chain = `CHRUN-${tag}`.toUpperCase();
    const hadFilter = await nftTableExists('ip', 'filter');
    const check = await LeakCheck.start();
    await run('iptables', ['-N', chain]);
    try {
      const inChain = await LeakCheck.start();
      await run('iptables', ['-A', chain, '-s', '192.0.2.1/32', '-j', 'ACCEPT']);
      // A new chain is named once, its rules folded in; nft does not repeat it.
      const msg = await assertLeaks(
        check,
        new RegExp(`^  leaked: iptables -t filter -N ${chain}$`, 'm'),
      );
      assert.equal(msg.split('\n').length, 2, msg);
      // A rule added to a chain that existed before is named as the rule.
      await assertLeaks(
        inChain,
        new RegExp(`^  leaked: iptables -t filter -A ${chain} -s 192.0.2.1/32 -j ACCEPT$`, 'm'),
      );
    } finally {
      await run('iptables', ['-F', chain]);
      await run('iptables', ['-X', chain]);
      // iptables-nft leaves the table it created; remove it again when it is ours and empty.
      if (!hadFilter) {
        const { stdout } = await run('nft', ['list', 'table', 'ip', 'filter']);
        if (!/\bchain\b/.test(stdout)) await run('nft', ['delete', 'table', 'ip', 'filter']);
      }
    }
    await check.assertClean();
  },
);

test(
  'an nft table is detected as one table, not rule by rule',
  { skip: needsRootAnd('nft') },
  async () => {
    const table = `chrun_${tag}`;
    const check = await LeakCheck.start();
    await run('nft', ['add', 'table', 'inet', table]);
    try {
      await run('nft', [
        'add',
        'chain',
        'inet',
        table,
        'c',
        '{ type filter hook input priority 0; policy accept; }',
      ]);
      await run('nft', [
        'add',
        'rule',
        'inet',
        table,
        'c',
        'tcp',
        'dport',
        '9',
        'counter',
        'accept',
      ]);
      const msg = await assertLeaks(check, new RegExp(`^  leaked: nft table inet ${table}$`, 'm'));
      assert.equal(msg.split('\n').length, 2, msg);
      // A rule added to a table that existed before is named by its chain.
      const inside = await LeakCheck.start();
      await run('nft', ['add', 'rule', 'inet', table, 'c', 'udp', 'dport', '9', 'drop']);
      await assertLeaks(
        inside,
        new RegExp(`^  leaked: nft table inet ${table} chain c: udp dport 9 drop$`, 'm'),
      );
    } finally {
      await run('nft', ['delete', 'table', 'inet', table]);
    }
    await check.assertClean();
  },
);

test(
  'a sleeping child process is detected, and so is one that left the tree',
  { skip: needsRoot() },
  async () => {
    const check = await LeakCheck.start();
    const child = spawn('sleep', ['1000'], { stdio: 'ignore' });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    // A double fork: the shell exits, its sleeping child is reparented to init.
    const { stdout } = await run('sh', ['-c', 'sleep 1001 >/dev/null 2>&1 & echo $!']);
    const orphan = Number(stdout.trim());
    try {
      await assertLeaks(
        check,
        new RegExp(`^  leaked: process ${child.pid!} sleep 1000$`, 'm'),
        new RegExp(`^  leaked: process ${orphan} sleep 1001$`, 'm'),
      );
    } finally {
      child.kill('SIGKILL');
      process.kill(orphan, 'SIGKILL');
      await exited;
    }
    // The orphan is reaped by init, asynchronously: assertClean waits for it.
    await check.assertClean();
  },
);

test('asynchronous teardown within the wait is not a leak', { skip: needsRoot() }, async () => {
  const dir = await tempDir();
  try {
    const check = await LeakCheck.start();
    await run('mount', ['-t', 'tmpfs', 'tmpfs', dir.path]);
    setTimeout(() => void run('umount', [dir.path]), 300);
    await check.assertClean({ settleMs: 5000 });
  } finally {
    await dir.cleanup();
  }
});

testNoLeaks(
  'testNoLeaks runs t.after() hooks before its check',
  { skip: needsRoot() },
  async (t) => {
    const dir = await tempDir();
    await run('mount', ['-t', 'tmpfs', 'tmpfs', dir.path]);
    // node runs after hooks in the order they were registered.
    t.after(() => run('umount', [dir.path]));
    t.after(() => dir.cleanup());
  },
);

/** Runs a test file in its own node --test process and returns its exit code and output. */
async function runTestFile(file: string): Promise<{ code: number; out: string }> {
  // Without NODE_TEST_CONTEXT, or the inner runner reports to ours instead of printing.
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  return run(process.execPath, ['--test', '--test-reporter=spec', file], { env }).then(
    ({ stdout }) => ({ code: 0, out: stdout }),
    (err: { code: number; stdout: string }) => ({ code: err.code, out: err.stdout }),
  );
}

test(
  'testNoLeaks and leakCheckEachTest fail a leaking test with the leak named',
  { skip: needsRoot() },
  async () => {
    const dir = await tempDir();
    const helper = path.join(repoRoot, 'dist/test/helpers/leak-check.js');
    const mnt = (name: string) => path.join(dir.path, name);
    const fixture = (name: string, body: string) => writeFile(mnt(name), body);
    try {
      for (const d of ['m1', 'm2', 'm3']) await mkdir(mnt(d));
      await fixture(
        'wrap.test.mjs',
        `import { execFileSync } from 'node:child_process';
import { testNoLeaks } from ${JSON.stringify(helper)};
testNoLeaks('leaks', { leaks: { settleMs: 100 } }, () => {
  execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', ${JSON.stringify(mnt('m1'))}]);
});
`,
      );
      await fixture(
        'hooks.test.mjs',
        `import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { leakCheckEachTest } from ${JSON.stringify(helper)};
leakCheckEachTest({ settleMs: 100 });
const mount = (d) => execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', d]);
test('cleans up in t.after', (t) => {
  mount(${JSON.stringify(mnt('m2'))});
  t.after(() => execFileSync('umount', [${JSON.stringify(mnt('m2'))}]));
});
test('leaks', () => mount(${JSON.stringify(mnt('m3'))}));
`,
      );
      const wrap = await runTestFile(mnt('wrap.test.mjs'));
      assert.equal(wrap.code, 1, wrap.out);
      assert.match(wrap.out, new RegExp(`leaked: mount tmpfs on ${esc(mnt('m1'))}`));
      const hooks = await runTestFile(mnt('hooks.test.mjs'));
      assert.equal(hooks.code, 1, hooks.out);
      assert.match(hooks.out, /✔ cleans up in t\.after/);
      assert.match(hooks.out, new RegExp(`leaked: mount tmpfs on ${esc(mnt('m3'))}`));
    } finally {
      const mounts = await readFile('/proc/self/mountinfo', 'utf8');
      for (const d of ['m1', 'm2', 'm3']) {
        if (mounts.includes(` ${mnt(d)} `)) await run('umount', [mnt(d)]);
      }
      await dir.cleanup();
    }
  },
);
