import { afterEach, beforeEach, test, type TestContext, type TestOptions } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { cgroupItems } from './leaks/cgroups.js';
import { fileItems, type WatchedDir } from './leaks/files.js';
import { iptablesItems, nftItems } from './leaks/firewall.js';
import {
  diffInventories,
  formatLeak,
  inventory,
  type Inventory,
  type Item,
  type Leak,
  type LeakKind,
} from './leaks/inventory.js';
import { mountItems, readMountinfo } from './leaks/mounts.js';
import { linkItems, linkKinds, netnsItems } from './leaks/network.js';
import { processItems } from './leaks/processes.js';

export type { Leak, LeakKind, WatchedDir };

export interface LeakCheckOptions {
  /** Directories whose entries must be the same after the test (temp and state dirs). */
  files?: readonly (string | WatchedDir)[];
  /** Leave out these kinds (for a test that changes them on purpose). */
  skip?: readonly LeakKind[];
  /** Leaks whose description matches one of these are not reported. */
  ignore?: readonly RegExp[];
  /** How long assertClean() waits for asynchronous teardown before failing (ms). */
  settleMs?: number;
}

export interface AssertCleanOptions {
  settleMs?: number;
}

/** Thrown by assertClean(): one line per leak, e.g. "leaked: mount tmpfs on /tmp/x". */
export class LeakError extends Error {
  override name = 'LeakError';
  constructor(
    readonly leaks: Leak[],
    waitedMs: number,
  ) {
    super(
      `the test left the machine changed (${leaks.length} after waiting ${waitedMs} ms):\n` +
        leaks.map((l) => `  ${formatLeak(l)}`).join('\n'),
    );
  }
}

type Snapshot = Map<LeakKind, Inventory>;

const ALL_KINDS: readonly LeakKind[] = [
  'process',
  'mount',
  'cgroup',
  'netns',
  'link',
  'iptables',
  'nftables',
  'file',
];

/** Kinds that need root to read; a non-root run leaves them out and says so in `unchecked`. */
const ROOT_KINDS = new Set<LeakKind>(['iptables', 'nftables']);

/**
 * Records the machine state a container engine can leak before a test and asserts the same
 * state after it: mounts, cgroup directories of every hierarchy, named network namespaces,
 * links, iptables and nftables rules, this process's descendants (and orphans it left in
 * its cgroups), and files in given directories.
 *
 *   const check = await LeakCheck.start({ files: [root] });
 *   ...
 *   await check.assertClean();
 *
 * A clean check costs a few milliseconds of reads plus three short commands
 * (iptables-save, ip6tables-save, nft); nothing is spawned while processes are listed.
 */
export class LeakCheck {
  /** Kinds that could not be read here, with the reason (e.g. not root, nft missing). */
  readonly unchecked = new Map<LeakKind, string>();

  private constructor(
    private readonly kinds: LeakKind[],
    private readonly opts: LeakCheckOptions,
    private before: Snapshot = new Map(),
  ) {}

  static async start(opts: LeakCheckOptions = {}): Promise<LeakCheck> {
    const skip = new Set(opts.skip ?? []);
    if (!opts.files || opts.files.length === 0) skip.add('file');
    const kinds = ALL_KINDS.filter((k) => !skip.has(k));
    const check = new LeakCheck(kinds, opts);
    if (process.getuid?.() !== 0) {
      for (const k of kinds) if (ROOT_KINDS.has(k)) check.unchecked.set(k, 'needs root');
    }
    check.before = await check.snapshot(check.kinds.filter((k) => !check.unchecked.has(k)));
    return check;
  }

  /** What differs from the recorded state now (no waiting). */
  async diff(): Promise<Leak[]> {
    const kinds = this.checkedKinds();
    return this.describe(this.compare(await this.snapshot(kinds), kinds));
  }

  /**
   * Throws a LeakError naming every difference that is still there after `settleMs`
   * (default 2000): only the kinds that differ are looked at again while waiting.
   */
  async assertClean(opts: AssertCleanOptions = {}): Promise<void> {
    const settleMs = opts.settleMs ?? this.opts.settleMs ?? 2000;
    const start = Date.now();
    let kinds = this.checkedKinds();
    let leaks = this.compare(await this.snapshot(kinds), kinds);
    for (let delay = 20; leaks.length > 0 && Date.now() - start < settleMs; delay *= 2) {
      await sleep(Math.min(delay, 250, Math.max(0, settleMs - (Date.now() - start))));
      kinds = [...new Set(leaks.map((l) => l.kind))];
      leaks = this.compare(await this.snapshot(kinds), kinds);
    }
    if (leaks.length > 0) throw new LeakError(await this.describe(leaks), Date.now() - start);
  }

  private checkedKinds(): LeakKind[] {
    return this.kinds.filter((k) => !this.unchecked.has(k));
  }

  private compare(now: Snapshot, kinds: LeakKind[]): Leak[] {
    const ignore = this.opts.ignore ?? [];
    return kinds
      .flatMap((k) =>
        diffInventories(
          k,
          this.before.get(k) ?? inventory([]),
          now.get(k) ?? inventory([]),
          k !== 'process',
        ),
      )
      .filter((l) => !ignore.some((re) => re.test(l.text)));
  }

