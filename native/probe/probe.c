/*
 * chrun-probe: a small static binary the tests copy into container roots where busybox cannot
 * answer a question (crun's tests/init.c idea).
 *   chrun-probe escape FILE   the classic chroot escape, then print FILE
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int escape(const char *file)
{
	mkdir("/tmp/.chrun-jail", 0700);
	/* chroot into a subdirectory without entering it: the cwd stays outside the new root */
	if (chroot("/tmp/.chrun-jail") < 0) {
		printf("chroot: %s\n", strerror(errno));
		return 1;
	}
	for (int i = 0; i < 64; i++)
		if (chdir("..") < 0)
			break;
	if (chroot(".") < 0) {
		printf("chroot .: %s\n", strerror(errno));
		return 1;
	}
	int fd = open(file, O_RDONLY);
	if (fd < 0) {
		printf("open %s: %s\n", file, strerror(errno));
		return 1;
	}
	char buf[256];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = 0;
	printf("%s", buf);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "escape") == 0)
		return escape(argv[2]);
	fprintf(stderr, "usage: chrun-probe escape FILE\n");
	return 2;
}
