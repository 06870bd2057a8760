// libchrun-gunzip.so: gunzip jobs on ISA-L's igzip, for layer application. A job reads a
// stored layer blob, inflates it and hashes what it inflates with sha256, on a thread of its
// own, into a ring of output slots ahead of its consumer; src/sys/gunzip.ts takes the filled
// slots through koffi, so the JavaScript thread only parses tar and writes files. igzip
// inflates 2-3x faster than zlib on x86-64; gunzip is most of a pull's CPU time.
//
// Streams behave as node:zlib's gunzip: several gzip members one after another are one
// stream; after a member, a zero byte ends the stream (the rest is padding and ignored), any
// other byte must start a new member (anything else is an "incorrect header check").
#include <errno.h>
#include <fcntl.h>
#include <isa-l/igzip_lib.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum phase {
	IN_MEMBER,	// inside a gzip member (or before the first byte of one)
	BETWEEN,	// a member ended: the next byte decides
	PADDING,	// a zero byte followed a member: the rest is ignored
};

struct gunzip {
	struct inflate_state state;
	EVP_MD_CTX *sha;	// NULL when not hashing
	enum phase phase;
};

// Results of step() (besides the negative ISA-L errors).
#define STEP_MORE 0	// give more input (all of this call's was consumed)
#define STEP_FULL 1	// the output buffer is full: call again with the rest of the input
#define STEP_BAD_HASH -100
#define STEP_STALLED -101

static void start_member(struct gunzip *g)
{
	isal_inflate_reset(&g->state);
	g->state.crc_flag = ISAL_GZIP;
	g->phase = IN_MEMBER;
}

static int gunzip_init(struct gunzip *g, int hash)
{
	isal_inflate_init(&g->state);
	start_member(g);
	if (!hash)
		return 0;
	g->sha = EVP_MD_CTX_new();
	if (g->sha == NULL || EVP_DigestInit_ex(g->sha, EVP_sha256(), NULL) != 1)
		return -1;
	return 0;
}

/*
 * Inflates from in[0, in_len) into out[0, out_cap). counts[0] is set to the input bytes
 * consumed, counts[1] to the output bytes made (already hashed). Returns STEP_MORE when all
 * the input was consumed and more is wanted, STEP_FULL when out is full (call again with the
 * input not consumed, possibly none), or a negative ISA-L error (ISAL_INVALID_BLOCK ...),
 * STEP_BAD_HASH, or STEP_STALLED (input and room left, but igzip moved nothing).
 */
static int step(struct gunzip *g, uint8_t *in, uint32_t in_len, uint8_t *out, uint32_t out_cap,
		uint32_t *counts)
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
static int finish(struct gunzip *g, uint8_t *digest)
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

/*
 * A job: a file inflated (and hashed) by a thread of its own into a ring of output slots,
 * ahead of its consumer, who only takes filled slots (chrun_gunzip_job_next). Inflating never
 * waits for the consumer's thread to come back to its event loop, as a call per step did
 * (each step was started only once the previous one's completion had been seen there).
 *
 * The consumer may still use the chunk it took last while it asks for the next one: a slot is
 * refilled only once the chunk after it has been handed out too.
 */

// Outcomes of chrun_gunzip_job_next (besides the negative ISA-L errors and STEP_BAD_HASH).
#define JOB_CHUNK 1	// info[0] = the slot, info[1] = its length
#define JOB_END 0	// the file ended where the gzip stream did (or in its padding)
#define JOB_NONE 2	// nothing yet (only when not blocking)
#define JOB_TOO_LONG -102	// the file has more bytes than the limit
#define JOB_READ_ERROR -103	// read(2) failed: info[1] = errno
#define JOB_CUT -104	// the file ended inside a gzip member
#define JOB_STOPPED -105	// the job is being freed (its owner is gone)
#define JOB_ENDED 3	// (a job's status once its stream ended well: JOB_END to the consumer)

struct chrun_gunzip_job {
	struct gunzip g;
	int fd;
	int64_t limit;
	int64_t total;	// compressed bytes read (the thread's; read by others once it ended)
	uint8_t *in;
	uint32_t in_cap;
	uint32_t nslots, slot_cap;
	uint8_t *slots;	// nslots * slot_cap
	uint32_t *lens;
	uint64_t produced;	// chunks made
	uint64_t taken;	// chunks handed out
	uint64_t released;	// chunks whose slots may be refilled
	int status;	// 0 while running, else JOB_ENDED or an error
	int err_no;
	int stop;
	int waiters;	// consumers inside chrun_gunzip_job_next
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t thread;
	int started;
	uint8_t digest[32];
	// The live jobs, by owner (the JavaScript thread that started them: see abandon).
	uint32_t owner;
	struct chrun_gunzip_job *prev, *next;
};

