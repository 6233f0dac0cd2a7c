/* shunt.h — the daemon-wide context: configuration, pools, workers, counters.
 *
 * One struct shunt exists per process. Workers each own an event_base and
 * the sessions accepted on it; nothing here is touched on a per-byte path
 * except the relay byte counters (relaxed atomics). */
#ifndef SHUNT_SHUNT_H
#define SHUNT_SHUNT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <event2/event.h>
#include <event2/listener.h>
#include "core/client_limits.h"
#include "core/config.h"
#include "core/labels.h"
#include "core/pool.h"
#include "util/listen_guard.h"

struct shunt;

/* Per-listener counters, shared by the workers (index = listener's
 * position in the start-up configuration). */
struct listener_stats {
	atomic_uint_fast64_t sessions_total;
	atomic_uint_fast64_t sessions_now;
};

/* A listener as one worker sees it (each worker has its own SO_REUSEPORT socket). */
struct listener_ctx {
	struct worker *w;
	const struct cfg_listener *cl;
	struct pool *pool;
	struct evconnlistener *evl;
	struct listen_guard guard;       /* pauses evl when accept runs out of descriptors */
	struct listener_stats *stats;
};

struct session;
TAILQ_HEAD(session_list, session);

/* How often a worker's epoch moves on. */
#define WORKER_EPOCH_MS 100

/* Counters updated per recv or per command. Each worker owns its copy and
 * is its only writer (WSTAT_ADD: a plain load and store, no locked add and
 * no cache line shared between workers); readers sum the workers'
 * (WSTAT_GET). */
struct worker_stats {
	_Atomic uint64_t relay_commands;     /* commands the user-space relay carried */
	_Atomic uint64_t relay_bytes_c2s;    /* bytes the user-space relay forwarded */
	_Atomic uint64_t relay_bytes_s2c;
	_Atomic uint64_t punts;              /* commands punted to user space */
	_Atomic uint64_t punted_bytes;       /* bytes user space forwarded for punts */
	_Atomic uint64_t held_bytes_s2c;     /* backend bytes user space carried while the
						program held them (backpressure) */
} __attribute__((aligned(64)));

struct worker {
	struct worker_stats stats;      /* first: its own cache line */
	_Atomic uint64_t epoch;         /* moves on between two of its callbacks
					   (WORKER_EPOCH_MS): once it has moved past a
					   value read after a configuration was
					   replaced, no callback of this worker can
					   still use the old one */
	struct event *epoch_timer;
	struct shunt *sh;
	struct session_list sessions;   /* every live session of this worker */
	struct event_base *base;
	pthread_t tid;
	int started;                    /* tid is a running thread */
	unsigned idx;
	uint32_t next_id;               /* next connection id: ids of worker i are
					   i+1 (mod n_workers), see worker_of_id() */
	struct listener_ctx *lis;
	size_t n_lis;
};

/* Process-wide counters (relaxed atomics; read for logs and metrics). */
struct shunt_stats {
	/* sessions accepted / open: per listener (struct listener_stats) */
	atomic_uint_fast64_t logins_ok;
	atomic_uint_fast64_t login_failed_by[LOGIN_FAIL__COUNT];
	atomic_uint_fast64_t fallback_by[FALLBACK__COUNT];
	atomic_uint_fast64_t kernel_now;         /* sessions carried by the kernel now */
	atomic_uint_fast64_t user_now;           /* sessions relayed in user space now */
	atomic_uint_fast64_t kills_ok;           /* KILL [QUERY] done (client, admin, HTTP) */
	atomic_uint_fast64_t kills_failed;       /* refused or failed */
	atomic_uint_fast64_t reloads_ok;
	atomic_uint_fast64_t reloads_failed;
	atomic_uint_fast64_t reloads_throttled;  /* refused: too soon after the last */
	atomic_uint_fast64_t limit_refused[CLIMIT__COUNT]; /* connections and logins
							       refused by client_limits */
	atomic_uint_fast64_t configs_retained;   /* replaced configurations not freed yet */
	atomic_uint_fast64_t backend_failures;   /* connect/greeting failures and timeouts */
	atomic_uint_fast64_t established;        /* sessions logged in to a backend */
	atomic_uint_fast64_t sessions_kernel;    /* sessions handed to the kernel */
	atomic_uint_fast64_t kernel_bytes_c2s;   /* bytes the kernel carried (closed sessions) */
	atomic_uint_fast64_t kernel_bytes_s2c;
	/* migrations (migrate.c): by trigger and outcome (enum mig_trigger,
	   enum mig_outcome), and their durations */
	atomic_uint_fast64_t migrations_by[MIG_TRIGGER__COUNT][MIG_OUTCOME__COUNT];
	struct lat_hist migrate_total_lat;       /* request -> moved (MIG_OK only) */
	struct lat_hist migrate_held_lat;        /* how long a held client command waited */
};

