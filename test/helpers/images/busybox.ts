// A base layer from Debian's busybox-static: /bin/busybox, a symlink per applet, and the few
// files a shell expects (/etc/passwd, /etc/group, /tmp, /root, mount points).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { TarWriteEntry } from '../../../src/tar/index.js';
import type { LayerSpec } from './build.js';

export const BUSYBOX = '/bin/busybox';
export const FIXTURE_MTIME = 1700000000;

/** The applets a small image needs; `busyboxLayer({ applets: 'all' })` links every one. */
export const DEFAULT_APPLETS = [
  'sh',
  'ash',
  'ls',
  'cat',
  'echo',
  'true',
  'false',
  'id',
  'env',
  'sleep',
  'ps',
  'mount',
  'umount',
  'hostname',
  'pwd',
  'mkdir',
  'rm',
  'cp',
  'mv',
  'ln',
  'touch',
  'stat',
  'test',
  '[',
  'printf',
  'grep',
  'sed',
  'head',
  'tail',
  'wc',
  'sort',
  'uname',
  'whoami',
  'kill',
  'chmod',
  'chown',
  'date',
  'dd',
  'df',
  'du',
  'find',
  'ip',
  'ping',
  'wget',
  'nc',
  'readlink',
  'xargs',
  'tee',
  'tr',
  'cut',
  'yes',
  'getfattr',
  'setfattr',
  'mknod',
  'mkfifo',
  'ulimit',
  'nproc',
];

export interface BusyboxLayerOptions {
  /** The applets to link in /bin (default DEFAULT_APPLETS), or 'all' (`busybox --list`). */
  applets?: readonly string[] | 'all';
  /** Default gzip. */
  compression?: LayerSpec['compression'];
}

let cached: Buffer | undefined;

/** The host's static busybox; a clear error names the Debian package when it is missing. */
export function busyboxBinary(): Buffer {
  if (cached !== undefined) return cached;
  try {
    cached = readFileSync(BUSYBOX);
  } catch (err) {
    throw new Error(`read ${BUSYBOX}: not found (install the Debian package busybox-static)`, {
      cause: err,
    });
  }
  return cached;
}

/** Every applet this busybox has. */
export function busyboxApplets(): string[] {
  return execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean).sort();
}

const dir = (path: string, mode = 0o755): TarWriteEntry => ({
  header: { path, type: 'directory', mode, mtime: FIXTURE_MTIME },
});
const file = (path: string, body: string | Buffer, mode = 0o644): TarWriteEntry => ({
  header: { path, type: 'file', mode, mtime: FIXTURE_MTIME },
  body: typeof body === 'string' ? Buffer.from(body) : body,
});

export const PASSWD =
  'root:x:0:0:root:/root:/bin/sh\n' +
  'daemon:x:1:1:daemon:/usr/sbin:/bin/false\n' +
  'user:x:1000:1000:user:/home/user:/bin/sh\n' +
  'nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n';
export const GROUP =
  'root:x:0:\ndaemon:x:1:\ndisk:x:6:\ntty:x:5:\nuser:x:1000:\nnogroup:x:65534:\n';

/** A busybox root: the layer's entries. */
export function busyboxEntries(options: BusyboxLayerOptions = {}): TarWriteEntry[] {
  const wanted = options.applets ?? DEFAULT_APPLETS;
  const available = new Set(busyboxApplets());
  const applets = (wanted === 'all' ? [...available] : wanted.filter((a) => available.has(a)))
    .filter((a) => a !== 'busybox')
    .sort();
  return [
    dir('bin/'),
    file('bin/busybox', busyboxBinary(), 0o755),
    ...applets.map((a): TarWriteEntry => ({
      header: { path: `bin/${a}`, type: 'symlink', linkname: 'busybox', mtime: FIXTURE_MTIME },
    })),
    dir('dev/'),
    dir('etc/'),
    file('etc/group', GROUP),
    file('etc/hostname', 'busybox\n'),
    file('etc/passwd', PASSWD),
    dir('home/'),
    {
      header: { path: 'home/user/', type: 'directory', uid: 1000, gid: 1000, mtime: FIXTURE_MTIME },
    },
    dir('proc/', 0o555),
    dir('root/', 0o700),
    dir('sys/', 0o555),
    dir('tmp/', 0o1777),
    dir('usr/'),
    dir('usr/bin/'),
    dir('var/'),
  ];
}

/** The busybox base layer. */
export function busyboxLayer(options: BusyboxLayerOptions = {}): LayerSpec {
  return {
    entries: busyboxEntries(options),
    compression: options.compression ?? 'gzip',
    createdBy: 'busybox-static base',
  };
}
