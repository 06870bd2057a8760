/*
 * `chrun-helper zygote`: a small resident process that forks the host side of each container
 * on request, so a Node process running many containers pays a fork of this process rather
 * than a fork+exec of itself. fd 3 is the socket to chrun; each container's frames carry
 * its tag in the aux field. chrun -> container frames are forwarded to that container's
 * control socket; container -> chrun frames are written to fd 3 directly (small frames, one
 * sendmsg each). When chrun goes away, so does the zygote, and each container's host side
 * sees its control socket close, as if chrun had died.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proto.h"
#include "protocol.h"
#include "util.h"

int init_main(int in, int out, uint16_t tag, const uint8_t *plan, size_t len);

#define MAX_KIDS 1024
static struct kid {
	uint16_t tag;
	int ctl;
	pid_t pid;
} kids[MAX_KIDS];
static int nkids;

/* Every spawn gets an answer: the helper's pid, or why there is none. */
static void spawned(uint16_t tag, int32_t v)
{
	send_frame(3, M_SPAWNED, tag, &v, sizeof(v));
}

static void spawn_kid(uint16_t tag, const uint8_t *p, uint32_t len, int sigfd)
{
	if (len < 4) {
		spawned(tag, -EINVAL);
		return;
	}
	if (nkids >= MAX_KIDS) {
		spawned(tag, -EAGAIN);
		return;
	}
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		spawned(tag, -errno);
		return;
	}
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(sv[0]);
		close(sv[1]);
		spawned(tag, -e);
		return;
	}
	if (pid == 0) {
		close(sv[0]);
		close(sigfd);
		for (int i = 0; i < nkids; i++)
			close(kids[i].ctl);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		/* stdio: 0 keep the zygote's (chrun's), 1 /dev/null */
		for (int fd = 0; fd < 3; fd++) {
			if (p[fd] == 1) {
				int n = open("/dev/null", O_RDWR | O_CLOEXEC);
				if (n >= 0 && n != fd) {
					dup2(n, fd);
					close(n);
				}
			}
		}
		_exit(init_main(sv[1], 3, tag, p + 4, len - 4));
	}
	close(sv[1]);
	kids[nkids++] = (struct kid){ tag, sv[0], pid };
	spawned(tag, pid);
}

static void forward(const struct frame *f)
{
	for (int i = 0; i < nkids; i++)
		if (kids[i].tag == f->aux)
			send_frame(kids[i].ctl, f->type, f->aux, f->data, f->len);
}

static void reap(int sigfd)
{
	struct signalfd_siginfo si;
	while (read(sigfd, &si, sizeof(si)) > 0)
		;
	pid_t pid;
	while ((pid = waitpid(-1, NULL, WNOHANG)) > 0) {
		for (int i = 0; i < nkids; i++) {
			if (kids[i].pid == pid) {
				send_frame(3, M_GONE, kids[i].tag, NULL, 0);
				close(kids[i].ctl);
				kids[i] = kids[--nkids];
				break;
			}
		}
	}
}

int mode_zygote(void)
{
	fcntl(3, F_SETFD, FD_CLOEXEC);
	signal(SIGPIPE, SIG_IGN);
	setsid();
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	int sigfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sigfd < 0)
		return 1;
	for (;;) {
		struct pollfd p[2] = { { 3, POLLIN, 0 }, { sigfd, POLLIN, 0 } };
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		if (p[1].revents)
			reap(sigfd);
		if (!p[0].revents)
			continue;
		struct frame f;
		int r = recv_frame(3, &f, PLAN_MAX + 4);
		if (r != 0)
			return 0; /* chrun is gone: the containers' control sockets close with us */
		if (f.type == M_SPAWN)
			spawn_kid(f.aux, f.data, f.len, sigfd);
		else
			forward(&f);
		free(f.data);
	}
}
