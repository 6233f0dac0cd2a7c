/* listen_guard.c — pausing a listener that has run out of descriptors
 * (listen_guard.h). */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include "util/clock.h"
#include "util/listen_guard.h"
#include "util/log.h"

static _Atomic uint64_t pauses_total;

uint64_t listen_guard_pauses(void)
{
	return atomic_load(&pauses_total);
}

static int resource_error(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOMEM || err == ENOBUFS;
}

static void resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct listen_guard *g = arg;
	(void)fd;
	(void)what;
	evconnlistener_enable(g->evl);
}

void listen_guard_on_error(struct listen_guard *g, int err)
{
	struct evconnlistener *evl = g->evl;
	uint64_t now = clock_mono_us();
	int log_now = !g->last_log_us || now - g->last_log_us >= (uint64_t)LISTEN_GUARD_LOG_S * 1000000;

	if (!resource_error(err)) {
		/* ECONNABORTED and the like concern one connection only. */
		if (log_now) {
			pr_warn("%s: accept failed: %s", g->what, strerror(err));
			g->last_log_us = now;
		}
		return;
	}
	struct timeval tv = { 0, LISTEN_GUARD_PAUSE_MS * 1000 };
	evconnlistener_disable(evl);
	if (evtimer_add(g->timer, &tv) < 0)
		evconnlistener_enable(evl);     /* cannot pause: at least keep serving */
	atomic_fetch_add(&pauses_total, 1);
	g->pauses_unlogged++;
	if (log_now) {
		pr_warn("%s: accept failed: %s; not accepting for %d ms (%u pause%s since the last "
			"such line)", g->what, strerror(err), LISTEN_GUARD_PAUSE_MS, g->pauses_unlogged,
			g->pauses_unlogged == 1 ? "" : "s");
		g->pauses_unlogged = 0;
		g->last_log_us = now;
	}
}

int listen_guard_init(struct listen_guard *g, struct event_base *base,
		      struct evconnlistener *evl, const char *what)
{
	memset(g, 0, sizeof(*g));
	g->evl = evl;
	snprintf(g->what, sizeof(g->what), "%s", what);
	g->timer = evtimer_new(base, resume_cb, g);
	if (!g->timer)
		return -ENOMEM;
	return 0;
}

void listen_guard_free(struct listen_guard *g)
{
	if (g->timer)
		event_free(g->timer);
	g->timer = NULL;
}
