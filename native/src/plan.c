#include "plan.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"

/* Argument signatures: s str, v strv, b bytes, u u32, U u64, a u32 array. */
static const struct {
	const char *name;
	const char *sig;
	int host;
} OPS[OP_MAX] = {
	[OP_FIFO] = { "fifo", "s", 1 },
	[OP_CLONE] = { "clone", "Usu", 1 },
	[OP_CGROUP_JOIN] = { "cgroup-join", "s", 1 },
	[OP_UID_MAP] = { "uid-map", "s", 1 },
	[OP_GID_MAP] = { "gid-map", "s", 1 },
	[OP_SETGROUPS_DENY] = { "setgroups-deny", "", 1 },
	[OP_ORPHAN_UNLINK] = { "orphan-unlink", "s", 1 },
	[OP_ORPHAN_RMDIR] = { "orphan-rmdir", "s", 1 },
	[OP_CONSOLE_SOCKET] = { "console-socket", "s", 1 },
	[OP_ORPHAN_UMOUNT] = { "orphan-umount", "s", 1 },
	[OP_ORPHAN_RMTREE] = { "orphan-rmtree", "s", 1 },
	[OP_SETNS] = { "setns", "su", 0 },
	[OP_FORK] = { "fork", "", 0 },
	[OP_MOUNT] = { "mount", "sssUsu", 0 },
	[OP_ROOTFS] = { "rootfs", "s", 0 },
	[OP_PIVOT_ROOT] = { "pivot-root", "", 0 },
	[OP_MOVE_ROOT] = { "move-root", "", 0 },
	[OP_CHROOT] = { "chroot", "s", 0 },
	[OP_MKNOD] = { "mknod", "suUuu", 0 },
	[OP_SYMLINK] = { "symlink", "ss", 0 },
	[OP_MKDIR] = { "mkdir", "su", 0 },
	[OP_MASK] = { "mask", "s", 0 },
	[OP_READONLY] = { "readonly", "s", 0 },
	[OP_WRITE_FILE] = { "write-file", "ss", 0 },
	[OP_HOSTNAME] = { "hostname", "s", 0 },
	[OP_DOMAINNAME] = { "domainname", "s", 0 },
	[OP_RLIMIT] = { "rlimit", "uUU", 0 },
	[OP_CHDIR] = { "chdir", "s", 0 },
	[OP_UMASK] = { "umask", "u", 0 },
	[OP_SETSID] = { "setsid", "", 0 },
	[OP_PTY] = { "pty", "uus", 0 },
	[OP_CAPS_BOUNDING] = { "caps-bounding", "U", 0 },
	[OP_KEEPCAPS] = { "keepcaps", "u", 0 },
	[OP_SETGROUPS] = { "setgroups", "a", 0 },
	[OP_SETGID] = { "setgid", "u", 0 },
	[OP_SETUID] = { "setuid", "u", 0 },
	[OP_CAPS] = { "caps", "UUU", 0 },
	[OP_AMBIENT] = { "ambient", "U", 0 },
	[OP_NO_NEW_PRIVS] = { "no-new-privs", "", 0 },
	[OP_SECCOMP_BPF] = { "seccomp-bpf", "ub", 0 },
	[OP_SECCOMP_RULES] = { "seccomp-rules", "uuab", 0 },
	[OP_READY] = { "ready", "", 0 },
	[OP_FIFO_WAIT] = { "fifo-wait", "", 0 },
	[OP_REAPER] = { "reaper", "", 0 },
	[OP_EXEC] = { "exec", "svvs", 0 },
	[OP_CLOSE_FDS] = { "close-fds", "u", 0 },
	[OP_PDEATHSIG] = { "pdeathsig", "u", 0 },
	[OP_LOOPBACK_UP] = { "loopback-up", "", 0 },
	[OP_UNSHARE] = { "unshare", "u", 0 },
};

void cur_init(struct cursor *c, const struct step *s)
{
	c->p = s->data;
	c->left = s->len;
	c->bad = 0;
}

static const uint8_t *take(struct cursor *c, size_t n)
{
	if (c->bad || c->left < n) {
		c->bad = 1;
		return NULL;
	}
	const uint8_t *p = c->p;
	c->p += n;
	c->left -= n;
	return p;
}

uint32_t cur_u32(struct cursor *c)
{
	uint32_t v = 0;
	const uint8_t *p = take(c, 4);
	if (p)
		memcpy(&v, p, 4);
	return v;
}

uint64_t cur_u64(struct cursor *c)
{
	uint64_t v = 0;
	const uint8_t *p = take(c, 8);
	if (p)
		memcpy(&v, p, 8);
	return v;
}

const char *cur_str(struct cursor *c)
{
	uint32_t n = cur_u32(c);
	const uint8_t *p = n ? take(c, n) : NULL;
	/* a string is its bytes and one NUL, with no NUL inside */
	if (!p || p[n - 1] != 0 || memchr(p, 0, n) != p + n - 1) {
		c->bad = 1;
		return "";
	}
	return (const char *)p;
}

const uint8_t *cur_bytes(struct cursor *c, uint32_t *len)
{
	*len = cur_u32(c);
	const uint8_t *p = take(c, *len);
	if (!p)
		*len = 0;
	return p;
}

