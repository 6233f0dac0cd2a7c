/* pool.h — backend pools and routing.
 *
 * A pool is an ordered set of backends. pool_pick() chooses the live
 * backend with the fewest sessions relative to its weight and counts the
 * new session on it in the same critical section, so counts stay exact
 * under concurrency; every successful pick is paired with exactly one
 * pool_release(). The pool also remembers what the last backend greeting
 * said (version, capabilities, charset) so shunt's own greeting can match
 * the servers behind it. */
#ifndef SHUNT_POOL_H
#define SHUNT_POOL_H

#include <pthread.h>
#include <stdint.h>
#include "config.h"

struct backend {
	struct cfg_addr addr;
	unsigned weight;
	struct pool *pool;
	unsigned active;            /* sessions using it now (under pool->lock) */
	uint64_t total;             /* sessions ever routed to it */
	uint64_t connect_failures;  /* connect errors and timeouts */
	int index;                  /* position in the pool */
};

struct pool {
	char name[CFG_NAME_MAX];
	struct backend *backends;
	size_t n_backends;
	pthread_mutex_t lock;
	/* learned from backend greetings (under lock) */
	int learned;
	char server_version[64];
	uint32_t server_caps;
	uint8_t charset;
};

/* Builds the runtime pools from the configuration. Returns an array of
 * cfg->n_pools pools (owned by the caller, freed with pool_free_all), or NULL. */
struct pool *pool_create_all(const struct shunt_config *cfg);
void pool_free_all(struct pool *pools, size_t n);
struct pool *pool_find(struct pool *pools, size_t n, const char *name);

/* Picks a backend for a new session, skipping those whose index bit is set
 * in tried_mask (backends already tried by this session). Counts the session
 * on the backend. Returns NULL when every backend was tried. */
struct backend *pool_pick(struct pool *p, uint64_t tried_mask);
/* Un-counts a session picked by pool_pick(). */
void pool_release(struct backend *b);
/* Records a connect failure (for logs and, later, health). */
void pool_note_failure(struct backend *b);

/* Logs one line per backend: "pool P backend B weight W active N total N
 * connect_failures N" (SIGUSR1 and shutdown). */
void pool_log_stats(struct pool *pools, size_t n);

/* Remembers what a backend greeting said. */
void pool_learn(struct pool *p, const char *version, size_t vlen, uint32_t caps, uint8_t charset);
/* Copies what shunt should advertise: the learned version or the fallback,
 * the learned capabilities (or all ones when nothing was learned yet) and
 * the charset. */
void pool_greeting_info(struct pool *p, const char *fallback_version,
			char *version, size_t vsize, uint32_t *caps, uint8_t *charset);

#endif
