/* worker.c — worker threads, listening sockets and accept. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include "util/log.h"
#include "core/worker.h"

static void accept_cb(struct evconnlistener *evl, evutil_socket_t fd, struct sockaddr *sa,
		      int salen, void *arg)
{
	struct listener_ctx *lc = arg;
	(void)evl;
	lc->w->sh->accept(lc, fd, sa, salen);
}

static void accept_error_cb(struct evconnlistener *evl, void *arg)
{
	struct listener_ctx *lc = arg;
	(void)evl;
	listen_guard_on_error(&lc->guard, EVUTIL_SOCKET_ERROR());
}

/* Fails with -EADDRINUSE when another process already listens on addr.
 * Needed because SO_REUSEPORT would otherwise let a second shunt (or
 * anything else of the same user with SO_REUSEPORT) silently share the
 * port and take a share of the clients. A plain bind, without
 * SO_REUSEPORT, is refused by any listener there. */
static int check_port_free(const struct cfg_addr *addr)
{
	int one = 1, rc = 0;
	int fd = socket(addr->sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&addr->sa, addr->salen) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

/* Opens a non-blocking SO_REUSEPORT socket bound to addr and listening. */
static int open_listen_socket(const struct cfg_addr *addr)
{
	int one = 1;
	int fd = socket(addr->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0 ||
	    bind(fd, (const struct sockaddr *)&addr->sa, addr->salen) < 0 ||
	    listen(fd, 1024) < 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static void worker_free(struct worker *w)
{
	if (w->sh && w->sh->close_sessions)
		w->sh->close_sessions(w);
	for (size_t i = 0; i < w->n_lis; i++) {
		listen_guard_free(&w->lis[i].guard);
		if (w->lis[i].evl)
			evconnlistener_free(w->lis[i].evl);
	}
	free(w->lis);
	if (w->base)
		event_base_free(w->base);
}

int worker_create_all(struct shunt *sh)
{
	const struct shunt_config *cfg = shunt_cfg(sh);
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned n = cfg->threads ? cfg->threads : (unsigned)(ncpu > 0 ? ncpu : 1);
	int err = 0;

	for (size_t j = 0; j < cfg->n_listeners; j++) {
		int rc = check_port_free(&cfg->listeners[j].addr);
		if (rc < 0) {
			pr_err("listener %s: cannot listen on %s: %s", cfg->listeners[j].name,
			       cfg->listeners[j].addr.text, strerror(-rc));
			return rc;
		}
	}
	sh->workers = calloc(n, sizeof(*sh->workers));
	sh->lstats = calloc(cfg->n_listeners ? cfg->n_listeners : 1, sizeof(*sh->lstats));
	if (!sh->workers || !sh->lstats)
		return -ENOMEM;
	sh->n_lstats = cfg->n_listeners;
	sh->n_workers = n;
	for (unsigned i = 0; i < n; i++) {
		struct worker *w = &sh->workers[i];
		w->sh = sh;
		w->idx = i;
		w->next_id = i + 1;
		TAILQ_INIT(&w->sessions);
		w->base = event_base_new();
		w->lis = calloc(cfg->n_listeners, sizeof(*w->lis));
		if (!w->base || !w->lis) {
			err = -ENOMEM;
			goto fail;
		}
		w->n_lis = cfg->n_listeners;
		for (size_t j = 0; j < cfg->n_listeners; j++) {
			struct listener_ctx *lc = &w->lis[j];
			lc->w = w;
			lc->cl = &cfg->listeners[j];
			lc->stats = &sh->lstats[j];
			lc->pool = pool_find(sh->pools, sh->n_pools, lc->cl->pool);
			int fd = open_listen_socket(&lc->cl->addr);
			if (fd < 0) {
				pr_err("listener %s: cannot listen on %s: %s", lc->cl->name,
				       lc->cl->addr.text, strerror(-fd));
				err = fd;
				goto fail;
			}
			lc->evl = evconnlistener_new(w->base, accept_cb, lc, LEV_OPT_CLOSE_ON_FREE, -1, fd);
			if (!lc->evl) {
				close(fd);
				err = -ENOMEM;
				goto fail;
			}
			char what[sizeof(lc->guard.what)];
			snprintf(what, sizeof(what), "listener %.32s (%.40s)", lc->cl->name, lc->cl->addr.text);
			if (listen_guard_init(&lc->guard, w->base, lc->evl, what) < 0) {
				err = -ENOMEM;
				goto fail;
			}
			evconnlistener_set_error_cb(lc->evl, accept_error_cb);
		}
	}
	return 0;
fail:
	for (unsigned i = 0; i < n; i++)
		worker_free(&sh->workers[i]);
	free(sh->workers);
	sh->workers = NULL;
	sh->n_workers = 0;
	return err;
}

/* A call posted to a worker by worker_call_sync(). The caller and the
 * worker share it under lock: QUEUED until the worker takes it, RUNNING
 * while fn runs, DONE after; a caller that gives up on a QUEUED call marks
 * it ABANDONED, and the worker then frees it without running fn. */
enum sync_state { SYNC_QUEUED, SYNC_RUNNING, SYNC_DONE, SYNC_ABANDONED };

struct sync_call {
	struct worker *w;
	void (*fn)(struct worker *w, void *arg);
	void *arg;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	enum sync_state state;
};

static void sync_call_free(struct sync_call *c)
{
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->cond);
	free(c);
}

static void sync_call_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sync_call *c = arg;
	(void)fd;
	(void)what;

	pthread_mutex_lock(&c->lock);
	if (c->state == SYNC_ABANDONED) {
		pthread_mutex_unlock(&c->lock);
		sync_call_free(c);
		return;
	}
	c->state = SYNC_RUNNING;
	pthread_mutex_unlock(&c->lock);
	c->fn(c->w, c->arg);
	pthread_mutex_lock(&c->lock);
	c->state = SYNC_DONE;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

int worker_call_sync(struct worker *w, void (*fn)(struct worker *w, void *arg), void *arg,
		     unsigned timeout_ms)
{
	struct sync_call *c = calloc(1, sizeof(*c));
	struct timespec until;
	int rc = 0;

	if (!c)
		return -ENOMEM;
	c->w = w;
	c->fn = fn;
	c->arg = arg;
	c->state = SYNC_QUEUED;
	pthread_mutex_init(&c->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (event_base_once(w->base, -1, EV_TIMEOUT, sync_call_cb, c, NULL) < 0) {
		sync_call_free(c);
		return -ENOMEM;
	}
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&c->lock);
	while (c->state == SYNC_QUEUED || c->state == SYNC_RUNNING) {
		/* Once fn runs it is waited for: it only copies a little of
		 * the worker's state and never blocks. */
		if (c->state == SYNC_RUNNING) {
			pthread_cond_wait(&c->cond, &c->lock);
			continue;
		}
		if (pthread_cond_timedwait(&c->cond, &c->lock, &until) == ETIMEDOUT &&
		    c->state == SYNC_QUEUED) {
			c->state = SYNC_ABANDONED;      /* the worker frees it */
			rc = -ETIMEDOUT;
			break;
		}
	}
	pthread_mutex_unlock(&c->lock);
	if (rc == 0)
		sync_call_free(c);
	return rc;
}

static void epoch_tick(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	(void)fd;
	(void)what;
	atomic_fetch_add_explicit(&w->epoch, 1, memory_order_release);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct timeval tv = { 0, WORKER_EPOCH_MS * 1000 };

	w->epoch_timer = event_new(w->base, -1, EV_PERSIST, epoch_tick, w);
	if (!w->epoch_timer || event_add(w->epoch_timer, &tv) < 0)
		pr_warn("worker %u: no epoch timer: replaced configurations are kept", w->idx);
	event_base_loop(w->base, EVLOOP_NO_EXIT_ON_EMPTY);
	if (w->epoch_timer)
		event_free(w->epoch_timer);
	w->epoch_timer = NULL;
	return NULL;
}

int worker_start_all(struct shunt *sh)
{
	for (unsigned i = 0; i < sh->n_workers; i++) {
		int rc = pthread_create(&sh->workers[i].tid, NULL, worker_main, &sh->workers[i]);
		if (rc)
			return -rc;
		sh->workers[i].started = 1;
	}
	return 0;
}

void worker_stop_all(struct shunt *sh)
{
	for (unsigned i = 0; i < sh->n_workers; i++)
		event_base_loopbreak(sh->workers[i].base);
	for (unsigned i = 0; i < sh->n_workers; i++)
		if (sh->workers[i].started)
			pthread_join(sh->workers[i].tid, NULL);
	/* Their counters outlive them (the final stats line reads them). */
	for (unsigned i = 0; i < sh->n_workers; i++)
		for (size_t off = 0; off < sizeof(struct worker_stats); off += sizeof(uint64_t)) {
			_Atomic uint64_t *from = (_Atomic uint64_t *)((char *)&sh->workers[i].stats + off);
			_Atomic uint64_t *to = (_Atomic uint64_t *)((char *)&sh->stopped_wstats + off);
			atomic_store_explicit(to, atomic_load_explicit(to, memory_order_relaxed) +
					      atomic_load_explicit(from, memory_order_relaxed),
					      memory_order_relaxed);
		}
	for (unsigned i = 0; i < sh->n_workers; i++)
		worker_free(&sh->workers[i]);
	free(sh->workers);
	sh->workers = NULL;
	sh->n_workers = 0;
}
