/* chrun-helper: entry point. Dispatches on argv[1]; each mode lives in its own file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plan.h"
#include "proto.h"
#include "protocol.h"
#include "version.h"

int mode_init(void);
int mode_seccomp_export(void);
int mode_zygote(void);

/* `decode`: a plan frame on stdin, its steps on stdout (tests the C decoder from TS). */
static int mode_decode(void)
{
	struct frame f;
	if (recv_frame(0, &f, PLAN_MAX) != 0 || f.type != M_PLAN) {
		fprintf(stderr, "decode: no plan frame on stdin\n");
		return 1;
	}
	struct plan pl;
	char err[256];
	if (plan_parse(&pl, f.data, f.len, err, sizeof(err)) < 0) {
		printf("error: %s\n", err);
		return 1;
	}
	plan_dump(&pl);
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: chrun-helper version|init|zygote|seccomp-export|decode\n"
			"This program is started by chrun; it is not meant to be run by hand.\n");
	return 2;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	if (strcmp(argv[1], "version") == 0) {
		printf("chrun-helper %s\n", CHRUN_HELPER_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "init") == 0)
		return mode_init();
	if (strcmp(argv[1], "zygote") == 0)
		return mode_zygote();
	if (strcmp(argv[1], "seccomp-export") == 0)
		return mode_seccomp_export();
	if (strcmp(argv[1], "decode") == 0)
		return mode_decode();
	return usage();
}
