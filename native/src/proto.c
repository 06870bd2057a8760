#include "proto.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "protocol.h"
#include "util.h"

static void header(uint8_t h[FRAME_HEADER], uint16_t type, uint16_t aux, uint32_t len)
{
	memcpy(h, &len, 4);
	memcpy(h + 4, &type, 2);
	memcpy(h + 6, &aux, 2);
}

int send_frame(int fd, uint16_t type, uint16_t aux, const void *payload, size_t len)
{
	uint8_t h[FRAME_HEADER];
	header(h, type, aux, (uint32_t)len);
	struct iovec iov[2] = { { h, FRAME_HEADER }, { (void *)payload, len } };
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };
	size_t total = FRAME_HEADER + len;
	for (;;) {
		ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if ((size_t)n == total)
			return 0;
		/* a short write on a stream socket: finish with plain writes */
		uint8_t *all = malloc(total);
		if (!all)
			return -1;
		memcpy(all, h, FRAME_HEADER);
		if (len)
			memcpy(all + FRAME_HEADER, payload, len);
		int r = write_all(fd, all + n, total - (size_t)n);
		free(all);
		return r;
	}
}

int send_frame_fd(int fd, uint16_t type, int passfd)
{
	uint8_t h[FRAME_HEADER];
	header(h, type, 0, 0);
	struct iovec iov = { h, FRAME_HEADER };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof(u));
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			      .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &passfd, sizeof(int));
	ssize_t n;
	do
		n = sendmsg(fd, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)FRAME_HEADER ? 0 : -1;
}

int recv_frame(int fd, struct frame *f, uint32_t max)
{
	uint8_t h[FRAME_HEADER];
	int r = read_all(fd, h, FRAME_HEADER);
	if (r != 0)
		return r;
	memcpy(&f->len, h, 4);
	memcpy(&f->type, h + 4, 2);
	memcpy(&f->aux, h + 6, 2);
	if (f->len > max) {
		errno = EMSGSIZE;
		return -1;
	}
	f->data = malloc((size_t)f->len + 1);
	if (!f->data)
		return -1;
	f->data[f->len] = 0;
	if (f->len && read_all(fd, f->data, f->len) != 0) {
		free(f->data);
		f->data = NULL;
		if (errno == 0)
			errno = EPIPE;
		return -1;
	}
	return 0;
}

int recv_packet(int fd, struct frame *f, uint8_t *buf, size_t buflen, int *passfd)
{
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { buf, buflen };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b,
			      .msg_controllen = sizeof(u.b) };
	if (passfd)
		*passfd = -1;
	ssize_t n;
	do
		n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	if (n == 0)
		return 1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && passfd)
			memcpy(passfd, CMSG_DATA(c), sizeof(int));
	}
	if ((size_t)n < FRAME_HEADER) {
		errno = EPROTO;
		return -1;
	}
	memcpy(&f->len, buf, 4);
	memcpy(&f->type, buf + 4, 2);
	memcpy(&f->aux, buf + 6, 2);
	if ((size_t)n != FRAME_HEADER + f->len) {
		errno = EPROTO;
		return -1;
	}
	f->data = buf + FRAME_HEADER;
	return 0;
}
