import fs from 'node:fs';

/**
 * The few file operations the cgroup managers need, so unit tests can swap the kernel's
 * cgroupfs for a temp-dir fake that behaves like it (fake-cgroup-fs.ts).
 *
 * Synchronous on purpose: control files are kernel pseudo-files, and a synchronous write
 * costs about 16 µs on this machine where fs.promises.writeFile costs about 160 µs (a
 * libuv threadpool round trip each); a v1 container touches some 40 of them.
 */
export interface CgroupFs {
  /** mkdir of one level; throws EEXIST when it exists. */
  mkdir(dir: string): void;
  /** rmdir; EBUSY while the cgroup still has tasks or children. */
  rmdir(dir: string): void;
  /** The names of the sub-directories (child cgroups) of dir. */
  subdirs(dir: string): string[];
  read(file: string): string;
  /** Opens with O_WRONLY (never O_CREAT), as the kernel wants: a missing file is ENOENT. */
  write(file: string, data: string): void;
  exists(file: string): boolean;
}

const WRITE_FLAGS = fs.constants.O_WRONLY;

/** The real cgroupfs. */
export const nodeCgroupFs: CgroupFs = {
  mkdir: (dir) => fs.mkdirSync(dir, 0o755),
  rmdir: (dir) => fs.rmdirSync(dir),
  subdirs: (dir) =>
    fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name),
  read: (file) => fs.readFileSync(file, 'utf8'),
  write: (file, data) => {
    const fd = fs.openSync(file, WRITE_FLAGS);
    try {
      fs.writeSync(fd, data);
    } finally {
      fs.closeSync(fd);
    }
  },
  exists: (file) => fs.existsSync(file),
};
