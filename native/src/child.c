#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "proto.h"
#include "protocol.h"
#include "util.h"

struct child_ctx cx = { .rootfd = -1, .fifo_fd = -1 };

static void op_setns(struct cursor *c)
{
	const char *path = cur_str(c);
	int type = (int)cur_u32(c);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fail(errno, "open %s", path);
	if (setns(fd, type) < 0)
		fail(errno, "%s", path);
	close(fd);
}

static void op_fifo_wait(void)
{
	if (cx.fifo_fd < 0)
		fail(EBADF, "no exec fifo");
	struct pollfd p = { cx.fifo_fd, POLLIN, 0 };
	while (poll(&p, 1, -1) < 0)
		if (errno != EINTR)
			fail(errno, "poll");
	char b;
	ssize_t n = read(cx.fifo_fd, &b, 1);
	if (n != 1)
		fail(n < 0 ? errno : EPIPE, "exec fifo closed without a start");
	close(cx.fifo_fd);
	cx.fifo_fd = -1;
}

/* A new network namespace has only lo, and it is down: bring it up (as crun does). */
static void op_loopback_up(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		fail(errno, "socket");
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		fail(errno, "SIOCGIFFLAGS lo");
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		fail(errno, "SIOCSIFFLAGS lo");
	close(fd);
}

static void run_step(const struct step *s)
{
	struct cursor c;
	cur_init(&c, s);
	uint32_t u;
	const char *str;
	switch (s->op) {
	case OP_SETNS: op_setns(&c); break;
	case OP_FORK: op_fork(); break;
	case OP_MOUNT: op_mount(&c); break;
	case OP_ROOTFS: op_rootfs(&c); break;
	case OP_PIVOT_ROOT: op_pivot_root(); break;
	case OP_MOVE_ROOT: op_move_root(); break;
	case OP_CHROOT: op_chroot(&c); break;
	case OP_MKNOD: op_mknod(&c); break;
	case OP_SYMLINK: op_symlink(&c); break;
	case OP_MKDIR: op_mkdir(&c); break;
	case OP_MASK: op_mask(&c); break;
	case OP_READONLY: op_readonly(&c); break;
	case OP_WRITE_FILE: op_write_file(&c); break;
	case OP_HOSTNAME:
		str = cur_str(&c);
		if (sethostname(str, strlen(str)) < 0)
			fail(errno, "%s", str);
		break;
	case OP_DOMAINNAME:
		str = cur_str(&c);
		if (setdomainname(str, strlen(str)) < 0)
			fail(errno, "%s", str);
		break;
	case OP_RLIMIT: op_rlimit(&c); break;
	case OP_CHDIR:
		str = cur_str(&c);
		if (chdir(str) < 0)
			fail(errno, "%s", str);
		break;
	case OP_UMASK: umask((mode_t)cur_u32(&c)); break;
	case OP_SETSID:
		if (setsid() < 0)
			fail(errno, "setsid");
		break;
	case OP_PTY: op_pty(&c); break;
	case OP_CAPS_BOUNDING: op_caps_bounding(&c); break;
	case OP_KEEPCAPS:
		if (prctl(PR_SET_KEEPCAPS, cur_u32(&c), 0, 0, 0) < 0)
			fail(errno, "keepcaps");
		break;
	case OP_SETGROUPS: op_setgroups(&c); break;
	case OP_SETGID:
		u = cur_u32(&c);
		if (setresgid(u, u, u) < 0)
			fail(errno, "setgid %u", u);
		break;
	case OP_SETUID:
		u = cur_u32(&c);
		if (setresuid(u, u, u) < 0)
			fail(errno, "setuid %u", u);
		break;
	case OP_CAPS: op_caps(&c); break;
	case OP_AMBIENT: op_ambient(&c); break;
	case OP_NO_NEW_PRIVS:
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			fail(errno, "no_new_privs");
		break;
	case OP_SECCOMP_BPF: op_seccomp_bpf(&c); break;
	case OP_SECCOMP_RULES: op_seccomp_rules(&c); break;
	case OP_READY:
		send_frame(report_fd, M_READY, 0, NULL, 0);
		timing_flush();
		break;
	case OP_FIFO_WAIT: op_fifo_wait(); break;
	case OP_REAPER: op_reaper(); break;
	case OP_EXEC: op_exec(&c); break;
	case OP_CLOSE_FDS:
		u = cur_u32(&c);
		if (syscall(SYS_close_range, u, ~0U, 4 /* CLOSE_RANGE_CLOEXEC */) < 0)
			fail(errno, "close_range");
		break;
	case OP_LOOPBACK_UP: op_loopback_up(); break;
	case OP_UNSHARE:
		if (unshare((int)cur_u32(&c)) < 0)
			fail(errno, "unshare");
		break;
	case OP_PDEATHSIG:
		if (prctl(PR_SET_PDEATHSIG, cur_u32(&c), 0, 0, 0) < 0)
			fail(errno, "pdeathsig");
		break;
	default: fail(EINVAL, "step %s cannot run in the container", op_name(s->op));
	}
}

void child_main(const struct plan *pl, uint32_t first, int sync_fd, unsigned clone_flags)
{
	report_fd = sync_fd;
	cur_step = first - 1;
	if (clone_flags & CLONE_F_ATTACHED)
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	umask(0);

	/* wait until the helper has placed us in our cgroups and written the id maps */
	static uint8_t buf[256];
	struct frame f;
	int r = recv_packet(sync_fd, &f, buf, sizeof(buf), NULL);
	if (r != 0 || f.type != M_GO)
		_exit(1);

	for (uint32_t i = first; i < pl->nsteps; i++) {
		const struct step *s = &pl->steps[i];
		if (op_is_host(s->op))
			continue;
		cur_step = i;
		uint64_t t0 = now_us();
		run_step(s);
		timing_add(i, now_us() - t0);
	}
	fail(EINVAL, "the plan ends without an exec step");
}
