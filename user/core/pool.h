/* pool.h — backend pools, routing, and runtime backend changes.
 *
 * A pool is an ordered set of backends that can change while shunt runs
 * (admin commands, config reload). pool_pick() chooses the usable backend
 * with the fewest sessions relative to its weight and counts the new
 * session on it in the same critical section, so counts stay exact under
 * concurrency; every successful pick is paired with exactly one
 * pool_release().
 *
 * Lifetime: backends are heap objects with a reference count: one for
 * the pool's list and one per session counted on it. REMOVE BACKEND takes
 * it out of the list (no new sessions) and the last session to release
 * it frees it, so a session's `struct backend *` stays valid for as long
 * as the session holds it.
 *
 * States: the operator sets online / draining / offline; health adds
 * "down" on top (consecutive connect failures, cleared by a successful
 * login or probe). Only online backends that are not down receive new
 * sessions; when every online backend of a pool is down, the down ones
 * are still tried (a probe may be stale, and refusing outright helps no
 * one). The pool also remembers what the last backend greeting said
 * (version, capabilities, charset) so shunt's own greeting matches. */
#ifndef SHUNT_POOL_H
#define SHUNT_POOL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include "core/config.h"

enum backend_state { BACKEND_ONLINE = 0, BACKEND_DRAINING, BACKEND_OFFLINE, BACKEND__STATES };

/* Latency histogram buckets (upper bounds, microseconds) for the backend
 * connect and login times shown in /metrics. */
#define POOL_LAT_BUCKETS 12
extern const uint64_t pool_lat_bounds_us[POOL_LAT_BUCKETS];

struct lat_hist {
	atomic_uint_fast64_t bucket[POOL_LAT_BUCKETS + 1];  /* last: +Inf */
	atomic_uint_fast64_t sum_us;
	atomic_uint_fast64_t count;
};

struct backend {
	struct cfg_addr addr;
	struct pool *pool;
	uint64_t serial;            /* unique for the process's life (log, tried sets) */
	/* under pool->lock */
	unsigned weight;
	enum backend_state state;
	unsigned refs;              /* 1 while listed in the pool + sessions counted on it */
	unsigned active;            /* sessions using it now */
	uint64_t total;             /* sessions ever routed to it */
	uint64_t connect_failures;  /* connect errors and timeouts, ever */
	unsigned consecutive_failures;
	int down;                   /* health: consecutive_failures >= threshold */
	int64_t health_checked_ms;  /* CLOCK_REALTIME ms of the last result, 0 = never */
	char health_error[128];     /* last failure, "" when healthy */
	/* lock-free */
	struct lat_hist connect_lat;   /* TCP connect */
	struct lat_hist login_lat;     /* greeting .. login OK */
};

struct pool {
	char name[CFG_NAME_MAX];
	pthread_mutex_t lock;
	struct backend **backends;  /* listed backends, in order */
	size_t n_backends, cap;
	unsigned fail_threshold;    /* consecutive failures that mark a backend down */
	/* learned from backend greetings (under lock) */
	int learned;
	char server_version[64];
	uint32_t server_caps;
	uint8_t charset;
};

/* A copy of one backend's state for views (admin, HTTP, metrics). */
struct backend_view {
	char pool[CFG_NAME_MAX];
	char addr[CFG_ADDR_MAX];
	uint64_t serial;
	unsigned weight;
	enum backend_state state;
	int down;
	unsigned active;
	uint64_t total, connect_failures;
	unsigned consecutive_failures;
	int64_t health_checked_ms;
	char health_error[128];
	const struct backend *b;    /* identity only (for the latency histograms,
				       valid while the pool is not changed) */
};

/* Builds the runtime pools from the configuration. Returns an array of
 * cfg->n_pools pools (owned by the caller, freed with pool_free_all), or NULL. */
