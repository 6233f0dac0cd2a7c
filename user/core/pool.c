/* pool.c — backend pools: weighted least-connections routing, runtime
 * changes, passive health. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "core/pool.h"
#include "util/log.h"
#include "mysql_defs.h"

const uint64_t pool_lat_bounds_us[POOL_LAT_BUCKETS] = {
	100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 1000000,
};

static uint64_t next_serial = 1;   /* atomic: pools have separate locks */

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct backend *backend_new(struct pool *p, const struct cfg_addr *addr, unsigned weight)
{
	struct backend *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->addr = *addr;
	b->pool = p;
	b->weight = weight ? weight : 1;
	b->serial = __atomic_fetch_add(&next_serial, 1, __ATOMIC_RELAXED);
	return b;
}

/* Appends b to p's list (under p->lock). 0 or -ENOMEM. */
static int list_append(struct pool *p, struct backend *b)
{
	if (p->n_backends == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 4;
		struct backend **nb = realloc(p->backends, cap * sizeof(*nb));
		if (!nb)
			return -ENOMEM;
		p->backends = nb;
		p->cap = cap;
	}
	p->backends[p->n_backends++] = b;
	b->refs++;
	return 0;
}

/* Drops one reference (under p->lock); returns b when it must be freed. */
static struct backend *unref_locked(struct backend *b)
{
	return --b->refs == 0 ? b : NULL;
}

struct pool *pool_create_all(const struct shunt_config *cfg)
{
	struct pool *pools = calloc(cfg->n_pools ? cfg->n_pools : 1, sizeof(*pools));
	if (!pools)
		return NULL;
	for (size_t i = 0; i < cfg->n_pools; i++) {
		const struct cfg_pool *cp = &cfg->pools[i];
		struct pool *p = &pools[i];
		snprintf(p->name, sizeof(p->name), "%s", cp->name);
		pthread_mutex_init(&p->lock, NULL);
		p->charset = MYSQL_CHARSET_UTF8MB4_GENERAL_CI;
		p->fail_threshold = cfg->health_fail_threshold;
		for (size_t j = 0; j < cp->n_backends; j++) {
			struct backend *b = backend_new(p, &cp->backends[j].addr, cp->backends[j].weight);
			if (!b || list_append(p, b) < 0) {
				free(b);
				pool_free_all(pools, i + 1);
				return NULL;
			}
		}
	}
	return pools;
}

void pool_free_all(struct pool *pools, size_t n)
{
	if (!pools)
		return;
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < pools[i].n_backends; j++)
			free(pools[i].backends[j]);
		free(pools[i].backends);
		pthread_mutex_destroy(&pools[i].lock);
	}
	free(pools);
}

struct pool *pool_find(struct pool *pools, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(pools[i].name, name) == 0)
			return &pools[i];
	return NULL;
}

/* a is less loaded than b when a.active/a.weight < b.active/b.weight,
 * compared by cross-multiplication to stay in integers. Ties go to the
 * backend with fewer sessions ever routed, then to pool order. */
static int less_loaded(const struct backend *a, const struct backend *b)
{
	uint64_t la = (uint64_t)a->active * b->weight;
	uint64_t lb = (uint64_t)b->active * a->weight;
	if (la != lb)
		return la < lb;
	return (uint64_t)a->total * b->weight < (uint64_t)b->total * a->weight;
}

static int was_tried(const struct backend *b, const uint64_t *tried, unsigned ntried)
{
	for (unsigned i = 0; i < ntried; i++)
		if (tried[i] == b->serial)
			return 1;
	return 0;
}

/* The least-loaded online backend of p not in tried[], preferring ones
 * not marked down (or only those when up_only). Caller holds p->lock. */
static struct backend *least_loaded_locked(struct pool *p, const uint64_t *tried,
					   unsigned ntried, int up_only)
{
	struct backend *best = NULL, *best_down = NULL;

	for (size_t i = 0; i < p->n_backends; i++) {
		struct backend *b = p->backends[i];
		if (b->state != BACKEND_ONLINE || was_tried(b, tried, ntried))
			continue;
		struct backend **slot = b->down ? &best_down : &best;
		if (!*slot || less_loaded(b, *slot))
			*slot = b;
	}
	return best || up_only ? best : best_down;
}

/* Counts a session on b (NULL: nothing): using it now, and referenced;
 * in `total` too when it is a new session (a migration counts there when
 * it lands). Caller holds the pool's lock. Returns b. */