static pthread_mutex_t jobs_mu = PTHREAD_MUTEX_INITIALIZER;
static struct chrun_gunzip_job *jobs;

static void *job_run(void *arg)
{
	struct chrun_gunzip_job *j = arg;
	pthread_setname_np(pthread_self(), "chrun-gunzip");	// as ps -L, perf and the tests see it
	uint32_t in_len = 0, in_off = 0;
	int eof = 0, status = 0, err_no = 0;
	while (status == 0) {
		pthread_mutex_lock(&j->mu);
		while (!j->stop && j->produced - j->released >= j->nslots)
			pthread_cond_wait(&j->cv, &j->mu);
		int stop = j->stop;
		uint64_t k = j->produced;
		pthread_mutex_unlock(&j->mu);
		if (stop)
			return NULL;
		uint8_t *out = j->slots + (size_t)(k % j->nslots) * j->slot_cap;
		uint32_t made = 0;
		while (made < j->slot_cap && status == 0) {
			if (in_off == in_len && !eof) {
				// At most one byte past the limit: enough to tell that the file is longer.
				int64_t want = j->in_cap;
				if (want > j->limit + 1 - j->total)
					want = j->limit + 1 - j->total;
				ssize_t n;
				do
					n = pread(j->fd, j->in, (size_t)want, j->total);
				while (n < 0 && errno == EINTR);
				if (n < 0) {
					status = JOB_READ_ERROR;
					err_no = errno;
					break;
				}
				j->total += n;
				if (j->total > j->limit) {
					status = JOB_TOO_LONG;
					break;
				}
				in_len = (uint32_t)n;
				in_off = 0;
				eof = n == 0;
			}
			uint32_t counts[2];
			int rc = step(&j->g, j->in + in_off, in_len - in_off, out + made,
				      j->slot_cap - made, counts);
			in_off += counts[0];
			made += counts[1];
			if (rc < 0) {
				status = rc;
			} else if (rc == STEP_MORE && eof) {
				int e = finish(&j->g, j->digest);
				status = e == 0 ? JOB_ENDED : e == 1 ? JOB_CUT : e;
			}
		}
		pthread_mutex_lock(&j->mu);
		if (made > 0) {
			j->lens[k % j->nslots] = made;
			j->produced++;
		}
		if (status != 0) {
			j->status = status;
			j->err_no = err_no;
		}
		pthread_cond_broadcast(&j->cv);
		pthread_mutex_unlock(&j->mu);
	}
	return NULL;
}

/* Stops the job's thread (it ends within one slot's work) and frees everything. */
static void job_destroy(struct chrun_gunzip_job *j)
{
	if (j->started) {
		pthread_mutex_lock(&j->mu);
		j->stop = 1;
		pthread_cond_broadcast(&j->cv);
		// A consumer still waiting in a threadpool thread (its owner terminated) leaves first.
		while (j->waiters > 0)
			pthread_cond_wait(&j->cv, &j->mu);
		pthread_mutex_unlock(&j->mu);
		pthread_join(j->thread, NULL);
	}
	if (j->fd >= 0)
		close(j->fd);
	EVP_MD_CTX_free(j->g.sha);
	free(j->in);
	free(j->slots);
	free(j->lens);
	pthread_cond_destroy(&j->cv);
	pthread_mutex_destroy(&j->mu);
	free(j);
}

/*
 * Starts inflating the gzip file open at fd (duplicated: the caller may close its own), which
 * may have at most `limit` bytes, into nslots (>= 3) slots of slot_cap bytes, reading in_cap
 * bytes at a time; with `hash`, the output is hashed with sha256. `owner` names the thread
 * that will take the chunks (see chrun_gunzip_jobs_abandon). NULL when out of memory or
 * threads, or fd cannot be duplicated.
 */
