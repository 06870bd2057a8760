#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "proto.h"
#include "protocol.h"

int report_fd = -1;
uint16_t report_aux;
uint32_t cur_step;

static void send_text(uint16_t type, int32_t err, const char *fmt, va_list ap)
{
	uint8_t buf[4 + 4 + 1024];
	uint32_t step = cur_step;
	size_t off = 0;
	memcpy(buf, &step, 4);
	off += 4;
	if (type == M_ERROR) {
		memcpy(buf + off, &err, 4);
		off += 4;
	}
	int n = vsnprintf((char *)buf + off + 4, sizeof(buf) - off - 4, fmt, ap);
	if (n < 0)
		n = 0;
	if ((size_t)n > sizeof(buf) - off - 5)
		n = (int)(sizeof(buf) - off - 5);
	uint32_t slen = (uint32_t)n + 1;
	memcpy(buf + off, &slen, 4);
	off += 4 + slen;
	send_frame(report_fd, type, report_aux, buf, off);
}

void fail(int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (report_fd >= 0) {
		send_text(M_ERROR, err, fmt, ap);
	} else {
		vfprintf(stderr, fmt, ap);
		fprintf(stderr, ": %s\n", strerror(err));
	}
	va_end(ap);
	_exit(1);
}

void note(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (report_fd >= 0)
		send_text(M_NOTE, 0, fmt, ap);
	va_end(ap);
}

uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

#define MAX_TIMINGS 512
static uint32_t timings[MAX_TIMINGS * 2 + 1];
static uint32_t ntimings;

void timing_add(uint32_t step, uint64_t usec)
{
	if (ntimings >= MAX_TIMINGS)
		return;
	timings[1 + ntimings * 2] = step;
	timings[2 + ntimings * 2] = usec > UINT32_MAX ? UINT32_MAX : (uint32_t)usec;
	ntimings++;
}

void timing_flush(void)
{
	if (ntimings == 0 || report_fd < 0)
		return;
	timings[0] = ntimings;
	send_frame(report_fd, M_TIMINGS, report_aux, timings, (1 + ntimings * 2) * 4);
	ntimings = 0;
}

int write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int read_all(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;
	size_t got = 0;
	while (got < len) {
		ssize_t n = read(fd, p + got, len - got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			if (got == 0)
				return 1;
			errno = EPIPE;
			return -1;
		}
		got += (size_t)n;
	}
	return 0;
}
