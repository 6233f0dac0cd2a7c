/* shunt.h — the daemon-wide context: configuration, pools, workers, counters.
 *
 * One struct shunt exists per process. Workers each own an event_base and
 * the sessions accepted on it; nothing here is touched on a per-byte path
 * except the relay byte counters (relaxed atomics). */
#ifndef SHUNT_SHUNT_H
#define SHUNT_SHUNT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/queue.h>
#include <event2/event.h>
#include <event2/listener.h>
#include "config.h"
#include "pool.h"

struct shunt;

/* A listener as one worker sees it (each worker has its own SO_REUSEPORT socket). */
struct listener_ctx {
	struct worker *w;
	const struct cfg_listener *cl;
	struct pool *pool;
	struct evconnlistener *evl;
};

struct session;
TAILQ_HEAD(session_list, session);

struct worker {
	struct shunt *sh;
	struct session_list sessions;   /* every live session of this worker */
	struct event_base *base;
	pthread_t tid;
	int started;                    /* tid is a running thread */
	unsigned idx;
	struct listener_ctx *lis;
	size_t n_lis;
};

/* Process-wide counters (relaxed atomics; read for logs and later metrics). */
struct shunt_stats {
	atomic_uint_fast64_t sessions_total;     /* accepted client connections */
	atomic_uint_fast64_t sessions_now;       /* open client connections */
	atomic_uint_fast64_t logins_ok;
	atomic_uint_fast64_t logins_failed;      /* bad user/password, protocol errors */
	atomic_uint_fast64_t backend_failures;   /* connect/greeting failures and timeouts */
	atomic_uint_fast64_t relay_bytes_c2s;    /* bytes the user-space relay forwarded */
	atomic_uint_fast64_t relay_bytes_s2c;
	atomic_uint_fast64_t established;        /* sessions logged in to a backend */
	atomic_uint_fast64_t sessions_kernel;    /* sessions handed to the kernel */
	atomic_uint_fast64_t fallbacks;          /* sessions the kernel refused (relayed) */
	atomic_uint_fast64_t punts;              /* commands punted to user space */
	atomic_uint_fast64_t punted_bytes;       /* bytes user space forwarded for punts */
	atomic_uint_fast64_t kernel_bytes_c2s;   /* bytes the kernel carried (closed sessions) */
	atomic_uint_fast64_t kernel_bytes_s2c;
};

struct shunt {
	struct shunt_config *cfg;
	struct pool *pools;
	size_t n_pools;
	struct worker *workers;
	unsigned n_workers;
	atomic_uint next_conn_id;
	struct shunt_stats stats;
};

#define STAT_ADD(sh, field, n) atomic_fetch_add_explicit(&(sh)->stats.field, (n), memory_order_relaxed)
#define STAT_SUB(sh, field, n) atomic_fetch_sub_explicit(&(sh)->stats.field, (n), memory_order_relaxed)
#define STAT_GET(sh, field) atomic_load_explicit(&(sh)->stats.field, memory_order_relaxed)

#endif