struct control;

struct shunt {
	struct shunt_config *cfg;        /* the running configuration: read it with
					    shunt_cfg() and keep no pointer into it past
					    the callback; replaced by a reload, and the
					    old one freed once every worker moved on
					    (control.c; start-up's is kept: listeners
					    point into it) */
	struct shunt_config *retired;    /* configurations replaced by reloads */
	struct pool *pools;
	size_t n_pools;
	struct worker *workers;
	unsigned n_workers;
	struct listener_stats *lstats;   /* one per start-up listener */
	size_t n_lstats;
	struct shunt_stats stats;
	struct worker_stats stopped_wstats; /* what stopped workers counted
					      (worker_stop_all), so totals
					      outlive them */
	struct control *ctl;             /* admin port, HTTP API, health (control.c) */
	int argc;                        /* the command line, for reloads */
	char **argv;
	int64_t started_ms;              /* CLOCK_REALTIME at start */
	/* Set by main.c (the composition root) before the workers start:
	   what a worker does with a connection its listener accepted (takes
	   the fd), and with the sessions it still has when it stops. */
	void (*accept)(struct listener_ctx *lc, int fd, const struct sockaddr *sa, int salen);
	void (*close_sessions)(struct worker *w);
};

/* Sums the elements of an array of counters. */
static inline uint64_t stat_sum(const atomic_uint_fast64_t *v, size_t n)
{
	uint64_t sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += atomic_load_explicit(&v[i], memory_order_relaxed);
	return sum;
}

/* Client sessions open now / accepted, over every listener. */
static inline uint64_t shunt_sessions(const struct shunt *sh, int total)
{
	uint64_t sum = 0;
	for (size_t i = 0; i < sh->n_lstats; i++)
		sum += atomic_load_explicit(total ? &sh->lstats[i].sessions_total
					    : &sh->lstats[i].sessions_now, memory_order_relaxed);
	return sum;
}
#define LOGINS_FAILED(sh) stat_sum((sh)->stats.login_failed_by, LOGIN_FAIL__COUNT)
#define FALLBACKS(sh) stat_sum((sh)->stats.fallback_by, FALLBACK__COUNT)

/* The running configuration. */
static inline struct shunt_config *shunt_cfg(const struct shunt *sh)
{
	return __atomic_load_n(&sh->cfg, __ATOMIC_ACQUIRE);
}

/* The worker that owns connection id (see worker.next_id), or NULL. */
static inline struct worker *worker_of_id(struct shunt *sh, uint32_t id)
{
	return id && sh->n_workers ? &sh->workers[(id - 1) % sh->n_workers] : NULL;
}

#define STAT_ADD(sh, field, n) atomic_fetch_add_explicit(&(sh)->stats.field, (n), memory_order_relaxed)
#define STAT_SUB(sh, field, n) atomic_fetch_sub_explicit(&(sh)->stats.field, (n), memory_order_relaxed)
#define STAT_GET(sh, field) atomic_load_explicit(&(sh)->stats.field, memory_order_relaxed)

/* A struct worker_stats counter, summed over the workers (and those that
 * have stopped). */
static inline uint64_t worker_stat_sum(const struct shunt *sh, size_t off)
{
	uint64_t sum = atomic_load_explicit((_Atomic uint64_t *)((char *)&sh->stopped_wstats + off),
					    memory_order_relaxed);

	for (unsigned i = 0; i < sh->n_workers; i++)
		sum += atomic_load_explicit((_Atomic uint64_t *)((char *)&sh->workers[i].stats + off),
					    memory_order_relaxed);
	return sum;
}
/* Only on worker w's own thread. */
#define WSTAT_ADD(w, field, n) \
	atomic_store_explicit(&(w)->stats.field, \
			      atomic_load_explicit(&(w)->stats.field, memory_order_relaxed) + (n), \
			      memory_order_relaxed)
#define WSTAT_GET(sh, field) worker_stat_sum((sh), offsetof(struct worker_stats, field))

#endif
