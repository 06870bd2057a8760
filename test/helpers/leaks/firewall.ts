import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { Item } from './inventory.js';

const run = promisify(execFile);

/**
 * Items of an `iptables-save` dump, as the commands that would recreate them:
 * `iptables -t filter -N CHAIN`, `iptables -t filter -A CHAIN -j ACCEPT`,
 * `iptables -t filter -P FORWARD DROP`. Counters and comments are dropped, and a built-in
 * chain with policy ACCEPT is not an item: the nf_tables backend prints every built-in
 * chain of a table that exists, and an emptied table stays behind after its last rule goes.
 */
export function parseIptablesSave(text: string, cmd: string): Item[] {
  const items: Item[] = [];
  let table = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line === 'COMMIT') continue;
    if (line.startsWith('*')) {
      table = line.slice(1);
      continue;
    }
    const prefix = `${cmd} -t ${table}`;
    if (line.startsWith(':')) {
      const [chain, policy] = line.slice(1).split(' ');
      if (chain === undefined || policy === undefined)
        throw new Error(`parse ${cmd}-save: ${line}`);
      if (policy === '-') {
        items.push({ key: `${prefix} -N ${chain}`, text: `${prefix} -N ${chain}` });
      } else if (policy !== 'ACCEPT') {
        items.push({
          key: `${prefix} -P ${chain} ${policy}`,
          text: `${prefix} -P ${chain} ${policy}`,
        });
      }
      continue;
    }
    // `-c` dumps put "[packets:bytes]" before the rule.
    const rule = line.replace(/^\[\d+:\d+\]\s+/, '');
    const m = /^-A (\S+)/.exec(rule);
    if (!m) throw new Error(`parse ${cmd}-save: unexpected line: ${line}`);
    items.push({
      key: `${prefix} ${rule}`,
      text: `${prefix} ${rule}`,
      parent: `${prefix} -N ${m[1]!}`,
    });
  }
  return items;
}

/** The tables iptables-nft makes (and leaves, emptied) under the families it owns. */
const XTABLES_TABLES = new Set(['filter', 'nat', 'mangle', 'raw', 'security']);

export interface NftItem extends Item {
  family: string;
  table: string;
}

/** Run-time state in a ruleset that is not configuration: counters, quota use, expiry. */
function normalizeNft(line: string): string {
  return line
    .replace(/counter packets \d+ bytes \d+/g, 'counter')
    .replace(/\s+used \d+ \w+/g, '')
    .replace(/\s+expires \S+/g, '');
}

/**
 * Items of `nft list ruleset`, each line under its blocks: `nft table inet t`,
 * `nft table inet t chain input`, `nft table inet t chain input: tcp dport 22 accept`.
 * Counters are dropped. A block's own line is its item, so an empty table is one.
 */
export function parseNftRuleset(text: string): NftItem[] {
  const items: NftItem[] = [];
  const stack: { key: string; family: string; table: string }[] = [];
  for (const raw of text.split('\n')) {
    const line = normalizeNft(raw.trim());
    if (line === '' || line.startsWith('#')) continue;
    if (line === '}') {
      if (stack.pop() === undefined) throw new Error('parse nft ruleset: unbalanced }');
      continue;
    }
    const top = stack.at(-1);
    const opens = line.endsWith('{');
    const body = opens ? line.slice(0, -1).trim() : line;
    let family = top?.family ?? '';
    let table = top?.table ?? '';
    let key: string;
    if (top === undefined) {
      const m = /^table (\S+) (\S+)$/.exec(body);
      if (!m) throw new Error(`parse nft ruleset: unexpected line: ${line}`);
      family = m[1]!;
      table = m[2]!;
      key = `nft table ${family} ${table}`;
    } else {
      key = opens ? `${top.key} ${body}` : `${top.key}: ${body}`;
    }
    items.push({ key, text: key, parent: top?.key, family, table });
    if (opens) stack.push({ key, family, table });
  }
  if (stack.length > 0) throw new Error('parse nft ruleset: unclosed block');
  return items;
}

/**
 * Drops what the iptables dumps already report (the xtables tables of ip and ip6 when
 * their iptables-save ran) and the empty xtables tables iptables-nft leaves behind.
 */
export function nftItemsBesideIptables(items: NftItem[], savedFamilies: Set<string>): Item[] {
  const nonEmpty = new Set(
    items.filter((i) => i.parent !== undefined).map((i) => `${i.family} ${i.table}`),
  );
  return items.filter((i) => {
    if (!XTABLES_TABLES.has(i.table)) return true;
    if (savedFamilies.has(i.family)) return false;
    return nonEmpty.has(`${i.family} ${i.table}`);
  });
}

async function save(cmd: string): Promise<string> {
  const { stdout } = await run(cmd, [], { maxBuffer: 64 << 20 });
  return stdout;
}

/** `iptables-nft-save` where the nf_tables variant is installed on its own name. */
async function saveNft(family: 'ip' | 'ip6'): Promise<{ text: string; nft: boolean }> {
  const base = family === 'ip' ? 'iptables' : 'ip6tables';
  try {
    return { text: await save(`${base}-nft-save`), nft: true };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    return { text: await save(`${base}-save`), nft: false };
  }
}

async function legacyTablesLoaded(family: 'ip' | 'ip6'): Promise<boolean> {
  try {
    return (await readFile(`/proc/net/${family}_tables_names`, 'utf8')).trim() !== '';
  } catch {
    return false;
  }
}

/**
 * iptables and ip6tables rules: the nf_tables variant always, the legacy one too when
 * legacy tables are loaded. `families` says which nft families the dumps covered.
 */
export async function iptablesItems(): Promise<{ items: Item[]; families: Set<string> }> {
  const families = new Set<string>();
  const one = async (family: 'ip' | 'ip6'): Promise<Item[]> => {
    const cmd = family === 'ip' ? 'iptables' : 'ip6tables';
    const { text, nft } = await saveNft(family);
    if (nft) families.add(family);
    const items = parseIptablesSave(text, cmd);
    if (nft && (await legacyTablesLoaded(family))) {
      items.push(...parseIptablesSave(await save(`${cmd}-legacy-save`), `${cmd}-legacy`));
    }
    return items;
  };
  const dumps = await Promise.all([one('ip'), one('ip6')]);
  return { items: dumps.flat(), families };
}

export async function nftItems(savedFamilies: Set<string>): Promise<Item[]> {
  const { stdout } = await run('nft', ['list', 'ruleset'], { maxBuffer: 64 << 20 });
  return nftItemsBesideIptables(parseNftRuleset(stdout), savedFamilies);
}
