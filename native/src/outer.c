/* `chrun-helper init`, host side: reads the plan from fd 3 (a socket to chrun), runs the host
 * steps, clones the container process, places it (cgroups, id maps), releases it, then
 * forwards its reports, relays its pty and reports its exit. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "child.h"
#include "plan.h"
#include "proto.h"
#include "protocol.h"
#include "util.h"


static struct {
	int node_in, node_out; /* chrun's channel: where its messages come from, where ours go */
	const struct plan *pl;
	int inner, sigfd, fifo, console, master;
	pid_t pid;
	int status, exited, node_open, inner_open, error_seen, exec_pending, stdin_open, raw;
	unsigned cflags;
	struct termios saved; /* our stdin terminal's settings before raw mode */
} o = { .inner = -1, .sigfd = -1, .fifo = -1, .console = -1, .master = -1 };

static void write_proc(pid_t pid, const char *file, const char *data)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write_all(fd, data, strlen(data)) < 0)
		fail(errno, "%s", path);
	close(fd);
}

static void cgroup_join(const char *procs)
{
	char buf[16];
	int n = snprintf(buf, sizeof(buf), "%d", o.pid);
	int fd = open(procs, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write_all(fd, buf, (size_t)n) < 0)
		fail(errno, "%s", procs);
	close(fd);
}

static void host_fifo(const char *path)
{
	if (mkfifo(path, 0600) < 0 && errno != EEXIST)
		fail(errno, "mkfifo %s", path);
	o.fifo = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (o.fifo < 0)
		fail(errno, "open %s", path);
	cx.fifo_fd = o.fifo;
}

