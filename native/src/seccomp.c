/* Seccomp: load BPF that chrun cached, or build the filter from rules with libseccomp (and
 * export its BPF once so chrun can cache it: the `seccomp-export` mode).
 * Rules blob: u32 count, then per rule: str syscall, u32 action, u32 argc,
 * argc x (u32 index, u32 op, u64 value, u64 value2). Actions and ops are libseccomp's values. */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "child.h"
#include "plan.h"
#include "util.h"

void op_seccomp_bpf(struct cursor *c)
{
	uint32_t flags = cur_u32(c), len;
	const uint8_t *bytes = cur_bytes(c, &len);
	if (len == 0 || len % sizeof(struct sock_filter) != 0)
		fail(EINVAL, "seccomp program of %u bytes", len);
	/* sock_fprog.len is an unsigned short: a longer program must not wrap into a short one */
	if (len / sizeof(struct sock_filter) > BPF_MAXINSNS)
		fail(E2BIG, "seccomp program of %zu instructions (the kernel's limit is %d)",
		     len / sizeof(struct sock_filter), BPF_MAXINSNS);
	struct sock_filter *f = malloc(len);
	if (!f)
		fail(ENOMEM, "seccomp");
	memcpy(f, bytes, len);
	struct sock_fprog prog = { (unsigned short)(len / sizeof(struct sock_filter)), f };
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog) < 0)
		fail(errno, "seccomp");
	free(f);
}

/* Builds a libseccomp filter from the rule arguments; returns NULL with *err set. */
static scmp_filter_ctx build(struct cursor *c, int *err, const char **what)
{
	uint32_t defact = cur_u32(c), flags = cur_u32(c), narch, blen;
	uint32_t *archs = cur_u32v(c, &narch);
	const uint8_t *blob = cur_bytes(c, &blen);
	struct step rs = { 0, 0, blen, blob };
	struct cursor r;
	cur_init(&r, &rs);
	scmp_filter_ctx ctx = NULL;
	if (!archs) { /* malformed or out of memory: never a filter without its architectures */
		*err = EINVAL;
		*what = "seccomp architectures (malformed, or out of memory)";
		goto out;
	}
	ctx = seccomp_init(defact);
	*what = "seccomp_init";
	if (!ctx) {
		*err = EINVAL;
		goto out;
	}
	seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	/* a binary tree of syscall numbers instead of a list: each syscall's check, and the
	 * kernel's own walk of the filter for every syscall when it is loaded (the seccomp
	 * action cache), take O(log n) steps instead of O(n); libseccomp < 2.5 lacks it */
	seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	if (flags & SECCOMP_FILTER_FLAG_LOG)
		seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG, 1);
	if (flags & SECCOMP_FILTER_FLAG_SPEC_ALLOW)
		seccomp_attr_set(ctx, SCMP_FLTATR_CTL_SSB, 1);
	*what = "seccomp_arch_add";
	for (uint32_t i = 0; i < narch; i++) {
		int e = seccomp_arch_add(ctx, archs[i]);
		if (e < 0 && e != -EEXIST) {
			*err = -e;
			goto fail;
		}
	}
	uint32_t n = cur_u32(&r);
	for (uint32_t i = 0; i < n && !r.bad; i++) {
		const char *name = cur_str(&r);
		uint32_t action = cur_u32(&r), argc = cur_u32(&r);
		struct scmp_arg_cmp args[6];
		if (argc > 6) {
			*err = EINVAL;
			*what = name;
			goto fail;
		}
		for (uint32_t k = 0; k < argc; k++) {
			args[k].arg = cur_u32(&r);
			args[k].op = (enum scmp_compare)cur_u32(&r);
			args[k].datum_a = cur_u64(&r);
			args[k].datum_b = cur_u64(&r);
		}
		int nr = seccomp_syscall_resolve_name(name);
		if (nr == __NR_SCMP_ERROR)
			continue; /* not a syscall of this architecture */
		int e = seccomp_rule_add_array(ctx, action, nr, argc, args);
		if (e < 0) {
			*err = -e;
			*what = name;
			goto fail;
		}
	}
	if (r.bad || r.left) {
		*err = EINVAL;
		*what = "malformed seccomp rules";
		goto fail;
	}
	goto out;
fail:
	seccomp_release(ctx);
	ctx = NULL;
out:
	free(archs);
	return ctx;
}

/* The length in instructions of the program libseccomp makes of ctx, or -1. */
static long program_length(scmp_filter_ctx ctx)
{
	int fd = (int)syscall(SYS_memfd_create, "seccomp", MFD_CLOEXEC);
	if (fd < 0)
		return -1;
	long insns = -1;
	if (seccomp_export_bpf(ctx, fd) == 0) {
		off_t end = lseek(fd, 0, SEEK_END);
		if (end >= 0)
			insns = (long)(end / (off_t)sizeof(struct sock_filter));
	}
	close(fd);
	return insns;
}

void op_seccomp_rules(struct cursor *c)
{
	int err = 0;
	const char *what = "";
	scmp_filter_ctx ctx = build(c, &err, &what);
	if (!ctx)
		fail(err, "%s", what);
	int e = seccomp_load(ctx);
	if (e < 0) {
		/* the kernel's EINVAL for a program above its length limit reaches us as EINVAL or,
		 * through libseccomp 2.5, as ECANCELED: say what it was */
		long insns = program_length(ctx);
		if (insns > BPF_MAXINSNS)
			fail(E2BIG, "seccomp program of %ld instructions (the kernel's limit is %d)",
			     insns, BPF_MAXINSNS);
	}
	if (e < 0)
		fail(-e, "seccomp_load");
	seccomp_release(ctx);
}

/* `chrun-helper seccomp-export`: rule arguments (as in OP_SECCOMP_RULES) on stdin, the BPF
 * program on stdout. */
int mode_seccomp_export(void)
{
	size_t cap = 1 << 16, len = 0;
	uint8_t *buf = malloc(cap);
	for (;;) {
		if (len == cap) {
			cap *= 2;
			if (cap > (16u << 20))
				fail(EFBIG, "seccomp rules");
			buf = realloc(buf, cap);
		}
		ssize_t n = read(0, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			fail(errno, "read");
		if (n == 0)
			break;
		len += (size_t)n;
	}
	struct step s = { 0, 0, (uint32_t)len, buf };
	struct cursor c;
	cur_init(&c, &s);
	int err = 0;
	const char *what = "";
	scmp_filter_ctx ctx = build(&c, &err, &what);
	if (!ctx)
		fail(err, "%s", what);
	if (c.left)
		fail(EINVAL, "trailing bytes after the seccomp rules");
	int e = seccomp_export_bpf(ctx, 1);
	if (e < 0)
		fail(-e, "seccomp_export_bpf");
	return 0;
}
