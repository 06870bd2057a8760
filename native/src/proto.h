/* Frames (see protocol.h) on stream sockets (chrun's) and seqpacket sockets (the container's). */
#ifndef CHRUN_PROTO_H
#define CHRUN_PROTO_H
#include <stddef.h>
#include <stdint.h>

struct frame {
	uint16_t type;
	uint16_t aux;
	uint32_t len;
	uint8_t *data; /* malloc'd, len bytes (plus a NUL), or NULL */
};

int send_frame(int fd, uint16_t type, uint16_t aux, const void *payload, size_t len);
/* Sends a frame carrying one file descriptor (SCM_RIGHTS). */
int send_frame_fd(int fd, uint16_t type, int passfd);
/* Reads one frame from a stream socket: 0 ok, 1 EOF, -1 error (errno). */
int recv_frame(int fd, struct frame *f, uint32_t max);
/* Reads one datagram frame from a seqpacket socket, with an optional passed fd (or -1):
 * 0 ok, 1 EOF, -1 error. buf must hold FRAME_MAX bytes; f->data points into it. */
int recv_packet(int fd, struct frame *f, uint8_t *buf, size_t buflen, int *passfd);
#endif