struct pool *pool_create_all(const struct shunt_config *cfg);
/* Frees the pools and every backend still listed. Sessions must be gone. */
void pool_free_all(struct pool *pools, size_t n);
struct pool *pool_find(struct pool *pools, size_t n, const char *name);

/* Picks a backend for a new session, skipping the serials in tried[0..ntried).
 * Counts the session on it (and takes a reference). NULL when none is left. */
struct backend *pool_pick(struct pool *p, const uint64_t *tried, unsigned ntried);
/* A migration's chosen target: the backend of p listed as addr, when it
 * is online, not down and not `exclude` (a serial). Counted as active
 * (and referenced) at once, so concurrent moves see the load, but not in
 * `total` until the move lands (pool_note_arrival). NULL with err (must
 * start empty) saying why otherwise. */
struct backend *pool_take(struct pool *p, const char *addr, uint64_t exclude, char *err,
			  size_t errsz);
/* A migration's target chosen by load: the least-loaded online backend
 * that is not down and not `exclude`, counted as pool_take() does. NULL
 * when there is none. */
struct backend *pool_reserve(struct pool *p, uint64_t exclude);
/* A migrated session landed on b (reserved by pool_take/pool_reserve):
 * counts it in b's sessions ever routed. */
void pool_note_arrival(struct backend *b);
/* Un-counts a session picked by pool_pick(); may free a removed backend. */
void pool_release(struct backend *b);
/* Health: a connect/greeting/login failure (why: for views), or a success. */
void pool_note_failure(struct backend *b, const char *why);
void pool_note_success(struct backend *b);
/* Records one latency sample. */
void pool_lat_record(struct lat_hist *h, uint64_t us);

/* Runtime changes. Each returns 0 or -errno with a message in err:
 * -EEXIST (add: already in that pool), -ENOENT (no such backend or pool),
 * -EINVAL (bad value). A removed backend keeps serving its sessions. */
int pool_add_backend(struct pool *p, const struct cfg_addr *addr, unsigned weight,
		     char *err, size_t errsz);
int pool_remove_backend(struct pool *p, const char *addr, char *err, size_t errsz);
int pool_set_weight(struct pool *p, const char *addr, unsigned weight, char *err, size_t errsz);
int pool_set_state(struct pool *p, const char *addr, enum backend_state st, char *err, size_t errsz);
/* Makes p's backend list match cfg (config reload): adds, removes and
 * re-weights; keeps operator-set states of backends that stay. Logs each
 * change. Returns the number of changes. */
int pool_sync(struct pool *p, const struct cfg_pool *cp);

/* Copies every listed backend of every pool into *out (malloc'd; caller
 * frees). Returns the count, or -ENOMEM. */
int pool_snapshot(struct pool *pools, size_t n, struct backend_view **out);

/* Backends that want a health probe (down ones): calls fn for each with a
 * reference held; fn must eventually call pool_release_ref(). */
void pool_for_each_down(struct pool *pools, size_t n, void (*fn)(struct backend *, void *),
			void *arg);
void pool_release_ref(struct backend *b);

const char *backend_state_name(enum backend_state st);
/* "online" | "draining" | "offline" -> state. 0 or -EINVAL. */
int backend_state_parse(const char *s, enum backend_state *out);
/* The state a view shows: "down" for an online backend failing health. */
const char *backend_view_state(const struct backend_view *v);

/* Logs one line per backend (SIGUSR1 and shutdown). */
void pool_log_stats(struct pool *pools, size_t n);

/* Remembers what a backend greeting said. */
void pool_learn(struct pool *p, const char *version, size_t vlen, uint32_t caps, uint8_t charset);
/* Copies what shunt should advertise: the learned version or the fallback,
 * the learned capabilities (or all ones when nothing was learned yet) and
 * the charset. */
void pool_greeting_info(struct pool *p, const char *fallback_version,
			char *version, size_t vsize, uint32_t *caps, uint8_t *charset);

#endif
