/* chrun-helper: entry point. Dispatches on argv[1]; each mode lives in its own file. */
#include <stdio.h>
#include <string.h>

#include "version.h"

static int usage(void)
{
	fprintf(stderr, "usage: chrun-helper version\n"
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
	return usage();
}
