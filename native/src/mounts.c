/* Mount steps. Container paths are resolved inside the root with openat2(RESOLVE_IN_ROOT), so a
 * symlink in an image cannot send a mount onto the host; the mount then goes through the
 * /proc/self/fd magic link of the resolved file (runc does the same). */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "child.h"
#include "protocol.h"
#include "util.h"

static int openat2_in_root(const char *path, int flags)
{
	struct open_how how = { .flags = (uint64_t)(flags | O_CLOEXEC),
				.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
	while (*path == '/')
		path++;
	if (!*path)
		path = ".";
	return (int)syscall(SYS_openat2, cx.rootfd, path, &how, sizeof(how));
}

/* mkdir -p of a container path, each component resolved inside the root. */
static void mkdirs_in_root(const char *path)
{
	char buf[4096];
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		fail(ENAMETOOLONG, "%s", path);
	for (char *p = buf + 1;; p++) {
		if (*p != '/' && *p != 0)
			continue;
		char save = *p;
		*p = 0;
		int fd = openat2_in_root(buf, O_PATH | O_DIRECTORY);
		if (fd < 0 && errno == ENOENT) {
			char *slash = strrchr(buf, '/');
			*slash = 0;
			int parent = openat2_in_root(buf, O_PATH | O_DIRECTORY);
			*slash = '/';
			if (parent < 0)
				fail(errno, "%s", buf);
			if (mkdirat(parent, slash + 1, 0755) < 0 && errno != EEXIST)
				fail(errno, "mkdir %s", buf);
			close(parent);
		} else if (fd < 0) {
			fail(errno, "%s", buf);
		} else {
			close(fd);
		}
		*p = save;
		if (!save)
			break;
	}
}

/* Opens (O_PATH) a container path inside the root, creating it when asked. -1 if optional and
 * missing. */
static int open_in_root(const char *path, unsigned mflags)
{
	if (cx.rootfd < 0)
		fail(EINVAL, "%s: no root set", path);
	int fd = openat2_in_root(path, O_PATH);
	if (fd >= 0 || errno != ENOENT)
		goto out;
	if (mflags & MNT_F_OPTIONAL)
		return -1;
	if (mflags & MNT_F_MKDIR) {
		mkdirs_in_root(path);
	} else if (mflags & MNT_F_MKFILE) {
		char dir[4096];
		snprintf(dir, sizeof(dir), "%s", path);
		char *slash = strrchr(dir, '/');
		if (slash && slash != dir) {
			*slash = 0;
			mkdirs_in_root(dir);
		}
		int parent = openat2_in_root(slash && slash != dir ? dir : "/", O_PATH | O_DIRECTORY);
		if (parent < 0)
			fail(errno, "%s", dir);
		int f = openat(parent, slash ? slash + 1 : path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (f < 0 && errno != EEXIST)
			fail(errno, "create %s", path);
		if (f >= 0)
			close(f);
		close(parent);
	}
	fd = openat2_in_root(path, O_PATH);
out:
	if (fd < 0)
		fail(errno, "%s", path);
	return fd;
}

static const char *nul(const char *s)
{
	return *s ? s : NULL;
}

/* A read-only remount must keep the flags the kernel locked on the mount (in a user
 * namespace it refuses to clear them). */
static unsigned long locked_flags(const char *path)
{
	struct statvfs st;
	if (statvfs(path, &st) < 0)
		return 0;
	unsigned long f = 0;
	if (st.f_flag & ST_NOSUID)
		f |= MS_NOSUID;
	if (st.f_flag & ST_NODEV)
		f |= MS_NODEV;
	if (st.f_flag & ST_NOEXEC)
		f |= MS_NOEXEC;
	return f;
}

void op_mount(struct cursor *c)
{
	const char *src = cur_str(c), *target = cur_str(c), *type = cur_str(c);
	unsigned long flags = (unsigned long)cur_u64(c);
	const char *data = cur_str(c);
	unsigned mflags = cur_u32(c);
	char procfd[64];
	const char *where = target;
	int fd = -1;
	if (mflags & MNT_F_IN_ROOT) {
		fd = open_in_root(target, mflags);
		if (fd < 0)
			return;
		snprintf(procfd, sizeof(procfd), "/proc/self/fd/%d", fd);
		where = procfd;
	} else if ((mflags & MNT_F_MKDIR) && mkdir(target, 0755) < 0 && errno != EEXIST) {
		fail(errno, "mkdir %s", target);
	}
	if ((flags & MS_REMOUNT) && (flags & MS_BIND))
		flags |= locked_flags(where);
	if (mount(nul(src), where, nul(type), flags, nul(data)) < 0) {
		if (errno == ENOENT && (mflags & MNT_F_OPTIONAL))
			goto done;
		fail(errno, "%s", target);
	}
done:
	if (fd >= 0)
		close(fd);
}

void op_rootfs(struct cursor *c)
{
	const char *path = cur_str(c);
	if (cx.rootfd >= 0)
		close(cx.rootfd);
	cx.rootfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cx.rootfd < 0)
		fail(errno, "%s", path);
}

void op_pivot_root(void)
{
	int oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (oldroot < 0)
		fail(errno, "open /");
	if (fchdir(cx.rootfd) < 0)
		fail(errno, "chdir to the root");
	/* pivot_root(".", ".") stacks the old root under the new one; then detach it */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		fail(errno, "pivot_root");
	if (fchdir(oldroot) < 0)
		fail(errno, "chdir to the old root");
	if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
		fail(errno, "make the old root a slave");
	if (umount2(".", MNT_DETACH) < 0)
		fail(errno, "detach the old root");
	if (chdir("/") < 0)
		fail(errno, "chdir /");
	close(oldroot);
}

void op_move_root(void)
{
	if (fchdir(cx.rootfd) < 0)
		fail(errno, "chdir to the root");
	if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
		fail(errno, "move the root onto /");
	if (chroot(".") < 0)
		fail(errno, "chroot");
	if (chdir("/") < 0)
		fail(errno, "chdir /");
}

void op_chroot(struct cursor *c)
{
	const char *path = cur_str(c);
	if (chroot(path) < 0)
		fail(errno, "%s", path);
	if (chdir("/") < 0)
		fail(errno, "chdir /");
}

/* The parent directory of a container path, created if missing; *base gets the last name. */
static int parent_in_root(const char *path, char *buf, size_t len, const char **base)
{
	if (path[0] != '/')
		fail(EINVAL, "%s: not an absolute path", path);
	if (snprintf(buf, len, "%s", path) >= (int)len)
		fail(ENAMETOOLONG, "%s", path);
	char *slash = strrchr(buf, '/');
	if (!slash || !slash[1])
		fail(EINVAL, "%s", path);
	*base = slash + 1;
	*slash = 0;
	if (slash != buf)
		mkdirs_in_root(buf);
	int fd = openat2_in_root(slash == buf ? "/" : buf, O_PATH | O_DIRECTORY);
	if (fd < 0)
		fail(errno, "%s", buf);
	return fd;
}

void op_mknod(struct cursor *c)
{
	const char *path = cur_str(c);
	mode_t mode = (mode_t)cur_u32(c);
	dev_t dev = (dev_t)cur_u64(c);
	uid_t uid = cur_u32(c);
	gid_t gid = cur_u32(c);
	char buf[4096];
	const char *base;
	int dir = parent_in_root(path, buf, sizeof(buf), &base);
	if (mknodat(dir, base, mode, dev) < 0 && errno != EEXIST)
		fail(errno, "%s", path);
	if (fchownat(dir, base, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
		fail(errno, "chown %s", path);
	close(dir);
}

void op_symlink(struct cursor *c)
{
	const char *target = cur_str(c), *path = cur_str(c);
	char buf[4096];
	const char *base;
	int dir = parent_in_root(path, buf, sizeof(buf), &base);
	if (symlinkat(target, dir, base) < 0 && errno != EEXIST)
		fail(errno, "%s", path);
	close(dir);
}

void op_mkdir(struct cursor *c)
{
	const char *path = cur_str(c);
	mode_t mode = (mode_t)cur_u32(c);
	int fd = openat2_in_root(path, O_PATH | O_DIRECTORY);
	if (fd >= 0) {
		close(fd);
		return;
	}
	mkdirs_in_root(path);
	fd = openat2_in_root(path, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		fail(errno, "%s", path);
	fchmod(fd, mode);
	close(fd);
}

void op_mask(struct cursor *c)
{
	const char *path = cur_str(c);
	if (mount("/dev/null", path, NULL, MS_BIND, NULL) == 0)
		return;
	if (errno == ENOENT)
		return;
	if (errno != ENOTDIR)
		fail(errno, "%s", path);
	if (mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0") < 0)
		fail(errno, "%s", path);
}

void op_readonly(struct cursor *c)
{
	const char *path = cur_str(c);
	if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0) {
		if (errno == ENOENT)
			return;
		fail(errno, "%s", path);
	}
	unsigned long f = locked_flags(path) | MS_BIND | MS_REMOUNT | MS_RDONLY;
	if (mount(path, path, NULL, f, NULL) < 0)
		fail(errno, "%s", path);
}
