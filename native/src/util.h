/* Shared helpers: failure reporting to chrun, timings, full reads and writes. */
#ifndef CHRUN_UTIL_H
#define CHRUN_UTIL_H
#include <stddef.h>
#include <stdint.h>

/* The socket failures and notes go to: chrun's (host side) or the helper's (container side). */
extern int report_fd;
/* The aux field of every frame sent there (the zygote's tag of this container). */
extern uint16_t report_aux;
/* Index of the plan step being carried out, reported with every failure. */
extern uint32_t cur_step;

/* Reports {cur_step, err, detail} as M_ERROR and exits 1. */
__attribute__((noreturn, format(printf, 2, 3))) void fail(int err, const char *fmt, ...);
__attribute__((format(printf, 1, 2))) void note(const char *fmt, ...);

uint64_t now_us(void);
/* Per-step timings, sent as M_TIMINGS; timing_flush sends and clears those recorded so far. */
void timing_add(uint32_t step, uint64_t usec);
void timing_flush(void);

int write_all(int fd, const void *buf, size_t len);
int read_all(int fd, void *buf, size_t len); /* 0 ok, -1 error, 1 EOF before any byte */
#endif
