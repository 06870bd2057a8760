/* Identity and privileges: capabilities (capset and prctl directly), groups, rlimits. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "child.h"
#include "util.h"

void op_caps_bounding(struct cursor *c)
{
	uint64_t keep = cur_u64(c);
	for (int cap = 0; cap < 64; cap++) {
		if (keep & (1ULL << cap))
			continue;
		int r = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
		if (r < 0)
			break; /* past the kernel's last capability */
		if (r == 1 && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
			fail(errno, "drop capability %d from the bounding set", cap);
	}
}

void op_caps(struct cursor *c)
{
	uint64_t eff = cur_u64(c), perm = cur_u64(c), inh = cur_u64(c);
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2] = {
		{ (uint32_t)eff, (uint32_t)perm, (uint32_t)inh },
		{ (uint32_t)(eff >> 32), (uint32_t)(perm >> 32), (uint32_t)(inh >> 32) },
	};
	if (syscall(SYS_capset, &hdr, data) < 0)
		fail(errno, "capset");
}

void op_ambient(struct cursor *c)
{
	uint64_t amb = cur_u64(c);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		fail(errno, "clear ambient capabilities");
	for (int cap = 0; cap < 64; cap++)
		if ((amb & (1ULL << cap)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
			fail(errno, "raise ambient capability %d", cap);
}

void op_setgroups(struct cursor *c)
{
	uint32_t n;
	uint32_t *v = cur_u32v(c, &n);
	gid_t *g = calloc(n ? n : 1, sizeof(gid_t));
	/* NULL is out of memory (an empty list is an array): never drop the groups silently */
	if (!v || !g)
		fail(ENOMEM, "setgroups");
	for (uint32_t i = 0; i < n; i++)
		g[i] = v[i];
	if (setgroups(n, g) < 0)
		fail(errno, "setgroups");
	free(g);
	free(v);
}

void op_rlimit(struct cursor *c)
{
	int res = (int)cur_u32(c);
	struct rlimit rl = { (rlim_t)cur_u64(c), (rlim_t)cur_u64(c) };
	if (setrlimit(res, &rl) < 0)
		fail(errno, "setrlimit %d", res);
}

void op_write_file(struct cursor *c)
{
	const char *path = cur_str(c), *data = cur_str(c);
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		fail(errno, "%s", path);
	if (write_all(fd, data, strlen(data)) < 0)
		fail(errno, "write %s", path);
	close(fd);
}
