/* health.c — bringing down backends back.
 *
 * Health is passive first: pool_note_failure() marks a backend down after
 * health_fail_threshold consecutive connect/greeting/login failures of
 * real sessions, and a successful login marks it up. While a backend is
 * down, this probe connects to it every health_interval_ms and reads its
 * greeting: a protocol-10 greeting marks it up, anything else (refused,
 * timeout, an ERR such as 1040 too many connections or 1129 host
 * blocked) keeps it down with the reason shown in SHOW BACKENDS.
 *
 * Only down backends are probed: a server counts a connection closed
 * during the handshake against max_connect_errors (host cache), so
 * probing healthy backends every two seconds would, on a quiet proxy,
 * eventually get shunt's address blocked. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <sys/queue.h>
#include "ctl/health.h"
#include "ctl/control.h"
#include "util/log.h"
#include "mysql_defs.h"
#include "mysql/proto.h"

static struct {
	LIST_HEAD(, probe) probes;  /* in flight */
	struct shunt *sh;
	struct event_base *base;
	struct event *tick;
	unsigned interval_ms;
} hc;

struct probe {
	LIST_ENTRY(probe) link;     /* in hc.probes */
	struct backend *b;          /* a reference (pool_release_ref) */
	struct bufferevent *bev;
	struct event *timer;
};

static void probe_free(struct probe *p)
{
	LIST_REMOVE(p, link);
	if (p->bev)
		bufferevent_free(p->bev);
	if (p->timer)
		event_free(p->timer);
	pool_release_ref(p->b);
	free(p);
}

static void probe_end(struct probe *p, const char *failure)
{
	if (failure)
		pool_note_failure(p->b, failure);
	else
		pool_note_success(p->b);
	probe_free(p);
}

static void probe_read_cb(struct bufferevent *bev, void *arg)
{
	struct probe *p = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t avail = evbuffer_get_length(in);
	uint8_t hdr[4], *pkt;
	uint32_t len;
	char why[160];

	if (avail < 4)
		return;
	evbuffer_copyout(in, hdr, 4);
	len = (uint32_t)hdr[0] | (uint32_t)hdr[1] << 8 | (uint32_t)hdr[2] << 16;
	if (len > 64 * 1024) {
		probe_end(p, "health probe: oversized greeting");
		return;
	}
	if (avail < 4 + len)
		return;
	pkt = evbuffer_pullup(in, 4 + len);
	if (len && pkt[4] == MYSQL_ERR_HDR) {
		struct proto_err e;
		if (proto_parse_err(pkt + 4, len, &e) == 0)
			snprintf(why, sizeof(why), "health probe: ERR %u %.*s", e.code,
				 (int)(e.message.len < 100 ? e.message.len : 100), (const char *)e.message.p);
		else
			snprintf(why, sizeof(why), "health probe: malformed ERR");
		probe_end(p, why);
		return;
	}
	struct proto_greeting g;
	if (proto_parse_greeting(pkt + 4, len, &g) < 0 || g.protocol != 10) {
		probe_end(p, "health probe: not a MySQL greeting");
		return;
	}
	probe_end(p, NULL);
}

static void probe_event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & BEV_EVENT_CONNECTED)
		return;
	probe_end(arg, (what & BEV_EVENT_EOF) ? "health probe: closed before the greeting"
		  : "health probe: connect failed");
}

static void probe_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	probe_end(arg, "health probe: timeout");
}

/* Starts one probe (takes over the reference pool_for_each_down took). */
static void probe_start(struct backend *b, void *arg)
{
	unsigned ms = shunt_cfg(hc.sh)->connect_timeout_ms + shunt_cfg(hc.sh)->backend_login_timeout_ms;
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };
	struct probe *p = calloc(1, sizeof(*p));
	(void)arg;

	if (!p) {
		pool_release_ref(b);
		return;
	}
	p->b = b;
	LIST_INSERT_HEAD(&hc.probes, p, link);
	p->bev = bufferevent_socket_new(hc.base, -1, BEV_OPT_CLOSE_ON_FREE);
	p->timer = evtimer_new(hc.base, probe_timeout_cb, p);
	if (!p->bev || !p->timer || evtimer_add(p->timer, &tv) < 0) {
		probe_end(p, "health probe: out of memory");
		return;
	}
	bufferevent_setcb(p->bev, probe_read_cb, NULL, probe_event_cb, p);
	bufferevent_enable(p->bev, EV_READ);
	if (bufferevent_socket_connect(p->bev, (struct sockaddr *)&b->addr.sa, (int)b->addr.salen) < 0)
		probe_end(p, "health probe: connect failed");
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (LIST_EMPTY(&hc.probes))   /* the previous round is over */
		pool_for_each_down(hc.sh->pools, hc.sh->n_pools, probe_start, NULL);
	/* The interval follows reloads. */
	unsigned ms = shunt_cfg(hc.sh)->health_interval_ms;
	if (ms != hc.interval_ms) {
		struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };
		hc.interval_ms = ms;
		event_del(hc.tick);
		event_add(hc.tick, &tv);
	}
}

int health_start(struct shunt *sh, struct event_base *base)
{
	hc.sh = sh;
	hc.base = base;
	LIST_INIT(&hc.probes);
	hc.interval_ms = shunt_cfg(sh)->health_interval_ms;
	struct timeval tv = { .tv_sec = hc.interval_ms / 1000, .tv_usec = (hc.interval_ms % 1000) * 1000 };
	hc.tick = event_new(base, -1, EV_PERSIST, tick_cb, NULL);
	if (!hc.tick || event_add(hc.tick, &tv) < 0)
		return -ENOMEM;
	return 0;
}

void health_stop(void)
{
	if (hc.tick)
		event_free(hc.tick);
	hc.tick = NULL;
	while (!LIST_EMPTY(&hc.probes))
		probe_free(LIST_FIRST(&hc.probes));
}