char **cur_strv(struct cursor *c)
{
	uint32_t n = cur_u32(c);
	if (c->bad || n > c->left / 5) { /* each string takes at least 5 bytes */
		c->bad = 1;
		return NULL;
	}
	char **v = calloc((size_t)n + 1, sizeof(char *));
	if (!v) {
		c->bad = 1;
		return NULL;
	}
	for (uint32_t i = 0; i < n; i++)
		v[i] = (char *)cur_str(c);
	return v;
}

uint32_t *cur_u32v(struct cursor *c, uint32_t *count)
{
	*count = cur_u32(c);
	if (c->bad || *count > c->left / 4) {
		c->bad = 1;
		*count = 0;
		return NULL;
	}
	uint32_t *v = calloc((size_t)*count + 1, sizeof(uint32_t));
	if (!v) {
		/* out of memory: NULL with a count of 0, never a count without its array */
		c->bad = 1;
		*count = 0;
		return NULL;
	}
	for (uint32_t i = 0; i < *count; i++)
		v[i] = cur_u32(c);
	return v;
}

int op_is_host(uint16_t op)
{
	return op < OP_MAX && OPS[op].host;
}

const char *op_name(uint16_t op)
{
	return op < OP_MAX && OPS[op].name ? OPS[op].name : "?";
}

static int check_sig(const struct step *s)
{
	struct cursor c;
	cur_init(&c, s);
	for (const char *t = OPS[s->op].sig; *t; t++) {
		uint32_t n;
		switch (*t) {
		case 's':
			cur_str(&c);
			break;
		case 'v':
			free(cur_strv(&c));
			break;
		case 'b':
			cur_bytes(&c, &n);
			break;
		case 'u':
			cur_u32(&c);
			break;
		case 'U':
			cur_u64(&c);
			break;
		case 'a':
			free(cur_u32v(&c, &n));
			break;
		}
	}
	return c.bad || c.left ? -1 : 0;
}

int plan_parse(struct plan *pl, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
	struct step hdr = { 0, 0, (uint32_t)len, buf };
	struct cursor c;
	cur_init(&c, &hdr);
	uint32_t magic = cur_u32(&c);
	uint32_t n = cur_u32(&c);
	if (c.bad || magic != PLAN_MAGIC) {
		snprintf(err, errlen, "plan: bad magic");
		return -1;
	}
	if (n > c.left / 8) {
		snprintf(err, errlen, "plan: %" PRIu32 " steps cannot fit in %zu bytes", n, c.left);
		return -1;
	}
	pl->nsteps = n;
	pl->steps = calloc(n ? n : 1, sizeof(struct step));
	if (!pl->steps) {
		snprintf(err, errlen, "plan: out of memory");
		return -1;
	}
	int cloned = 0;
	for (uint32_t i = 0; i < n; i++) {
		struct step *s = &pl->steps[i];
		const uint8_t *h = take(&c, 8);
		if (!h) {
			snprintf(err, errlen, "plan: step %" PRIu32 ": truncated header", i);
			return -1;
		}
		memcpy(&s->op, h, 2);
		memcpy(&s->flags, h + 2, 2);
		memcpy(&s->len, h + 4, 4);
		s->data = take(&c, s->len);
		if (!s->data && s->len) {
			snprintf(err, errlen, "plan: step %" PRIu32 ": truncated", i);
			return -1;
		}
		if (s->op >= OP_MAX || !OPS[s->op].name) {
			snprintf(err, errlen, "plan: step %" PRIu32 ": unknown op %u", i, s->op);
			return -1;
		}
		if (check_sig(s) != 0) {
			snprintf(err, errlen, "plan: step %" PRIu32 " (%s): malformed arguments", i,
				 OPS[s->op].name);
			return -1;
		}
		if (s->op == OP_CLONE && cloned++) {
			snprintf(err, errlen, "plan: step %" PRIu32 ": a second clone", i);
			return -1;
		}
		if (!OPS[s->op].host && !cloned) {
			snprintf(err, errlen, "plan: step %" PRIu32 " (%s): before clone", i,
				 OPS[s->op].name);
			return -1;
		}
	}
	if (c.left) {
		snprintf(err, errlen, "plan: %zu trailing bytes", c.left);
		return -1;
	}
	if (!cloned) {
		snprintf(err, errlen, "plan: no clone step");
		return -1;
	}
	return 0;
}

void plan_dump(const struct plan *pl)
{
	for (uint32_t i = 0; i < pl->nsteps; i++) {
		const struct step *s = &pl->steps[i];
		struct cursor c;
		cur_init(&c, s);
		printf("%s", OPS[s->op].name);
		for (const char *t = OPS[s->op].sig; *t; t++) {
			uint32_t n;
			switch (*t) {
			case 's':
				printf(" s:%s", cur_str(&c));
				break;
			case 'v': {
				char **v = cur_strv(&c);
				printf(" v:[");
				for (char **p = v; p && *p; p++)
					printf("%s%s", p == v ? "" : ",", *p);
				printf("]");
				free(v);
				break;
			}
			case 'b':
				cur_bytes(&c, &n);
				printf(" b:%" PRIu32, n);
				break;
			case 'u':
				printf(" u:%" PRIu32, cur_u32(&c));
				break;
			case 'U':
				printf(" U:%" PRIu64, cur_u64(&c));
				break;
			case 'a': {
				uint32_t *v = cur_u32v(&c, &n);
				printf(" a:[");
				for (uint32_t k = 0; k < n; k++)
					printf("%s%" PRIu32, k ? "," : "", v[k]);
				printf("]");
				free(v);
				break;
			}
			}
		}
		printf("\n");
	}
}
