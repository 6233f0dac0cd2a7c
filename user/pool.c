/* pool.c — backend pools: weighted least-connections routing. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pool.h"
#include "log.h"
#include "mysql_defs.h"

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
		p->backends = calloc(cp->n_backends ? cp->n_backends : 1, sizeof(*p->backends));
		if (!p->backends) {
			pool_free_all(pools, i + 1);
			return NULL;
		}
		p->n_backends = cp->n_backends;
		for (size_t j = 0; j < cp->n_backends; j++) {
			struct backend *b = &p->backends[j];
			b->addr = cp->backends[j].addr;
			b->weight = cp->backends[j].weight ? cp->backends[j].weight : 1;
			b->pool = p;
			b->index = (int)j;
		}
	}
	return pools;
}

void pool_free_all(struct pool *pools, size_t n)
{
	if (!pools)
		return;
	for (size_t i = 0; i < n; i++) {
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

struct backend *pool_pick(struct pool *p, uint64_t tried_mask)
{
	struct backend *best = NULL;

	pthread_mutex_lock(&p->lock);
	for (size_t i = 0; i < p->n_backends; i++) {
		struct backend *b = &p->backends[i];
		if (i < 64 && (tried_mask & (1ull << i)))
			continue;
		if (!best || less_loaded(b, best))
			best = b;
	}
	if (best) {
		best->active++;
		best->total++;
	}
	pthread_mutex_unlock(&p->lock);
	return best;
}

void pool_release(struct backend *b)
{
	if (!b)
		return;
	pthread_mutex_lock(&b->pool->lock);
	if (b->active > 0)
		b->active--;
	pthread_mutex_unlock(&b->pool->lock);
}

void pool_note_failure(struct backend *b)
{
	pthread_mutex_lock(&b->pool->lock);
	b->connect_failures++;
	pthread_mutex_unlock(&b->pool->lock);
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
			const struct backend *b = &p->backends[j];
			pr_info("pool %s backend %s weight %u active %u total %llu connect_failures %llu",
				p->name, b->addr.text, b->weight, b->active,
				(unsigned long long)b->total, (unsigned long long)b->connect_failures);
		}
		pthread_mutex_unlock(&p->lock);
	}
}
