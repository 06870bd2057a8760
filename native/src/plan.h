/* The plan: a bounded binary list of steps (see protocol.h), validated before anything runs. */
#ifndef CHRUN_PLAN_H
#define CHRUN_PLAN_H
#include <stddef.h>
#include <stdint.h>

struct step {
	uint16_t op;
	uint16_t flags;
	uint32_t len;
	const uint8_t *data;
};

struct plan {
	uint32_t nsteps;
	struct step *steps;
};

/* A reader over one step's arguments. Reads past the end set bad and return zeroes. */
struct cursor {
	const uint8_t *p;
	size_t left;
	int bad;
};

void cur_init(struct cursor *c, const struct step *s);
uint32_t cur_u32(struct cursor *c);
uint64_t cur_u64(struct cursor *c);
const char *cur_str(struct cursor *c);
const uint8_t *cur_bytes(struct cursor *c, uint32_t *len);
/* A NULL-terminated vector of strings pointing into the plan (malloc'd array). */
char **cur_strv(struct cursor *c);
/* A u32 array: *count elements copied into a malloc'd array. */
uint32_t *cur_u32v(struct cursor *c, uint32_t *count);

/* Parses and validates every step's arguments; on failure returns -1 with a reason in err. */
int plan_parse(struct plan *pl, const uint8_t *buf, size_t len, char *err, size_t errlen);
/* True for steps run by the helper on the host side (the others run in the container). */
int op_is_host(uint16_t op);
const char *op_name(uint16_t op);
/* Prints the decoded plan, one step a line (the `decode` test mode). */
void plan_dump(const struct plan *pl);
#endif
