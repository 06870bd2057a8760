// libchrun-gunzip.so: a streaming gunzip on ISA-L's igzip, hashing what it inflates with
// sha256, for layer application (src/sys/gunzip.ts calls it through koffi, each step on a
// thread of its own so that the JavaScript thread only parses tar and writes files).
// igzip inflates 2-3x faster than zlib on x86-64; gunzip is most of a pull's CPU time.
//
// Streams behave as node:zlib's gunzip: several gzip members one after another are one
// stream; after a member, a zero byte ends the stream (the rest is padding and ignored), any
// other byte must start a new member (anything else is an "incorrect header check").
#include <errno.h>
#include <isa-l/igzip_lib.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum phase {
	IN_MEMBER,	// inside a gzip member (or before the first byte of one)
	BETWEEN,	// a member ended: the next byte decides
	PADDING,	// a zero byte followed a member: the rest is ignored
};

struct chrun_gunzip {
	struct inflate_state state;
	EVP_MD_CTX *sha;	// NULL when not hashing
	enum phase phase;
};

// Results of chrun_gunzip_step (besides the negative ISA-L errors).
#define STEP_MORE 0	// give more input (all of this call's was consumed)
#define STEP_FULL 1	// the output buffer is full: call again with the rest of the input
#define STEP_BAD_HASH -100
#define STEP_STALLED -101

static void start_member(struct chrun_gunzip *g)
{
	isal_inflate_reset(&g->state);
	g->state.crc_flag = ISAL_GZIP;
	g->phase = IN_MEMBER;
}

struct chrun_gunzip *chrun_gunzip_new(int hash)
{
	struct chrun_gunzip *g = calloc(1, sizeof(*g));
	if (g == NULL)
		return NULL;
	isal_inflate_init(&g->state);
	start_member(g);
	if (hash) {
		g->sha = EVP_MD_CTX_new();
		if (g->sha == NULL || EVP_DigestInit_ex(g->sha, EVP_sha256(), NULL) != 1) {
			EVP_MD_CTX_free(g->sha);
			free(g);
			return NULL;
		}
	}
	return g;
}

void chrun_gunzip_free(struct chrun_gunzip *g)
{
	if (g == NULL)
		return;
	EVP_MD_CTX_free(g->sha);
	free(g);
}

/*
 * Inflates from in[0, in_len) into out[0, out_cap). counts[0] is set to the input bytes
 * consumed, counts[1] to the output bytes made (already hashed). Returns STEP_MORE when all
 * the input was consumed and more is wanted, STEP_FULL when out is full (call again with the
 * input not consumed, possibly none), or a negative ISA-L error (ISAL_INVALID_BLOCK ...),
 * STEP_BAD_HASH, or STEP_STALLED (input and room left, but igzip moved nothing).
 */
int chrun_gunzip_step(struct chrun_gunzip *g, uint8_t *in, uint32_t in_len, uint8_t *out,
		      uint32_t out_cap, uint32_t *counts)
{
	uint32_t used = 0, made = 0;
	int rc = STEP_MORE;
	for (;;) {
		if (g->phase == PADDING) {
			used = in_len;
			break;
		}
		if (g->phase == BETWEEN) {
			if (used == in_len)
				break;
			if (in[used] == 0) {
				g->phase = PADDING;
				continue;
			}
			if (in[used] != 0x1f) {	// not a gzip member, as zlib finds at once
				rc = ISAL_INVALID_WRAPPER;
				break;
			}
			start_member(g);
		}
		g->state.next_in = in + used;
		g->state.avail_in = in_len - used;
		g->state.next_out = out + made;
		g->state.avail_out = out_cap - made;
		uint32_t used_before = used, made_before = made;
		int err = isal_inflate(&g->state);
		used = (uint32_t)(g->state.next_in - in);
		made = (uint32_t)(g->state.next_out - out);
		if (err < 0) {
			rc = err;
			break;
		}
		if (g->state.block_state == ISAL_BLOCK_FINISH) {
			g->phase = BETWEEN;
			continue;
		}
		if (made == out_cap) {
			rc = STEP_FULL;
			break;
		}
		if (used == in_len && g->state.avail_in == 0)
			break;
		if (used == used_before && made == made_before) {
			// Input left, room left, and nothing moved: never loop on that.
			rc = STEP_STALLED;
			break;
		}
	}
	if (g->sha != NULL && made > 0 && EVP_DigestUpdate(g->sha, out, made) != 1)
		rc = STEP_BAD_HASH;
	counts[0] = used;
	counts[1] = made;
	return rc;
}

/*
 * At the end of the input: 0 when the stream ended cleanly (at a member's end), 1 when it
 * was cut inside a member. With hashing, digest receives the 32-byte sha256 of the output.
 */
int chrun_gunzip_end(struct chrun_gunzip *g, uint8_t *digest)
{
	if (g->phase == IN_MEMBER)
		return 1;
	if (g->sha != NULL) {
		unsigned int n = 0;
		if (EVP_DigestFinal_ex(g->sha, digest, &n) != 1 || n != 32)
			return STEP_BAD_HASH;
	}
	return 0;
}