static void host_console(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path))
		fail(ENAMETOOLONG, "%s", path);
	strcpy(sa.sun_path, path);
	o.console = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (o.console < 0 || connect(o.console, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		fail(errno, "connect %s", path);
}

static void do_clone(const struct step *s, uint32_t index)
{
	struct cursor c;
	cur_init(&c, s);
	uint64_t flags = cur_u64(&c);
	const char *cgroup = cur_str(&c);
	o.cflags = cur_u32(&c);
	int cgfd = -1;
	if (*cgroup) {
		cgfd = open(cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (cgfd < 0)
			fail(errno, "%s", cgroup);
	}
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		fail(errno, "socketpair");
	struct clone_args a = { .flags = flags, .exit_signal = SIGCHLD };
	if (cgfd >= 0) {
		a.flags |= CLONE_INTO_CGROUP;
		a.cgroup = (uint64_t)cgfd;
	}
	long pid = syscall(SYS_clone3, &a, sizeof(a));
	if (pid < 0 && errno == ENOSYS && cgfd < 0)
		pid = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
	if (pid < 0)
		fail(errno, "clone");
	if (pid == 0) {
		close(sv[0]);
		close(o.node_in);
		if (o.node_out != o.node_in)
			close(o.node_out);
		if (cgfd >= 0)
			close(cgfd);
		if (o.console >= 0)
			close(o.console);
		child_main(o.pl, index + 1, sv[1], o.cflags);
	}
	close(sv[1]);
	if (cgfd >= 0)
		close(cgfd);
	if (o.fifo >= 0) {
		close(o.fifo);
		o.fifo = -1;
	}
	o.pid = (pid_t)pid;
	o.inner = sv[0];
	o.inner_open = 1;
}

/* `run -it`: the terminal we relay is raw (as runc and docker make it) until the container ends. */
static void tty_raw(void)
{
	if (!(o.cflags & CLONE_F_RAW_TTY) || !isatty(0) || tcgetattr(0, &o.saved) < 0)
		return;
	struct termios raw = o.saved;
	cfmakeraw(&raw);
	if (tcsetattr(0, TCSANOW, &raw) == 0)
		o.raw = 1;
}

static void tty_restore(void)
{
	if (o.raw)
		tcsetattr(0, TCSANOW, &o.saved);
	o.raw = 0;
}

static void send_pid(void)
{
	int32_t p = o.pid;
	send_frame(o.node_out, M_PID, report_aux, &p, 4);
}

/* Gives the pty master to the console socket (name + SCM_RIGHTS, as runc does) or keeps it
 * to relay it to our stdin and stdout. */
static void take_pty(int fd)
{
	if (o.console < 0) {
		o.master = fd;
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		return;
	}
	char name[] = "/dev/ptmx";
	struct iovec iov = { name, sizeof(name) - 1 };
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof(u));
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b,
			      .msg_controllen = sizeof(u.b) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	sendmsg(o.console, &msg, MSG_NOSIGNAL);
	close(fd);
	close(o.console);
	o.console = -1;
}

/* One message from the container side; returns 0 when the socket is closed or drained. */
static int inner_message(int dontwait)
{
	static uint8_t buf[FRAME_MAX];
	struct frame f;
	int passfd = -1;
	if (dontwait) {
		struct pollfd p = { o.inner, POLLIN, 0 };
		if (poll(&p, 1, 0) <= 0)
			return 0;
	}
	int r = recv_packet(o.inner, &f, buf, sizeof(buf), &passfd);
	if (r != 0) {
		close(o.inner);
		o.inner = -1;
		o.inner_open = 0;
		/* closed on execve (CLOEXEC) after the marker, and no failure reported */
		if (o.exec_pending && !o.error_seen)
			send_frame(o.node_out, M_EXEC, report_aux, NULL, 0);
		return 0;
	}
	switch (f.type) {
	case M_PTY:
		if (passfd >= 0)
			take_pty(passfd);
		break;
	case M_PID:
		if (f.len == 4)
			memcpy(&o.pid, f.data, 4);
		send_pid();
		break;
	case M_EXEC:
		o.exec_pending = 1;
		break;
	case M_ERROR:
		o.error_seen = 1;
		/* fall through */
	default:
		send_frame(o.node_out, f.type, report_aux, f.data, f.len);
		if (f.type == M_READY && (o.cflags & CLONE_F_DETACH))
			_exit(0);
	}
	return 1;
}

static void node_message(void)
{
	struct frame f;
	int r = recv_frame(o.node_in, &f, FRAME_MAX);
	if (r != 0) {
		o.node_open = 0;
		if ((o.cflags & CLONE_F_ATTACHED) && !o.exited)
			kill(o.pid, SIGKILL);
		return;
	}
	if (f.type == M_KILL && f.len == 4 && !o.exited) {
		uint32_t sig;
		memcpy(&sig, f.data, 4);
		kill(o.pid, (int)sig);
	} else if (f.type == M_RESIZE && f.len == 4 && o.master >= 0) {
		uint16_t rc[2];
		memcpy(rc, f.data, 4);
		struct winsize ws = { .ws_row = rc[0], .ws_col = rc[1] };
		ioctl(o.master, TIOCSWINSZ, &ws);
	}
	free(f.data);
}

static void reap(void)
{
	struct signalfd_siginfo si;
	while (read(o.sigfd, &si, sizeof(si)) > 0)
		;
	/* messages the container sent before it exited come first (M_PID from OP_FORK) */
	while (o.inner_open && inner_message(1))
		;
	int status;
	pid_t p;
	while ((p = waitpid(-1, &status, WNOHANG)) > 0) {
		if (p == o.pid) {
			o.exited = 1;
			o.status = status;
		}
	}
}

/* Copies what is readable from one fd to another; 0 on EOF or error. */
static int relay(int from, int to)
{
	char buf[16384];
	ssize_t n = read(from, buf, sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 1;
	if (n <= 0)
		return 0;
	write_all(to, buf, (size_t)n);
	return 1;
}

static int rmtree_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

/* Runs the orphan steps, in plan order, once chrun has died before its container. */
static void orphan_cleanup(void)
{
	for (uint32_t i = 0; i < o.pl->nsteps; i++) {
		const struct step *s = &o.pl->steps[i];
		struct cursor c;
		cur_init(&c, s);
		if (s->op == OP_ORPHAN_UMOUNT) {
			umount2(cur_str(&c), MNT_DETACH);
		} else if (s->op == OP_ORPHAN_RMTREE) {
			/* depth first, never following symlinks nor crossing into another mount */
			nftw(cur_str(&c), rmtree_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
		} else if (s->op == OP_ORPHAN_UNLINK) {
			unlink(cur_str(&c));
		} else if (s->op == OP_ORPHAN_RMDIR) {
			const char *path = cur_str(&c);
			for (int tries = 0; tries < 50 && rmdir(path) < 0 && errno == EBUSY; tries++)
				usleep(2000);
		}
	}
}

static void loop(void)
{
	while (!(o.exited && !o.inner_open && o.master < 0)) {
		struct pollfd p[5];
		int n = 0, ni = -1, nn = -1, nm = -1, ns = -1;
		p[n] = (struct pollfd){ o.sigfd, POLLIN, 0 };
		n++;
		if (o.inner_open) {
			ni = n;
			p[n++] = (struct pollfd){ o.inner, POLLIN, 0 };
		}
		if (o.node_open) {
			nn = n;
			p[n++] = (struct pollfd){ o.node_in, POLLIN, 0 };
		}
		if (o.master >= 0) {
			nm = n;
			p[n++] = (struct pollfd){ o.master, POLLIN, 0 };
			if (o.stdin_open) {
				ns = n;
				p[n++] = (struct pollfd){ 0, POLLIN, 0 };
			}
		}
		/* once the container is gone, drain its pty briefly, then stop */
		int r = poll(p, (nfds_t)n, o.exited ? 100 : -1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0 && o.exited) {
			if (o.master >= 0)
				close(o.master);
			o.master = -1;
			continue;
		}
		if (p[0].revents)
			reap();
		if (ni >= 0 && o.inner_open && p[ni].revents)
			inner_message(0);
		if (nn >= 0 && p[nn].revents)
			node_message();
		if (nm >= 0 && o.master >= 0 && p[nm].revents && !relay(o.master, 1)) {
			close(o.master);
			o.master = -1;
		}
		if (ns >= 0 && p[ns].revents && !relay(0, o.master >= 0 ? o.master : 1))
			o.stdin_open = 0;
	}
}

/* The host side of one container: `in` and `out` are chrun's channel (the same socket, or for
 * the zygote a control socket in and the shared socket out, frames tagged with `tag`). */
int init_main(int in, int out, uint16_t tag, const uint8_t *plan, size_t len)
{
	o.node_in = in;
	o.node_out = out;
	report_fd = out;
	report_aux = tag;
	static struct plan pl;
	char err[256];
	if (plan_parse(&pl, plan, len, err, sizeof(err)) < 0)
		fail(EINVAL, "%s", err);
	o.pl = &pl;
	o.node_open = 1;
	o.stdin_open = 1;

	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	signal(SIGPIPE, SIG_IGN);
	o.sigfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
	if (o.sigfd < 0)
		fail(errno, "signalfd");
	/* keep the terminal's signals (^C, ^\) away: chrun forwards what the container gets */
	setsid();

	for (uint32_t i = 0; i < pl.nsteps; i++) {
		const struct step *s = &pl.steps[i];
		if (!op_is_host(s->op))
			continue;
		struct cursor c;
		cur_init(&c, s);
		cur_step = i;
		uint64_t t0 = now_us();
		switch (s->op) {
		case OP_FIFO: host_fifo(cur_str(&c)); break;
		case OP_CONSOLE_SOCKET: host_console(cur_str(&c)); break;
		case OP_CLONE:
			do_clone(s, i);
			send_pid();
			break;
		case OP_CGROUP_JOIN: cgroup_join(cur_str(&c)); break;
		case OP_UID_MAP: write_proc(o.pid, "uid_map", cur_str(&c)); break;
		case OP_GID_MAP: write_proc(o.pid, "gid_map", cur_str(&c)); break;
		case OP_SETGROUPS_DENY: write_proc(o.pid, "setgroups", "deny"); break;
		default: break; /* orphan steps run only if chrun dies first */
		}
		timing_add(i, now_us() - t0);
	}
	timing_flush();
	tty_raw(); /* the host steps can no longer fail: nothing leaves the terminal raw */
	if (send_frame(o.inner, M_GO, 0, NULL, 0) < 0)
		fail(errno, "release the container process");
	loop();
	tty_restore();
	int32_t st = o.status;
	send_frame(o.node_out, M_EXIT, report_aux, &st, 4);
	if (!o.node_open)
		orphan_cleanup();
	return 0;
}

/* `chrun-helper init`: the plan comes on fd 3, a socket to chrun that carries everything. */
int mode_init(void)
{
	report_fd = 3;
	fcntl(3, F_SETFD, FD_CLOEXEC);
	struct frame f;
	int r = recv_frame(3, &f, PLAN_MAX);
	if (r != 0 || f.type != M_PLAN)
		fail(r == 1 ? EPIPE : errno ? errno : EPROTO, "read the plan");
	return init_main(3, 3, 0, f.data, f.len);
}