struct chrun_gunzip_job *chrun_gunzip_job_start(int fd, int64_t limit, int hash, uint32_t nslots,
						uint32_t slot_cap, uint32_t in_cap, uint32_t owner)
{
	if (nslots < 3 || slot_cap == 0 || in_cap == 0 || limit < 0)
		return NULL;
	struct chrun_gunzip_job *j = calloc(1, sizeof(*j));
	if (j == NULL)
		return NULL;
	j->fd = -1;
	pthread_mutex_init(&j->mu, NULL);
	pthread_cond_init(&j->cv, NULL);
	j->limit = limit;
	j->nslots = nslots;
	j->slot_cap = slot_cap;
	j->in_cap = in_cap;
	j->owner = owner;
	j->in = malloc(in_cap);
	j->slots = malloc((size_t)nslots * slot_cap);
	j->lens = calloc(nslots, sizeof(*j->lens));
	j->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (gunzip_init(&j->g, hash) != 0 || j->in == NULL || j->slots == NULL ||
	    j->lens == NULL || j->fd < 0 || pthread_create(&j->thread, NULL, job_run, j) != 0) {
		job_destroy(j);
		return NULL;
	}
	j->started = 1;
	pthread_mutex_lock(&jobs_mu);
	j->next = jobs;
	if (jobs != NULL)
		jobs->prev = j;
	jobs = j;
	pthread_mutex_unlock(&jobs_mu);
	return j;
}

/* The address of slot i (for a view of it on the JavaScript side). */
uint8_t *chrun_gunzip_job_slot(struct chrun_gunzip_job *j, uint32_t i)
{
	return i < j->nslots ? j->slots + (size_t)i * j->slot_cap : NULL;
}

/*
 * The next chunk: JOB_CHUNK with info[0] = its slot and info[1] = its length; JOB_END once
 * all were taken and the stream ended well; an error once all chunks made before it were
 * taken (JOB_READ_ERROR with info[1] = errno); JOB_NONE when nothing is ready yet and `block`
 * is 0 (with `block`, waits). Asking for a chunk frees the slot of the one before the last.
 */
int chrun_gunzip_job_next(struct chrun_gunzip_job *j, int block, uint32_t *info)
{
	int rc;
	pthread_mutex_lock(&j->mu);
	j->waiters++;
	if (j->taken >= 1 && j->released != j->taken - 1) {
		j->released = j->taken - 1;
		pthread_cond_broadcast(&j->cv);
	}
	while (block && !j->stop && j->produced == j->taken && j->status == 0)
		pthread_cond_wait(&j->cv, &j->mu);
	if (j->stop) {
		info[0] = info[1] = 0;
		rc = JOB_STOPPED;
	} else if (j->produced > j->taken) {
		info[0] = (uint32_t)(j->taken % j->nslots);
		info[1] = j->lens[j->taken % j->nslots];
		j->taken++;
		rc = JOB_CHUNK;
	} else if (j->status != 0) {
		info[0] = 0;
		info[1] = (uint32_t)j->err_no;
		rc = j->status == JOB_ENDED ? JOB_END : j->status;
	} else {
		rc = JOB_NONE;
	}
	if (--j->waiters == 0 && j->stop)
		pthread_cond_broadcast(&j->cv);
	pthread_mutex_unlock(&j->mu);
	return rc;
}

/*
 * After JOB_END: the compressed bytes read (the file's size), and with hashing the sha256 of
 * the output into digest; -1 before.
 */
int64_t chrun_gunzip_job_result(struct chrun_gunzip_job *j, uint8_t *digest)
{
	pthread_mutex_lock(&j->mu);
	int64_t total = j->status == JOB_ENDED ? j->total : -1;
	if (total >= 0)
		memcpy(digest, j->digest, 32);
	pthread_mutex_unlock(&j->mu);
	return total;
}

static void unlink_job(struct chrun_gunzip_job *j)
{
	if (j->prev != NULL)
		j->prev->next = j->next;
	else
		jobs = j->next;
	if (j->next != NULL)
		j->next->prev = j->prev;
}

/* Stops the job (its thread ends within one slot's work) and frees it. */
void chrun_gunzip_job_free(struct chrun_gunzip_job *j)
{
	if (j == NULL)
		return;
	pthread_mutex_lock(&jobs_mu);
	unlink_job(j);
	pthread_mutex_unlock(&jobs_mu);
	job_destroy(j);
}

/*
 * Frees the jobs of an owner that is gone: a worker thread terminated while it applied
 * layers never freed its jobs, whose threads would wait for it forever. Call it only once the
 * owner can no longer run (after its exit). Returns the number of jobs freed.
 */
int chrun_gunzip_jobs_abandon(uint32_t owner)
{
	int n = 0;
	pthread_mutex_lock(&jobs_mu);
	struct chrun_gunzip_job *j = jobs;
	while (j != NULL) {
		struct chrun_gunzip_job *next = j->next;
		if (j->owner == owner) {
			unlink_job(j);
			job_destroy(j);
			n++;
		}
		j = next;
	}
	pthread_mutex_unlock(&jobs_mu);
	return n;
}
