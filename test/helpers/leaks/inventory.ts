/**
 * The shared shape of the leak checker's snapshots: each collector lists the things of one
 * kind that exist on the machine as items with a stable identity (`key`), a description for
 * the failure message (`text`) and optionally the key of the item that contains it (a
 * rule's chain, a cgroup's parent), so a leaked table is reported once, not with each rule.
 */
export type LeakKind =
  'mount' | 'cgroup' | 'netns' | 'link' | 'iptables' | 'nftables' | 'process' | 'file';

export interface Item {
  key: string;
  text: string;
  parent?: string;
}

/** A multiset of items by key (the same mount can be stacked twice on one path). */
export type Inventory = Map<string, { item: Item; count: number }>;

export function inventory(items: Iterable<Item>): Inventory {
  const inv: Inventory = new Map();
  for (const item of items) {
    const have = inv.get(item.key);
    if (have) have.count++;
    else inv.set(item.key, { item, count: 1 });
  }
  return inv;
}

export interface Leak {
  kind: LeakKind;
  /** `leaked`: present after the test only; `gone`: present before the test only. */
  change: 'leaked' | 'gone';
  text: string;
}

/** How a leak reads in a failure message: "leaked: mount tmpfs on /tmp/x". */
export function formatLeak(leak: Leak): string {
  return `${leak.change}: ${leak.text}`;
}

/**
 * What changed from `before` to `after`, one entry per extra (or missing) copy, leaving
 * out items whose container changed the same way. With `reportGone` false (processes),
 * only new items count.
 */
export function diffInventories(
  kind: LeakKind,
  before: Inventory,
  after: Inventory,
  reportGone = true,
): Leak[] {
  const leaks: Leak[] = [];
  const one = (from: Inventory, to: Inventory, change: Leak['change']): void => {
    const changed = new Set<string>();
    for (const [key, { count }] of from) {
      if (count > (to.get(key)?.count ?? 0)) changed.add(key);
    }
    for (const [key, { item, count }] of from) {
      if (!changed.has(key)) continue;
      if (item.parent !== undefined && changed.has(item.parent)) continue;
      for (let i = to.get(key)?.count ?? 0; i < count; i++)
        leaks.push({ kind, change, text: item.text });
    }
  };
  one(after, before, 'leaked');
  if (reportGone) one(before, after, 'gone');
  return leaks;
}
