/* balancer.c — drains, planned failover and rebalancing (see balancer.h).
 *
 * Everything here runs on the control thread: the tick, and the results
 * of the migrations it asked for (migrate_start's reply base is the
 * control base). It never touches a session: it reads copies of the
 * pools (pool_snapshot) and of the sessions (ctl_sessions_brief), and
 * asks the engine (migrate.c) to move sessions by id. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include "util/clock.h"
#include "ctl/balancer.h"
#include "ctl/control.h"
#include "util/log.h"
#include "session/session.h"

#define BAL_WARN_EVERY_US (60ULL * 1000000)   /* "cannot ask" warnings, at most */

/* A migration the balancer asked for and waits for. */
struct bal_req {
	LIST_ENTRY(bal_req) link;       /* in bal.reqs */
	struct mig_req *r;
	uint32_t id;
	enum mig_trigger why;
	uint64_t from, to;              /* backend serials; to 0: the pool picks */
};

/* A session left alone until `until_us` (sorted by id in bal.backoff). */
struct backoff {
	uint32_t id;
	uint64_t until_us;
};

static struct {
	struct shunt *sh;
	struct event_base *base;
	struct event *tick;
	unsigned tick_ms;
	uint64_t last_rebalance_us;     /* 0: never */
	LIST_HEAD(, bal_req) reqs;
	unsigned n_reqs, n_rebalance_reqs;
	struct backoff *backoff;
	size_t n_backoff, cap_backoff;
	uint64_t *announced;            /* serials of backends being emptied (log once) */
	size_t n_announced;
	uint64_t warned_us;
} bal;

/* ---- requests in flight ----------------------------------------------------- */

static int in_flight(uint32_t id)
{
	struct bal_req *q;

	LIST_FOREACH(q, &bal.reqs, link)
		if (q->id == id)
			return 1;
	return 0;
}

static void req_free(struct bal_req *q)
{
	LIST_REMOVE(q, link);
	bal.n_reqs--;
	if (q->why == MIG_TRIGGER_REBALANCE)
		bal.n_rebalance_reqs--;
	free(q);
}

/* ---- back-off ----------------------------------------------------------------- */