  /** Adds what is only worth looking up for a leak: the kind of a leaked link. */
  private async describe(leaks: Leak[]): Promise<Leak[]> {
    if (!leaks.some((l) => l.kind === 'link' && l.change === 'leaked')) return leaks;
    const kinds = await linkKinds();
    return leaks.map((l) => {
      const kind = l.kind === 'link' ? kinds.get(l.text.slice('link '.length)) : undefined;
      return kind === undefined || l.change !== 'leaked'
        ? l
        : { ...l, text: `${l.text} (${kind})` };
    });
  }

  private async snapshot(kinds: readonly LeakKind[]): Promise<Snapshot> {
    const want = new Set(kinds);
    const snap: Snapshot = new Map();
    const put = (kind: LeakKind, items: Item[]): void => void snap.set(kind, inventory(items));
    // Processes first and alone: the commands below are this process's children.
    if (want.has('process')) put('process', processItems());
    const jobs: Promise<void>[] = [];
    if (want.has('mount') || want.has('cgroup')) {
      jobs.push(
        readMountinfo().then(async (mounts) => {
          if (want.has('mount')) put('mount', mountItems(mounts));
          if (want.has('cgroup')) put('cgroup', await cgroupItems(mounts));
        }),
      );
    }
    if (want.has('netns')) jobs.push(netnsItems().then((i) => put('netns', i)));
    if (want.has('link')) jobs.push(linkItems().then((i) => put('link', i)));
    if (want.has('file')) jobs.push(fileItems(this.opts.files ?? []).then((i) => put('file', i)));
    if (want.has('iptables') || want.has('nftables')) {
      jobs.push(this.firewall(want, put));
    }
    await Promise.all(jobs);
    return snap;
  }

  private async firewall(
    want: Set<LeakKind>,
    put: (k: LeakKind, i: Item[]) => void,
  ): Promise<void> {
    // The nft dump leaves out the tables the iptables dumps cover, so it needs to know
    // which those are even when only nftables is looked at again.
    const ipt = await iptablesItems().catch((err: unknown) => {
      this.unchecked.set('iptables', `iptables-save failed: ${String(err)}`);
      return undefined;
    });
    if (want.has('iptables') && ipt) put('iptables', ipt.items);
    if (want.has('nftables')) {
      await nftItems(ipt?.families ?? new Set())
        .then((i) => put('nftables', i))
        .catch((err: unknown) => this.unchecked.set('nftables', `nft failed: ${String(err)}`));
    }
  }
}

type TestFn = (t: TestContext) => unknown;

/**
 * Wraps a test body so the machine is checked for leaks around it. `t.after()` hooks the body
 * registers run before the check (node 20 would run them after it), in registration order.
 */
export function noLeaks(
  fn: TestFn,
  opts: LeakCheckOptions = {},
): (t: TestContext) => Promise<void> {
  return async (t) => {
    const check = await LeakCheck.start(opts);
    const hooks: (() => unknown)[] = [];
    const ctx = new Proxy(t, {
      get(target, prop) {
        if (prop === 'after') return (hook: () => unknown) => void hooks.push(hook);
        const v: unknown = Reflect.get(target, prop, target);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const errors: unknown[] = [];
    try {
      await fn(ctx);
    } catch (err) {
      errors.push(err);
    }
    for (const hook of hooks) {
      try {
        await hook();
      } catch (err) {
        errors.push(err);
      }
    }
    try {
      await check.assertClean();
    } catch (err) {
      // A failing test often leaks too; its own error comes first.
      if (errors.length > 0) t.diagnostic(String(err));
      else errors.push(err);
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, 'the test and its after hooks failed');
  };
}

/** `test(name, [options], fn)` with a leak check around it (see noLeaks). */
export function testNoLeaks(
  name: string,
  optsOrFn: (TestOptions & { leaks?: LeakCheckOptions }) | TestFn,
  maybeFn?: TestFn,
): void {
  const opts = typeof optsOrFn === 'function' ? {} : optsOrFn;
  const fn = typeof optsOrFn === 'function' ? optsOrFn : maybeFn;
  if (fn === undefined) throw new Error('testNoLeaks: a test function is required');
  const { leaks, ...testOpts } = opts;
  void test(name, testOpts, noLeaks(fn, leaks));
}

/**
 * For a whole file: every test (subtests included) gets a leak check, started in beforeEach
 * and asserted in afterEach. The tests' `t.after()` hooks are run before the check.
 */
export function leakCheckEachTest(opts: LeakCheckOptions = {}): void {
  const running = new Map<object, { check: LeakCheck; hooks: (() => unknown)[] }>();
  beforeEach(async (t) => {
    const hooks: (() => unknown)[] = [];
    // node 20 runs afterEach before t.after(): hold the test's after hooks to run them first.
    Object.defineProperty(t, 'after', { value: (hook: () => unknown) => void hooks.push(hook) });
    running.set(t, { check: await LeakCheck.start(opts), hooks });
  });
  afterEach(async (t) => {
    const entry = running.get(t);
    if (!entry) return;
    running.delete(t);
    const errors: unknown[] = [];
    for (const hook of entry.hooks) {
      try {
        await hook();
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, 'after hooks failed');
    await entry.check.assertClean();
  });
}
