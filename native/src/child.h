/* The container side of `init`: the steps run in the new process, in plan order. */
#ifndef CHRUN_CHILD_H
#define CHRUN_CHILD_H
#include "plan.h"

struct child_ctx {
	int rootfd;  /* the container's root, once OP_ROOTFS ran */
	int fifo_fd; /* the exec fifo's read end, from OP_FIFO */
};
extern struct child_ctx cx;

__attribute__((noreturn)) void child_main(const struct plan *pl, uint32_t first, int sync_fd,
					  unsigned clone_flags);

/* mounts.c */
void op_mount(struct cursor *c);
void op_rootfs(struct cursor *c);
void op_pivot_root(void);
void op_move_root(void);
void op_chroot(struct cursor *c);
void op_mknod(struct cursor *c);
void op_symlink(struct cursor *c);
void op_mkdir(struct cursor *c);
void op_mask(struct cursor *c);
void op_readonly(struct cursor *c);
/* creds.c */
void op_caps_bounding(struct cursor *c);
void op_caps(struct cursor *c);
void op_ambient(struct cursor *c);
void op_setgroups(struct cursor *c);
void op_rlimit(struct cursor *c);
void op_write_file(struct cursor *c);
/* seccomp.c */
void op_seccomp_bpf(struct cursor *c);
void op_seccomp_rules(struct cursor *c);
/* exec.c */
void op_exec(struct cursor *c);
void op_reaper(void);
void op_pty(struct cursor *c);
void op_fork(void);
#endif
