import { ChrunError } from '../util/index.js';

/** The identity a container's process runs as. */
export interface ResolvedUser {
  uid: number;
  gid: number;
  /** Supplementary groups, the primary group first (as docker passes them). */
  additionalGids: number[];
  /** The user's home directory from /etc/passwd ("/" when it has no entry). */
  home: string;
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

const MAX_ID = 2 ** 31 - 1;

function numeric(text: string): number | undefined {
  return /^\d+$/.test(text) ? Number(text) : undefined;
}

/** /etc/passwd lines: name:password:uid:gid:gecos:home:shell (malformed lines skipped). */
export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(':');
    if (f.length < 4 || f[0] === '' || f[0]!.startsWith('#')) continue;
    const uid = numeric(f[2]!);
    const gid = numeric(f[3]!);
    if (uid === undefined || gid === undefined) continue;
    out.push({ name: f[0]!, uid, gid, home: f[5] ?? '' });
  }
  return out;
}

/** /etc/group lines: name:password:gid:member,member. */
export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(':');
    if (f.length < 3 || f[0] === '' || f[0]!.startsWith('#')) continue;
    const gid = numeric(f[2]!);
    if (gid === undefined) continue;
    out.push({ name: f[0]!, gid, members: (f[3] ?? '').split(',').filter((m) => m !== '') });
  }
  return out;
}

function checkRange(id: number, what: string, spec: string): number {
  if (id > MAX_ID) {
    throw new ChrunError(
      'CHRUN_INVALID_ARGUMENT',
      `user ${spec}: ${what} ${id} is out of range (0-${MAX_ID})`,
    );
  }
  return id;
}

/**
 * `--user user[:group]` (or the image's User) resolved as runc and docker do: names from the
 * image's /etc/passwd and /etc/group; a number stands for itself even without an entry (its
 * group is then 0 and its home "/"); a user found in /etc/passwd gets the groups that list it
 * as a member, unless a group is given explicitly. `passwd` and `group` are the image's files
 * (undefined when it has none).
 */
export function resolveUser(
  spec: string | undefined,
  passwd: string | undefined,
  group: string | undefined,
): ResolvedUser {
  const text = spec ?? '';
  const colon = text.indexOf(':');
  const userArg = colon < 0 ? text : text.slice(0, colon);
  const groupArg = colon < 0 ? '' : text.slice(colon + 1);
  const users = parsePasswd(passwd ?? '');
  const uidArg = numeric(userArg);
  const entry = users.find((u) =>
    userArg === '' ? u.uid === 0 : uidArg !== undefined ? u.uid === uidArg : u.name === userArg,
  );
  let uid: number;
  let gid: number;
  let home = '/';
  if (entry !== undefined) {
    uid = entry.uid;
    gid = entry.gid;
    home = entry.home === '' ? '/' : entry.home;
  } else if (userArg === '') {
    uid = 0;
    gid = 0;
  } else if (uidArg !== undefined) {
    uid = checkRange(uidArg, 'uid', text);
    gid = 0;
  } else {
    throw new ChrunError(
      'CHRUN_INVALID_ARGUMENT',
      `unable to find user ${userArg}: no matching entries in passwd file`,
      { fields: { user: userArg } },
    );
  }
  const groups = parseGroup(group ?? '');
  let supplementary: number[] = [];
  if (groupArg !== '') {
    const gidArg = numeric(groupArg);
    const g = groups.find((e) => (gidArg !== undefined ? e.gid === gidArg : e.name === groupArg));
    if (g !== undefined) gid = g.gid;
    else if (gidArg !== undefined) gid = checkRange(gidArg, 'gid', text);
    else {
      throw new ChrunError(
        'CHRUN_INVALID_ARGUMENT',
        `unable to find group ${groupArg}: no matching entries in group file`,
        { fields: { group: groupArg } },
      );
    }
  } else if (entry !== undefined) {
    supplementary = groups.filter((g) => g.members.includes(entry.name)).map((g) => g.gid);
  }
  return { uid, gid, additionalGids: [...new Set([gid, ...supplementary])], home };
}
