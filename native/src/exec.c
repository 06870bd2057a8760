/* The last steps: the pty, the optional reaper as PID 1, fork into a joined pid namespace, and
 * execve with a PATH search in the container's own PATH. */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "child.h"
#include "proto.h"
#include "protocol.h"
#include "util.h"

void op_exec(struct cursor *c)
{
	const char *file = cur_str(c);
	char **argv = cur_strv(c), **envp = cur_strv(c);
	const char *search = cur_str(c);
	timing_flush();
	/* the marker that tells an execve from a death during setup when the socket closes */
	send_frame(report_fd, M_EXEC, 0, NULL, 0);
	if (strchr(file, '/') || !*search) {
		execve(file, argv, envp);
		fail(errno, "%s", file);
	}
	int err = ENOENT, eacces = 0;
	char path[4096];
	for (const char *p = search;; p++) {
		const char *end = strchrnul(p, ':');
		int dirlen = (int)(end - p);
		if (snprintf(path, sizeof(path), "%.*s%s%s", dirlen, p, dirlen ? "/" : "", file) <
		    (int)sizeof(path)) {
			execve(path, argv, envp);
			err = errno;
			if (err == EACCES)
				eacces = 1;
			else if (err != ENOENT && err != ENOTDIR && err != ESTALE && err != ENODEV &&
				 err != ETIMEDOUT)
				fail(err, "%s", path);
		}
		if (!*end)
			break;
		p = end;
	}
	fail(eacces ? EACCES : err, "%s", file);
}

void op_fork(void)
{
	struct clone_args a = { .flags = CLONE_PARENT };
	long pid = syscall(SYS_clone3, &a, sizeof(a));
	if (pid < 0)
		fail(errno, "clone");
	if (pid == 0)
		return;
	int32_t p = (int32_t)pid;
	send_frame(report_fd, M_PID, 0, &p, 4);
	timing_flush();
	_exit(0);
}

static int exit_code(int status)
{
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void op_reaper(void)
{
	sigset_t all, old;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	pid_t child = fork();
	if (child < 0)
		fail(errno, "fork");
	if (child == 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		return;
	}
	close(report_fd);
	if (cx.rootfd >= 0)
		close(cx.rootfd);
	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&all, &si);
		if (sig < 0)
			continue;
		if (sig != SIGCHLD) {
			kill(child, sig);
			continue;
		}
		int status;
		pid_t p;
		while ((p = waitpid(-1, &status, WNOHANG)) > 0)
			if (p == child)
				_exit(exit_code(status));
	}
}

void op_pty(struct cursor *c)
{
	struct winsize ws = { .ws_row = (unsigned short)cur_u32(c),
			      .ws_col = (unsigned short)cur_u32(c) };
	const char *console = cur_str(c);
	int m = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0)
		fail(errno, "open /dev/ptmx");
	int unlock = 0;
	if (ioctl(m, TIOCSPTLCK, &unlock) < 0)
		fail(errno, "unlock the pty");
	if (ws.ws_row && ws.ws_col)
		ioctl(m, TIOCSWINSZ, &ws);
	int s = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY);
	if (s < 0)
		fail(errno, "open the pty peer");
	if (*console) {
		/* /dev/console is the pty's slave (OCI): bind it over an empty file */
		unsigned n;
		char pts[32];
		if (ioctl(m, TIOCGPTN, &n) < 0)
			fail(errno, "pty number");
		snprintf(pts, sizeof(pts), "/dev/pts/%u", n);
		int f = open(console, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (f < 0)
			fail(errno, "create %s", console);
		close(f);
		if (mount(pts, console, NULL, MS_BIND, NULL) < 0)
			fail(errno, "bind %s on %s", pts, console);
	}
	if (send_frame_fd(report_fd, M_PTY, m) < 0)
		fail(errno, "send the pty master");
	close(m);
	if (ioctl(s, TIOCSCTTY, 0) < 0)
		fail(errno, "make the pty the controlling terminal");
	for (int fd = 0; fd < 3; fd++)
		if (dup2(s, fd) < 0)
			fail(errno, "dup2");
	if (s > 2)
		close(s);
}