static struct backend *count_locked(struct backend *b, int new_session)
{
	if (b) {
		b->active++;
		b->total += new_session != 0;
		b->refs++;
	}
	return b;
}

struct backend *pool_pick(struct pool *p, const uint64_t *tried, unsigned ntried)
{
	pthread_mutex_lock(&p->lock);
	struct backend *best = count_locked(least_loaded_locked(p, tried, ntried, 0), 1);
	pthread_mutex_unlock(&p->lock);
	return best;
}

struct backend *pool_reserve(struct pool *p, uint64_t exclude)
{
	pthread_mutex_lock(&p->lock);
	struct backend *best = count_locked(least_loaded_locked(p, &exclude, 1, 1), 0);
	pthread_mutex_unlock(&p->lock);
	return best;
}

void pool_note_arrival(struct backend *b)
{
	pthread_mutex_lock(&b->pool->lock);
	b->total++;
	pthread_mutex_unlock(&b->pool->lock);
}

struct backend *pool_take(struct pool *p, const char *addr, uint64_t exclude, char *err,
			  size_t errsz)
{
	struct backend *found = NULL;

	pthread_mutex_lock(&p->lock);
	for (size_t i = 0; i < p->n_backends; i++)
		if (strcmp(p->backends[i]->addr.text, addr) == 0)
			found = p->backends[i];
	if (!found)
		snprintf(err, errsz, "backend %s is not in pool %s", addr, p->name);
	else if (found->serial == exclude)
		snprintf(err, errsz, "the session is already on %s", addr);
	else if (found->state != BACKEND_ONLINE || found->down)
		snprintf(err, errsz, "backend %s is %s", addr,
			 found->down ? "down" : backend_state_name(found->state));
	found = count_locked(found && !err[0] ? found : NULL, 0);
	pthread_mutex_unlock(&p->lock);
	return found;
}

void pool_release(struct backend *b)
{
	struct backend *dead;

	if (!b)
		return;
	pthread_mutex_lock(&b->pool->lock);
	if (b->active > 0)
		b->active--;
	dead = unref_locked(b);
	pthread_mutex_unlock(&b->pool->lock);
	free(dead);
}

void pool_release_ref(struct backend *b)
{
	pthread_mutex_lock(&b->pool->lock);
	struct backend *dead = unref_locked(b);
	pthread_mutex_unlock(&b->pool->lock);
	free(dead);
}

void pool_note_failure(struct backend *b, const char *why)
{
	struct pool *p = b->pool;
	int went_down = 0;

	pthread_mutex_lock(&p->lock);
	b->connect_failures++;
	b->consecutive_failures++;
	b->health_checked_ms = now_ms();
	snprintf(b->health_error, sizeof(b->health_error), "%s", why);
	if (!b->down && p->fail_threshold && b->consecutive_failures >= p->fail_threshold)
		went_down = b->down = 1;
	unsigned n = b->consecutive_failures;
	pthread_mutex_unlock(&p->lock);
	if (went_down)
		pr_warn("pool %s backend %s is down after %u consecutive failures (last: %s)",
			p->name, b->addr.text, n, why);
}

void pool_note_success(struct backend *b)
{
	struct pool *p = b->pool;
	int came_up;

	pthread_mutex_lock(&p->lock);
	came_up = b->down;
	b->down = 0;
	b->consecutive_failures = 0;
	b->health_error[0] = '\0';
	b->health_checked_ms = now_ms();
	pthread_mutex_unlock(&p->lock);
	if (came_up)
		pr_info("pool %s backend %s is up again", p->name, b->addr.text);
}

