/* client_limits.c — see client_limits.h. Two chained hash tables under
 * one mutex: sources (by address) and users (by name). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include "core/client_limits.h"
#include "core/config.h"
#include "util/token_bucket.h"

#define NBUCKETS 4096

struct src_entry {
	struct src_entry *next;
	struct climit_source key;
	uint32_t open;            /* connections open */
	uint32_t unauth;          /* of which not logged in */
	uint32_t failures;        /* failed logins in the current window */
	uint64_t window_start_ms;
	uint64_t blocked_until_ms;
	uint64_t logged_ms;       /* last refusal line; 0: none */
	struct token_bucket rate; /* connections it may open now (a bucket of
				     max_connection_rate_per_source, refilled at
				     that many per second) */
	uint32_t unlogged;        /* refusals since */
};

struct user_entry {
	struct user_entry *next;
	uint32_t sessions;
	char name[CFG_NAME_MAX];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct src_entry *sources[NBUCKETS];
static struct user_entry *users[NBUCKETS];
static uint64_t n_sources, n_unauth;

static const char *const names[CLIMIT__COUNT] = {
	[CLIMIT_OK] = "ok",
	[CLIMIT_UNAUTH_TOTAL] = "unauthenticated",
	[CLIMIT_UNAUTH_SOURCE] = "unauthenticated_per_source",
	[CLIMIT_SOURCE] = "per_source",
	[CLIMIT_BLOCKED] = "blocked_source",
	[CLIMIT_TABLE_FULL] = "sources_table_full",
	[CLIMIT_USER] = "per_user",
	[CLIMIT_RATE] = "rate_per_source",
};

const char *climit_name(enum climit_verdict v)
{
	return (unsigned)v < CLIMIT__COUNT ? names[v] : "?";
}

void climit_source_of(const struct sockaddr *sa, struct climit_source *src)
{
	memset(src, 0, sizeof(*src));
	if (sa && sa->sa_family == AF_INET) {
		src->family = AF_INET;
		memcpy(src->addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else if (sa && sa->sa_family == AF_INET6) {
		src->family = AF_INET6;
		memcpy(src->addr, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	}
}

/* FNV-1a of the bytes. */
static uint32_t hash_bytes(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

/* The entry of src (lock held); created when create and there is room. */
static struct src_entry **src_slot(const struct climit_source *src)
{
	struct src_entry **pp = &sources[hash_bytes(src, sizeof(*src)) % NBUCKETS];

	while (*pp && memcmp(&(*pp)->key, src, sizeof(*src)) != 0)
		pp = &(*pp)->next;
	return pp;
}

static struct src_entry *src_get(const struct climit_source *src, int create)
{
	struct src_entry **pp = src_slot(src);

	if (*pp || !create || n_sources >= CLIMIT_MAX_SOURCES)
		return *pp;
	struct src_entry *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->key = *src;
	*pp = e;
	n_sources++;
	return e;
}

/* Whether nothing about e counts any more: no connection, no block, and
 * no failure inside the window. */
static int src_stale(const struct src_entry *e, const struct shunt_config *cfg, uint64_t now_ms)
{
	/* A bucket that is not full yet still counts (a source that connects
	 * and leaves at once must not get a fresh one each time). */
	int bucket_full = !e->rate.last_us || !cfg->max_connection_rate_per_source ||
			  now_ms * 1000 >= e->rate.last_us + 1000000;
	return !e->open && e->blocked_until_ms <= now_ms && bucket_full &&
	       (!e->failures || now_ms >= e->window_start_ms + cfg->login_failure_window_ms);
}

/* Drops src's entry if it is stale (lock held). */
static void src_maybe_drop(const struct climit_source *src, const struct shunt_config *cfg,
			   uint64_t now_ms)
{
	struct src_entry **pp = src_slot(src), *e = *pp;

	if (!e || !src_stale(e, cfg, now_ms))
		return;
	*pp = e->next;
	free(e);
	n_sources--;
}


/* The table is full: drops every stale entry (at most once a second). */
static void sweep_stale(const struct shunt_config *cfg, uint64_t now_ms)
{
	static uint64_t last_ms;

	if (last_ms && now_ms < last_ms + 1000)
		return;
	last_ms = now_ms;
	for (size_t i = 0; i < NBUCKETS; i++)
		for (struct src_entry **pp = &sources[i]; *pp;) {
			struct src_entry *e = *pp;
			if (src_stale(e, cfg, now_ms)) {
				*pp = e->next;
				free(e);
				n_sources--;
			} else {
				pp = &e->next;
			}
		}
}

enum climit_verdict climit_admit(const struct shunt_config *cfg, const struct climit_source *src,
				 uint64_t now_ms)
{
	enum climit_verdict v = CLIMIT_OK;

	if (!src->family)
		return CLIMIT_OK;
	pthread_mutex_lock(&lock);
	struct src_entry *e = src_get(src, 1);
	if (!e && n_sources >= CLIMIT_MAX_SOURCES) {
		sweep_stale(cfg, now_ms);
		e = src_get(src, 1);
	}
	if (!e)
		v = CLIMIT_TABLE_FULL;
	else if (e->blocked_until_ms > now_ms)
		v = CLIMIT_BLOCKED;
	else if (cfg->max_unauthenticated && n_unauth >= cfg->max_unauthenticated)
		v = CLIMIT_UNAUTH_TOTAL;
	else if (cfg->max_unauthenticated_per_source &&
		 e->unauth >= cfg->max_unauthenticated_per_source)
		v = CLIMIT_UNAUTH_SOURCE;
	else if (cfg->max_connections_per_source && e->open >= cfg->max_connections_per_source)
		v = CLIMIT_SOURCE;
	else if (cfg->max_connection_rate_per_source &&
		 token_take(&e->rate, cfg->max_connection_rate_per_source,
			    cfg->max_connection_rate_per_source, now_ms * 1000))
		v = CLIMIT_RATE;
	if (v == CLIMIT_OK) {
		e->open++;
		e->unauth++;
		n_unauth++;
	} else if (e) {
		src_maybe_drop(src, cfg, now_ms);
	}
	pthread_mutex_unlock(&lock);
	return v;
}

static struct user_entry **user_slot(const char *name)
{
	struct user_entry **pp = &users[hash_bytes(name, strlen(name)) % NBUCKETS];

	while (*pp && strcmp((*pp)->name, name) != 0)
		pp = &(*pp)->next;
	return pp;
}

enum climit_verdict climit_login_ok(const struct shunt_config *cfg, const struct climit_source *src,
				    const char *user)
{
	const struct cfg_user *u = config_find_user(cfg, user, strlen(user));
	unsigned max = u ? u->max_connections : 0;
	enum climit_verdict v = CLIMIT_OK;

	pthread_mutex_lock(&lock);
	struct user_entry **pp = user_slot(user);
	if (max && *pp && (*pp)->sessions >= max) {
		v = CLIMIT_USER;
		goto out;
	}
	if (!*pp) {
		struct user_entry *ue = calloc(1, sizeof(*ue));
		if (!ue) {
			v = CLIMIT_USER;
			goto out;
		}
		strncpy(ue->name, user, sizeof(ue->name) - 1);
		*pp = ue;
	}
	(*pp)->sessions++;
	struct src_entry *e = src->family ? src_get(src, 0) : NULL;
	if (e) {
		if (e->unauth) {
			e->unauth--;
			n_unauth--;
		}
		e->failures = 0;
	}
out:
	pthread_mutex_unlock(&lock);
	return v;
}

void climit_login_failed(const struct shunt_config *cfg, const struct climit_source *src,
			 uint64_t now_ms)
{
	if (!src->family || !cfg->login_failures_per_source)
		return;
	pthread_mutex_lock(&lock);
	struct src_entry *e = src_get(src, 1);
	if (e) {
		if (now_ms >= e->window_start_ms + cfg->login_failure_window_ms) {
			e->window_start_ms = now_ms;
			e->failures = 0;
		}
		if (++e->failures >= cfg->login_failures_per_source)
			e->blocked_until_ms = now_ms + cfg->login_block_ms;
	}
	pthread_mutex_unlock(&lock);
}

void climit_close(const struct shunt_config *cfg, const struct climit_source *src,
		  const char *logged_in_as, uint64_t now_ms)
{
	pthread_mutex_lock(&lock);
	if (logged_in_as) {
		struct user_entry **pp = user_slot(logged_in_as), *ue = *pp;
		if (ue && --ue->sessions == 0) {
			*pp = ue->next;
			free(ue);
		}
	}
	struct src_entry *e = src->family ? src_get(src, 0) : NULL;
	if (e) {
		if (!logged_in_as && e->unauth) {
			e->unauth--;
			n_unauth--;
		}
		if (e->open)
			e->open--;
		/* A failure window or block still counts: then the entry
		 * stays until a sweep finds it stale. */
		src_maybe_drop(src, cfg, now_ms);
	}
	pthread_mutex_unlock(&lock);
}

int climit_may_log(const struct climit_source *src, uint64_t now_ms, uint32_t *suppressed)
{
	static uint64_t other_logged_ms;
	static uint32_t other_unlogged;
	int ok;

	pthread_mutex_lock(&lock);
	struct src_entry *e = src->family ? src_get(src, 0) : NULL;
	uint64_t *at = e ? &e->logged_ms : &other_logged_ms;
	uint32_t *n = e ? &e->unlogged : &other_unlogged;
	ok = !*at || now_ms >= *at + CLIMIT_LOG_S * 1000ull;
	if (ok) {
		*suppressed = *n;
		*n = 0;
		*at = now_ms ? now_ms : 1;
	} else {
		(*n)++;
	}
	pthread_mutex_unlock(&lock);
	return ok;
}

void climit_counts(uint64_t *unauth, uint64_t *n)
{
	pthread_mutex_lock(&lock);
	*unauth = n_unauth;
	*n = n_sources;
	pthread_mutex_unlock(&lock);
}

void climit_free_all(void)
{
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < NBUCKETS; i++) {
		for (struct src_entry *e = sources[i], *n; e; e = n) {
			n = e->next;
			free(e);
		}
		for (struct user_entry *e = users[i], *n; e; e = n) {
			n = e->next;
			free(e);
		}
		sources[i] = NULL;
		users[i] = NULL;
	}
	n_sources = n_unauth = 0;
	pthread_mutex_unlock(&lock);
}