/* Index of id in bal.backoff, or where it would go (*found says which). */
static size_t backoff_pos(uint32_t id, int *found)
{
	size_t lo = 0, hi = bal.n_backoff;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (bal.backoff[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < bal.n_backoff && bal.backoff[lo].id == id;
	return lo;
}

static int backed_off(uint32_t id, uint64_t now)
{
	int found;
	size_t i = backoff_pos(id, &found);

	return found && bal.backoff[i].until_us > now;
}

/* Leaves session id alone until `until`. Out of memory: forgets it
 * (it is only retried sooner). */
static void backoff_add(uint32_t id, uint64_t until)
{
	int found;
	size_t i = backoff_pos(id, &found);

	if (found) {
		bal.backoff[i].until_us = until;
		return;
	}
	if (bal.n_backoff == bal.cap_backoff) {
		size_t cap = bal.cap_backoff ? bal.cap_backoff * 2 : 64;
		struct backoff *nv = realloc(bal.backoff, cap * sizeof(*nv));
		if (!nv)
			return;
		bal.backoff = nv;
		bal.cap_backoff = cap;
	}
	memmove(&bal.backoff[i + 1], &bal.backoff[i], (bal.n_backoff - i) * sizeof(*bal.backoff));
	bal.backoff[i] = (struct backoff) { id, until };
	bal.n_backoff++;
}

/* Drops expired entries (keeps the order). */
static void backoff_prune(uint64_t now)
{
	size_t j = 0;

	for (size_t i = 0; i < bal.n_backoff; i++)
		if (bal.backoff[i].until_us > now)
			bal.backoff[j++] = bal.backoff[i];
	bal.n_backoff = j;
}

/* How long a session that did not move is left alone: BAL_BACKOFF_ROUNDS
 * rounds of whoever asked. */
static uint64_t backoff_us(enum mig_trigger why)
{
	unsigned ms = why == MIG_TRIGGER_REBALANCE ? shunt_cfg(bal.sh)->rebalance_interval_ms
						   : bal.tick_ms;
	return (uint64_t)BAL_BACKOFF_ROUNDS * ms * 1000;
}

/* ---- asking ------------------------------------------------------------------- */

static void req_done(void *ctx, const struct mig_result *res)
{
	struct bal_req *q = ctx;

	if (res->outcome == MIG_OK)
		pr_debug("balancer: session %u moved (%s): %s -> %s in %llu us", q->id,
			 mig_trigger_names[q->why], res->from, res->to,
			 (unsigned long long)res->total_us);
	else
		pr_debug("balancer: session %u not moved (%s): %s: %s", q->id,
			 mig_trigger_names[q->why], mig_outcome_names[res->outcome], res->msg);
	switch (res->outcome) {
	case MIG_STICKY: case MIG_TIMEOUT: case MIG_FAILED: case MIG_NO_TARGET:
		backoff_add(q->id, clock_mono_us() + backoff_us(q->why));
		break;
	default:        /* moved, gone, or someone else is moving it */
		break;
	}
	req_free(q);
}

/* Asks session id to move (target NULL: the pool picks) and remembers the
 * request. 0, or -ENOMEM (the session is backed off, a warning logged at
 * most once a minute). */
static int ask(uint32_t id, const struct backend_view *from, const struct backend_view *to,
	       enum mig_trigger why, int proactive)
{
	struct bal_req *q = calloc(1, sizeof(*q));

	if (q)
		q->r = migrate_start(bal.sh, bal.base, id, to ? to->addr : NULL, why, proactive,
				     req_done, q);
	if (!q || !q->r) {
		uint64_t now = clock_mono_us();
		free(q);
		backoff_add(id, now + backoff_us(why));
		if (!bal.warned_us || now - bal.warned_us >= BAL_WARN_EVERY_US) {
			pr_warn("balancer: cannot ask session %u to move (%s): out of memory",
				id, mig_trigger_names[why]);
			bal.warned_us = now;
		}
		return -ENOMEM;
	}
	q->id = id;
	q->why = why;
	q->from = from->serial;
	q->to = to ? to->serial : 0;
	LIST_INSERT_HEAD(&bal.reqs, q, link);
	bal.n_reqs++;
	if (why == MIG_TRIGGER_REBALANCE)
		bal.n_rebalance_reqs++;
	pr_debug("balancer: asking session %u on %s to move to %s (%s)", id, from->addr,
		 to ? to->addr : "any backend", mig_trigger_names[why]);
	return 0;
}

/* Can the balancer ask this session to move now? */
static int movable(const struct ctl_sess_brief *s, uint64_t now)
{
	return s->established && !s->migrating && !s->sticky && !in_flight(s->id) &&
	       !backed_off(s->id, now);
}

/* ---- views ---------------------------------------------------------------------- */

static const struct backend_view *by_serial(const struct backend_view *bv, int n, uint64_t serial)
{
	for (int i = 0; serial && i < n; i++)
		if (bv[i].serial == serial)
			return &bv[i];
	return NULL;
}

static int usable(const struct backend_view *v)
{
	return v->state == BACKEND_ONLINE && !v->down;
}

/* Does v's pool have a usable backend (to move v's sessions to)? */
static int pool_has_usable(const struct backend_view *bv, int n, const struct backend_view *v)
{
	for (int i = 0; i < n; i++)
		if (&bv[i] != v && usable(&bv[i]) && strcmp(bv[i].pool, v->pool) == 0)
			return 1;
	return 0;
}

/* The trigger for moving sessions off v, or -1 when they may stay. */
static int empty_trigger(const struct backend_view *v)
{
	if (v->state == BACKEND_DRAINING)
		return MIG_TRIGGER_DRAIN;
	if (v->state == BACKEND_OFFLINE || v->down)
		return MIG_TRIGGER_FAILOVER;
	return -1;
}

/* Should v's sessions be moved away now? */
static int to_empty(const struct backend_view *bv, int n, const struct backend_view *v)
{
	return v->active > 0 && empty_trigger(v) >= 0 && pool_has_usable(bv, n, v);
}

/* ---- drains and failover ------------------------------------------------------- */

/* Sets every draining backend without sessions offline (one log line each). */
static void settle_drained(struct backend_view *bv, int n)
{
	char msg[CFG_ADDR_MAX + 64];

	for (int i = 0; i < n; i++) {
		struct pool *p;
		if (bv[i].state != BACKEND_DRAINING || bv[i].active > 0)
			continue;
		p = pool_find(bal.sh->pools, bal.sh->n_pools, bv[i].pool);
		if (p && pool_set_state(p, bv[i].addr, BACKEND_OFFLINE, msg, sizeof(msg)) == 0) {
			pr_info("backend %s drained: offline", bv[i].addr);
			bv[i].state = BACKEND_OFFLINE;
		}
	}
}

/* Logs once when the balancer starts emptying a backend; forgets
 * backends that no longer need it. */
static void announce(const struct backend_view *bv, int n)
{
	uint64_t *now_set = calloc((size_t)n + 1, sizeof(*now_set));
	size_t k = 0;

	if (!now_set)
		return;
	for (int i = 0; i < n; i++) {
		int known = 0;
		if (!to_empty(bv, n, &bv[i]))
			continue;
		for (size_t j = 0; j < bal.n_announced; j++)
			known |= bal.announced[j] == bv[i].serial;
		if (!known)
			pr_info("backend %s in pool %s is %s: moving its %u session(s) away (%s)",
				bv[i].addr, bv[i].pool, backend_view_state(&bv[i]), bv[i].active,
				mig_trigger_names[empty_trigger(&bv[i])]);
		now_set[k++] = bv[i].serial;
	}
	free(bal.announced);
	bal.announced = now_set;
	bal.n_announced = k;
}

/* Asks the movable sessions on backends to empty to move (up to the
 * in-flight bound); the pool picks where. Stops at the first request
 * that cannot be made. */
static void drain_round(const struct backend_view *bv, int n, const struct ctl_sess_brief *ss,
			int ns, uint64_t now)
{
	for (int i = 0; i < ns && bal.n_reqs < BAL_MAX_INFLIGHT; i++) {
		const struct backend_view *v;
		if (!ss[i].established || ss[i].migrating || ss[i].sticky)
			continue;
		v = by_serial(bv, n, ss[i].backend_serial);
		if (!v || !to_empty(bv, n, v) || !movable(&ss[i], now))
			continue;
		if (ask(ss[i].id, v, NULL, (enum mig_trigger)empty_trigger(v), 1) < 0)
			break;
	}
}

/* ---- rebalance ------------------------------------------------------------------ */

/* One usable backend of the pool being balanced. */
struct slot {
	const struct backend_view *v;
	double count;                   /* sessions, counting moves asked for */
	double target;                  /* its weight's share of the pool's sessions */
	int head;                       /* first movable session on it (index), -1: none */
	unsigned moved;                 /* asked this round */
};

/* Picks the most over-loaded slot that has a session to give, and the
 * least loaded one; 0 when no move narrows the gap. */
static int pick_move(struct slot *sl, size_t k, double tol, struct slot **src, struct slot **dst)
{
	*src = *dst = NULL;
	for (size_t i = 0; i < k; i++) {
		if (sl[i].count > sl[i].target * (1 + tol) && sl[i].head >= 0 &&
		    (!*src || sl[i].count - sl[i].target > (*src)->count - (*src)->target))
			*src = &sl[i];
		if (!*dst || sl[i].count / sl[i].v->weight < (*dst)->count / (*dst)->v->weight)
			*dst = &sl[i];
	}
	/* moving one must leave the source at least as loaded (per weight) as
	   the destination becomes, or the next round would move it back */
	return *src && *dst && *src != *dst &&
	       ((*src)->count - 1) / (*src)->v->weight >= ((*dst)->count + 1) / (*dst)->v->weight;
}

/* Balances one pool (its usable backends); returns the moves asked for,
 * at most `budget`. next[] (ns entries) is scratch space. Stops at the
 * first request that cannot be made. */
static unsigned rebalance_pool(const char *pool, const struct backend_view *bv, int n,
			       const struct ctl_sess_brief *ss, int *next, int ns, unsigned budget,
			       uint64_t now)
{
	const struct shunt_config *cfg = shunt_cfg(bal.sh);
	struct slot *sl = calloc((size_t)n, sizeof(*sl));
	double total = 0, weights = 0;
	size_t k = 0;
	unsigned moves = 0;
	struct bal_req *q;

	if (!sl)
		return 0;
	for (int i = 0; i < n; i++) {
		if (strcmp(bv[i].pool, pool) != 0 || !usable(&bv[i]) || !bv[i].weight)
			continue;
		sl[k] = (struct slot) { .v = &bv[i], .count = bv[i].active, .head = -1 };
		k++;
	}
	/* Moves already asked for count as made. The engine counts a
	 * migrating session on its target from the start (pool_reserve / the
	 * target's count), so only the source still has it twice. */
	LIST_FOREACH(q, &bal.reqs, link)
		for (size_t i = 0; q->why == MIG_TRIGGER_REBALANCE && i < k; i++)
			if (sl[i].v->serial == q->from && sl[i].count > 0)
				sl[i].count--;
	for (size_t i = 0; i < k; i++) {
		total += sl[i].count;
		weights += sl[i].v->weight;
	}
	for (size_t i = 0; i < k; i++)
		sl[i].target = weights > 0 ? total * sl[i].v->weight / weights : 0;
	/* each slot's movable sessions, as a list through next[] */
	for (int i = ns - 1; k >= 2 && i >= 0; i--) {
		for (size_t j = 0; j < k; j++) {
			if (sl[j].v->serial == ss[i].backend_serial) {
				if (movable(&ss[i], now)) {
					next[i] = sl[j].head;
					sl[j].head = i;
				}
				break;
			}
		}
	}

	struct slot *src, *dst;
	while (k >= 2 && moves < budget && pick_move(sl, k, cfg->rebalance_tolerance, &src, &dst)) {
		int i = src->head;
		src->head = next[i];
		if (ask(ss[i].id, src->v, dst->v, MIG_TRIGGER_REBALANCE,
			cfg->rebalance_policy == REBALANCE_ACTIVE) < 0)
			break;
		src->count--;
		dst->count++;
		src->moved++;
		moves++;
	}
	for (size_t i = 0; i < k; i++)
		if (sl[i].moved)
			pr_info("rebalance: pool %s: asking %u session(s) on %s to move (%u sessions, "
				"target %.1f at weight %u)", pool, sl[i].moved, sl[i].v->addr,
				sl[i].v->active, sl[i].target, sl[i].v->weight);
	free(sl);
	return moves;
}

/* One rebalance round over every pool. */
static void rebalance_round(const struct backend_view *bv, int n, const struct ctl_sess_brief *ss,
			    int ns, uint64_t now)
{
	const struct shunt_config *cfg = shunt_cfg(bal.sh);
	unsigned budget = cfg->rebalance_max_moves;
	int *next = malloc(((size_t)ns + 1) * sizeof(*next));

	if (!next)
		return;
	for (size_t p = 0; p < bal.sh->n_pools && budget > 0; p++) {
		unsigned room = BAL_MAX_INFLIGHT / 2 > bal.n_rebalance_reqs ?
				BAL_MAX_INFLIGHT / 2 - bal.n_rebalance_reqs : 0;
		if (room == 0 || bal.n_reqs >= BAL_MAX_INFLIGHT)
			break;
		budget -= rebalance_pool(bal.sh->pools[p].name, bv, n, ss, next, ns,
					 budget < room ? budget : room, now);
	}
	free(next);
}

/* ---- the tick ------------------------------------------------------------------ */

static unsigned tick_ms_for(const struct shunt_config *cfg)
{
	return cfg->rebalance_interval_ms < BAL_TICK_MAX_MS ? cfg->rebalance_interval_ms
							    : BAL_TICK_MAX_MS;
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	const struct shunt_config *cfg = shunt_cfg(bal.sh);
	struct backend_view *bv = NULL;
	struct ctl_sess_brief *ss = NULL;
	uint64_t now = clock_mono_us();
	int n, ns, drain = 0, rebalance;
	(void)fd;
	(void)what;
	(void)arg;

	backoff_prune(now);
	n = pool_snapshot(bal.sh->pools, bal.sh->n_pools, &bv);
	if (n < 0)
		goto retime;
	settle_drained(bv, n);
	announce(bv, n);
	for (int i = 0; i < n; i++)
		drain |= to_empty(bv, n, &bv[i]);
	rebalance = cfg->rebalance && (!bal.last_rebalance_us ||
		    now - bal.last_rebalance_us >= (uint64_t)cfg->rebalance_interval_ms * 1000);
	if (rebalance)
		bal.last_rebalance_us = now;
	if ((drain || rebalance) && bal.n_reqs < BAL_MAX_INFLIGHT &&
	    (ns = ctl_sessions_brief(bal.sh, &ss)) >= 0) {
		if (drain)
			drain_round(bv, n, ss, ns, now);
		if (rebalance)
			rebalance_round(bv, n, ss, ns, now);
	}
	free(ss);
	free(bv);
retime:
	/* The period follows reloads. */
	if (tick_ms_for(cfg) != bal.tick_ms) {
		struct timeval tv;
		bal.tick_ms = tick_ms_for(cfg);
		tv.tv_sec = bal.tick_ms / 1000;
		tv.tv_usec = (bal.tick_ms % 1000) * 1000;
		event_del(bal.tick);
		event_add(bal.tick, &tv);
	}
}

int balancer_start(struct shunt *sh, struct event_base *base)
{
	struct timeval tv;

	bal.sh = sh;
	bal.base = base;
	LIST_INIT(&bal.reqs);
	bal.tick_ms = tick_ms_for(shunt_cfg(sh));
	tv.tv_sec = bal.tick_ms / 1000;
	tv.tv_usec = (bal.tick_ms % 1000) * 1000;
	bal.tick = event_new(base, -1, EV_PERSIST, tick_cb, NULL);
	if (!bal.tick || event_add(bal.tick, &tv) < 0)
		return -ENOMEM;
	return 0;
}

void balancer_stop(void)
{
	if (bal.tick)
		event_free(bal.tick);
	bal.tick = NULL;
	while (!LIST_EMPTY(&bal.reqs)) {
		struct bal_req *q = LIST_FIRST(&bal.reqs);
		migrate_cancel(q->r);
		req_free(q);
	}
	free(bal.backoff);
	bal.backoff = NULL;
	bal.n_backoff = bal.cap_backoff = 0;
	free(bal.announced);
	bal.announced = NULL;
	bal.n_announced = 0;
}