void pool_lat_record(struct lat_hist *h, uint64_t us)
{
	unsigned i = 0;

	while (i < POOL_LAT_BUCKETS && us > pool_lat_bounds_us[i])
		i++;
	atomic_fetch_add_explicit(&h->bucket[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->sum_us, us, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
}

/* The listed backend with address text addr (under p->lock), or NULL. */
static struct backend *find_locked(struct pool *p, const char *addr, size_t *idx)
{
	for (size_t i = 0; i < p->n_backends; i++)
		if (strcmp(p->backends[i]->addr.text, addr) == 0) {
			if (idx)
				*idx = i;
			return p->backends[i];
		}
	return NULL;
}

int pool_add_backend(struct pool *p, const struct cfg_addr *addr, unsigned weight,
		     char *err, size_t errsz)
{
	struct backend *b;
	int rc;

	if (weight < 1 || weight > 1000) {
		snprintf(err, errsz, "weight %u: expected 1..1000", weight);
		return -EINVAL;
	}
	b = backend_new(p, addr, weight);
	if (!b) {
		snprintf(err, errsz, "out of memory");
		return -ENOMEM;
	}
	pthread_mutex_lock(&p->lock);
	if (find_locked(p, addr->text, NULL)) {
		rc = -EEXIST;
		snprintf(err, errsz, "backend %s is already in pool %s", addr->text, p->name);
	} else {
		rc = list_append(p, b);
		if (rc < 0)
			snprintf(err, errsz, "out of memory");
	}
	pthread_mutex_unlock(&p->lock);
	if (rc < 0) {
		free(b);
		return rc;
	}
	pr_info("pool %s: backend %s added (weight %u)", p->name, addr->text, b->weight);
	return 0;
}

int pool_remove_backend(struct pool *p, const char *addr, char *err, size_t errsz)
{
	struct backend *b, *dead = NULL;
	size_t i;
	unsigned active = 0;

	pthread_mutex_lock(&p->lock);
	b = find_locked(p, addr, &i);
	if (b) {
		memmove(&p->backends[i], &p->backends[i + 1],
			(p->n_backends - i - 1) * sizeof(p->backends[0]));
		p->n_backends--;
		active = b->active;
		dead = unref_locked(b);
	}
	pthread_mutex_unlock(&p->lock);
	if (!b) {
		snprintf(err, errsz, "no backend %s in pool %s", addr, p->name);
		return -ENOENT;
	}
	pr_info("pool %s: backend %s removed (%u session(s) stay on it until they end)",
		p->name, addr, active);
	free(dead);
	return 0;
}

int pool_set_weight(struct pool *p, const char *addr, unsigned weight, char *err, size_t errsz)
{
	struct backend *b;

	if (weight < 1 || weight > 1000) {
		snprintf(err, errsz, "weight %u: expected 1..1000", weight);
		return -EINVAL;
	}
	pthread_mutex_lock(&p->lock);
	b = find_locked(p, addr, NULL);
	if (b)
		b->weight = weight;
	pthread_mutex_unlock(&p->lock);
	if (!b) {
		snprintf(err, errsz, "no backend %s in pool %s", addr, p->name);
		return -ENOENT;
	}
	pr_info("pool %s: backend %s weight %u", p->name, addr, weight);
	return 0;
}

int pool_set_state(struct pool *p, const char *addr, enum backend_state st, char *err, size_t errsz)
{
	struct backend *b;

	pthread_mutex_lock(&p->lock);
	b = find_locked(p, addr, NULL);
	if (b)
		b->state = st;
	pthread_mutex_unlock(&p->lock);
	if (!b) {
		snprintf(err, errsz, "no backend %s in pool %s", addr, p->name);
		return -ENOENT;
	}
	pr_info("pool %s: backend %s state %s", p->name, addr, backend_state_name(st));
	return 0;
}

int pool_sync(struct pool *p, const struct cfg_pool *cp)
{
	char err[CFG_ADDR_MAX + 64];
	int changes = 0;

	/* Remove what the file no longer lists. */
	for (;;) {
		char victim[CFG_ADDR_MAX] = "";
		pthread_mutex_lock(&p->lock);
		for (size_t i = 0; i < p->n_backends && !victim[0]; i++) {
			size_t j;
			for (j = 0; j < cp->n_backends; j++)
				if (strcmp(cp->backends[j].addr.text, p->backends[i]->addr.text) == 0)
					break;
			if (j == cp->n_backends)
				snprintf(victim, sizeof(victim), "%s", p->backends[i]->addr.text);
		}
		pthread_mutex_unlock(&p->lock);
		if (!victim[0] || pool_remove_backend(p, victim, err, sizeof(err)) < 0)
			break;
		changes++;
	}
	/* Add what is new; re-weight what changed. */
	for (size_t j = 0; j < cp->n_backends; j++) {
		const struct cfg_backend *cb = &cp->backends[j];
		unsigned w = cb->weight ? cb->weight : 1;
		int found, same;

		pthread_mutex_lock(&p->lock);
		struct backend *b = find_locked(p, cb->addr.text, NULL);
		found = b != NULL;
		same = b && b->weight == w;
		pthread_mutex_unlock(&p->lock);
		if (!found)
			changes += pool_add_backend(p, &cb->addr, w, err, sizeof(err)) == 0;
		else if (!same)
			changes += pool_set_weight(p, cb->addr.text, w, err, sizeof(err)) == 0;
	}
	return changes;
}

int pool_snapshot(struct pool *pools, size_t n, struct backend_view **out)
{
	size_t total = 0, k = 0;
	struct backend_view *v;

	for (size_t i = 0; i < n; i++) {
		pthread_mutex_lock(&pools[i].lock);
		total += pools[i].n_backends;
		pthread_mutex_unlock(&pools[i].lock);
	}
	/* Backends added in between are left out of this snapshot. */
	v = calloc(total ? total : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct pool *p = &pools[i];
		pthread_mutex_lock(&p->lock);
		for (size_t j = 0; j < p->n_backends && k < total; j++, k++) {
			const struct backend *b = p->backends[j];
			struct backend_view *bv = &v[k];
			snprintf(bv->pool, sizeof(bv->pool), "%s", p->name);
			snprintf(bv->addr, sizeof(bv->addr), "%s", b->addr.text);
			bv->serial = b->serial;
			bv->weight = b->weight;
			bv->state = b->state;
			bv->down = b->down;
			bv->active = b->active;
			bv->total = b->total;
			bv->connect_failures = b->connect_failures;
			bv->consecutive_failures = b->consecutive_failures;
			bv->health_checked_ms = b->health_checked_ms;
			snprintf(bv->health_error, sizeof(bv->health_error), "%s", b->health_error);
			bv->b = b;
		}
		pthread_mutex_unlock(&p->lock);
	}
	*out = v;
	return (int)k;
}

void pool_for_each_down(struct pool *pools, size_t n, void (*fn)(struct backend *, void *),
			void *arg)
{
	for (size_t i = 0; i < n; i++) {
		struct pool *p = &pools[i];
		struct backend **todo = NULL;
		size_t nt = 0;

		pthread_mutex_lock(&p->lock);
		if (p->n_backends)
			todo = calloc(p->n_backends, sizeof(*todo));
		for (size_t j = 0; todo && j < p->n_backends; j++)
			if (p->backends[j]->down) {
				p->backends[j]->refs++;
				todo[nt++] = p->backends[j];
			}
		pthread_mutex_unlock(&p->lock);
		for (size_t j = 0; j < nt; j++)
			fn(todo[j], arg);
		free(todo);
	}
}

static const char *const state_names[BACKEND__STATES] = { "online", "draining", "offline" };

const char *backend_state_name(enum backend_state st)
{
	return st < BACKEND__STATES ? state_names[st] : "?";
}

int backend_state_parse(const char *s, enum backend_state *out)
{
	for (int i = 0; i < BACKEND__STATES; i++)
		if (strcasecmp(s, state_names[i]) == 0) {
			*out = (enum backend_state)i;
			return 0;
		}
	return -EINVAL;
}

const char *backend_view_state(const struct backend_view *v)
{
	return v->state == BACKEND_ONLINE && v->down ? "down" : backend_state_name(v->state);
}

void pool_learn(struct pool *p, const char *version, size_t vlen, uint32_t caps, uint8_t charset)
{
	pthread_mutex_lock(&p->lock);
	if (vlen >= sizeof(p->server_version))
		vlen = sizeof(p->server_version) - 1;
	memcpy(p->server_version, version, vlen);
	p->server_version[vlen] = '\0';
	p->server_caps = caps;
	p->charset = charset;
	p->learned = 1;
	pthread_mutex_unlock(&p->lock);
}

void pool_greeting_info(struct pool *p, const char *fallback_version,
			char *version, size_t vsize, uint32_t *caps, uint8_t *charset)
{
	pthread_mutex_lock(&p->lock);
	snprintf(version, vsize, "%s", p->learned ? p->server_version : fallback_version);
	*caps = p->learned ? p->server_caps : 0xffffffffu;
	*charset = p->charset;
	pthread_mutex_unlock(&p->lock);
}

void pool_log_stats(struct pool *pools, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct pool *p = &pools[i];

		pthread_mutex_lock(&p->lock);
		for (size_t j = 0; j < p->n_backends; j++) {
			const struct backend *b = p->backends[j];
			pr_info("pool %s backend %s weight %u state %s%s active %u total %llu connect_failures %llu",
				p->name, b->addr.text, b->weight, backend_state_name(b->state),
				b->down ? " (down)" : "", b->active,
				(unsigned long long)b->total, (unsigned long long)b->connect_failures);
		}
		pthread_mutex_unlock(&p->lock);
	}
}
