/* control.c — the control thread and the command layer (see control.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <event2/event.h>
#include <event2/thread.h>
#include "core/config_keys.h"
#include "core/config_value.h"
#include "core/fastpath.h"
#include "core/worker.h"
#include "ctl/control.h"
#include "migrate/migrate.h"
#include "mysql_defs.h"
#include "session/session.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/token_bucket.h"

struct control {
	struct shunt *sh;
	struct event_base *base;
	struct event *sweep_timer;       /* frees replaced configurations */
	int reload_deferred;             /* a SIGHUP's reload waits for the bucket */
	struct token_bucket reloads;     /* reloads allowed now (reload_take) */
	pthread_t tid;
	int started;
	struct ctl_service services[CTL_MAX_SERVICES];   /* started, in order */
	size_t n_services;
};

void ctl_set_err(struct ctl_err *e, int http, uint16_t code, const char *sqlstate,
		 const char *fmt, ...)
{
	va_list ap;

	e->http = http;
	e->code = code;
	snprintf(e->sqlstate, sizeof(e->sqlstate), "%s", sqlstate);
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
}

/* ---- session snapshots ------------------------------------------------------ */

/* One session as a worker saw it; what is costly to read on a worker
 * (the kernel's maps) its carrier fills in later on the control thread
 * (carrier_view.fill_late). */
struct sess_view {
	uint32_t id;
	char user[CFG_NAME_MAX];
	char client[64];
	char backend[CFG_ADDR_MAX];
	uint64_t backend_serial;        /* 0: no backend */
	char db[CFG_NAME_MAX];
	int has_db;
	uint32_t backend_thread_id;
	const char *state;              /* static string */
	int64_t started_ms;
	int established;                /* a carrier has it: cv is filled */
	struct carrier_view cv;         /* what its carrier shows */
	/* migration */
	int migrating;                  /* a move is in progress */
	uint32_t migrations;            /* moves completed */
	char sticky[sizeof(((struct session *)0)->sticky)];   /* "" = movable */
};

struct snap {
	struct sess_view *v;
	size_t n, cap;
	int oom;
};

static const char *state_word(const struct session *s)
{
	switch (s->state) {
	case SESS_GREETING: case SESS_AUTH_SWITCH:
		return "login";
	case SESS_BACKEND_CONNECT: case SESS_BACKEND_GREETING: case SESS_BACKEND_AUTH:
		return "connecting";
	case SESS_RELAY:
		return "established";
	default:
		return "closing";
	}
}

/* A finished table, or NULL with err filled when an allocation failed. */
static struct table *table_done(struct table *t, struct ctl_err *err)
{
	if (!t || t->oom) {
		table_free(t);
		ctl_set_err(err, 500, ER_OUT_OF_RESOURCES, "HY000", "out of memory");
		return NULL;
	}
	return t;
}

/* Worker thread: copies its sessions into the snapshot. */
static void snap_worker(struct worker *w, void *arg)
{
	struct snap *sn = arg;
	struct session *s;

	TAILQ_FOREACH(s, &w->sessions, link) {
		if (sn->n == sn->cap) {
			size_t cap = sn->cap ? sn->cap * 2 : 64;
			struct sess_view *nv = realloc(sn->v, cap * sizeof(*nv));
			if (!nv) {
				sn->oom = 1;
				return;
			}
			sn->v = nv;
			sn->cap = cap;
		}
		struct sess_view *v = &sn->v[sn->n++];
		memset(v, 0, sizeof(*v));
		v->id = s->id;
		snprintf(v->user, sizeof(v->user), "%s", s->user);
		snprintf(v->client, sizeof(v->client), "%s", s->client_addr);
		if (s->backend) {
			snprintf(v->backend, sizeof(v->backend), "%s", s->backend->addr.text);
			v->backend_serial = s->backend->serial;
		}
		if (s->db) {
			snprintf(v->db, sizeof(v->db), "%s", s->db);
			v->has_db = 1;
		}
		v->backend_thread_id = s->backend_thread_id;
		v->state = state_word(s);
		v->started_ms = s->started_ms;
		v->migrating = migrate_in_progress(s);
		v->migrations = s->migrations;
		snprintf(v->sticky, sizeof(v->sticky), "%s", s->sticky);
		if (s->carrier) {
			v->established = 1;
			s->carrier->view(s, &v->cv);
		}
	}
}

/* Every session of every worker, kernel counters filled in. */
static int snapshot_sessions(struct shunt *sh, struct snap *sn, struct ctl_err *err)
{
	memset(sn, 0, sizeof(*sn));
	for (unsigned i = 0; i < sh->n_workers && !sn->oom; i++) {
		int rc = worker_call_sync(&sh->workers[i], snap_worker, sn, WORKER_CALL_TIMEOUT_MS);
		if (rc == -ETIMEDOUT) {
			free(sn->v);
			ctl_set_err(err, 503, ER_UNKNOWN_ERROR, "HY000",
				    "worker %u did not answer within %u ms", i, WORKER_CALL_TIMEOUT_MS);
			return rc;
		}
		if (rc < 0)
			sn->oom = 1;
	}
	if (sn->oom) {
		free(sn->v);
		ctl_set_err(err, 500, ER_OUT_OF_RESOURCES, "HY000", "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < sn->n; i++)
		if (sn->v[i].established && sn->v[i].cv.fill_late)
			sn->v[i].cv.fill_late(&sn->v[i].cv);
	return 0;
}

/* ---- brief session lists (balancer, metrics) ------------------------------- */

struct brief_list {
	struct ctl_sess_brief *v;
	size_t n, cap;
	int oom;
};

/* Worker thread: appends one ctl_sess_brief per session. */
static void brief_worker(struct worker *w, void *arg)
{
	struct brief_list *bl = arg;
	struct session *s;

	TAILQ_FOREACH(s, &w->sessions, link) {
		if (bl->n == bl->cap) {
			size_t cap = bl->cap ? bl->cap * 2 : 256;
			struct ctl_sess_brief *nv = realloc(bl->v, cap * sizeof(*nv));
			if (!nv) {
				bl->oom = 1;
				return;
			}
			bl->v = nv;
			bl->cap = cap;
		}
		bl->v[bl->n++] = (struct ctl_sess_brief) {
			.id = s->id,
			.backend_serial = s->backend ? s->backend->serial : 0,
			.established = s->state == SESS_RELAY,
			.migrating = migrate_in_progress(s),
			.sticky = s->sticky[0] != '\0',
		};
	}
}

int ctl_sessions_brief(struct shunt *sh, struct ctl_sess_brief **out)
{
	struct brief_list bl = { 0 };

	for (unsigned i = 0; i < sh->n_workers && !bl.oom; i++)
		if (worker_call_sync(&sh->workers[i], brief_worker, &bl, WORKER_CALL_TIMEOUT_MS) < 0)
			bl.oom = 1;
	if (bl.oom) {
		free(bl.v);
		*out = NULL;
		return -ENOMEM;
	}
	*out = bl.v;
	return (int)bl.n;
}

/* Worker thread: adds its sticky and migrating sessions to arg[0], arg[1]. */
static void count_worker(struct worker *w, void *arg)
{
	uint64_t *counts = arg;
	struct session *s;

	TAILQ_FOREACH(s, &w->sessions, link) {
		counts[0] += s->sticky[0] != '\0';
		counts[1] += migrate_in_progress(s);
	}
}

void ctl_session_counts(struct shunt *sh, uint64_t *sticky, uint64_t *migrating)
{
	uint64_t counts[2] = { 0, 0 };

	for (unsigned i = 0; i < sh->n_workers; i++)
		if (worker_call_sync(&sh->workers[i], count_worker, counts, WORKER_CALL_TIMEOUT_MS) < 0)
			pr_warn("session counts: worker %u did not answer; counts are partial", i);
	*sticky = counts[0];
	*migrating = counts[1];
}

static const struct table_col tunnel_cols[] = {
	{ "id", COL_INT }, { "user", COL_STR }, { "client", COL_STR }, { "db", COL_STR },
	{ "state", COL_STR }, { "backend", COL_STR }, { "backend_thread_id", COL_INT },
	{ "mode", COL_STR }, { "mode_reason", COL_STR }, { "in_transaction", COL_BOOL },
	{ "sticky_reason", COL_STR }, { "commands", COL_INT }, { "bytes_c2s", COL_INT },
	{ "bytes_s2c", COL_INT }, { "punts", COL_INT }, { "last_latency_us", COL_INT },
	{ "age_s", COL_INT }, { "migrations", COL_INT }, { "migrating", COL_BOOL },
};
enum { TC_ID, TC_USER, TC_CLIENT, TC_DB, TC_STATE, TC_BACKEND, TC_BTID, TC_MODE, TC_WHY,
       TC_INTX, TC_STICKY, TC_CMDS, TC_C2S, TC_S2C, TC_PUNTS, TC_LAT, TC_AGE, TC_MIGS,
       TC_MIGRATING };

struct table *ctl_tunnels(struct shunt *sh, struct ctl_err *err)
{
	struct snap sn;
	struct table *t;
	int64_t now = clock_wall_ms();

	if (snapshot_sessions(sh, &sn, err) < 0)
		return NULL;
	t = table_new(tunnel_cols, sizeof(tunnel_cols) / sizeof(tunnel_cols[0]));
	for (size_t i = 0; t && i < sn.n; i++) {
		const struct sess_view *v = &sn.v[i];
		long r = table_add_row(t);
		table_set_int(t, r, TC_ID, v->id);
		table_set_str(t, r, TC_USER, v->user[0] ? v->user : NULL);
		table_set_str(t, r, TC_CLIENT, v->client);
		table_set_str(t, r, TC_DB, v->has_db ? v->db : NULL);
		table_set_str(t, r, TC_STATE, v->state);
		table_set_str(t, r, TC_BACKEND, v->backend[0] ? v->backend : NULL);
		if (v->backend_thread_id)
			table_set_int(t, r, TC_BTID, v->backend_thread_id);
		if (v->established) {
			const struct carrier_view *c = &v->cv;
			table_set_str(t, r, TC_MODE, c->mode);
			table_set_str(t, r, TC_WHY, c->why[0] ? c->why : NULL);
			table_set_bool(t, r, TC_INTX, c->in_tx);
			table_set_int(t, r, TC_CMDS, (int64_t)c->commands);
			table_set_int(t, r, TC_C2S, (int64_t)c->bytes_c2s);
			table_set_int(t, r, TC_S2C, (int64_t)c->bytes_s2c);
			table_set_int(t, r, TC_PUNTS, (int64_t)c->punts);
			if (c->last_latency_us || c->commands)
				table_set_int(t, r, TC_LAT, (int64_t)c->last_latency_us);
		}
		table_set_int(t, r, TC_AGE, (now - v->started_ms) / 1000);
		table_set_str(t, r, TC_STICKY, v->sticky[0] ? v->sticky : NULL);
		table_set_int(t, r, TC_MIGS, v->migrations);
		table_set_bool(t, r, TC_MIGRATING, v->migrating);
	}
	free(sn.v);
	return table_done(t, err);
}

static const struct table_col plist_cols[] = {
	{ "Id", COL_INT }, { "User", COL_STR }, { "Host", COL_STR }, { "db", COL_STR },
	{ "Command", COL_STR }, { "Time", COL_INT }, { "State", COL_STR }, { "Info", COL_STR },
	{ "Backend", COL_STR }, { "Backend_thread_id", COL_INT }, { "Mode", COL_STR },
};

struct table *ctl_processlist(struct shunt *sh, struct ctl_err *err)
{
	struct snap sn;
	struct table *t;
	int64_t now = clock_wall_ms();

	if (snapshot_sessions(sh, &sn, err) < 0)
		return NULL;
	t = table_new(plist_cols, sizeof(plist_cols) / sizeof(plist_cols[0]));
	for (size_t i = 0; t && i < sn.n; i++) {
		const struct sess_view *v = &sn.v[i];
		long r = table_add_row(t);
		int established = v->established;
		table_set_int(t, r, 0, v->id);
		table_set_str(t, r, 1, v->user[0] ? v->user : "unauthenticated user");
		table_set_str(t, r, 2, v->client);
		table_set_str(t, r, 3, v->has_db ? v->db : NULL);
		table_set_str(t, r, 4, !established ? "Connect" : v->cv.idle ? "Sleep" : "Query");
		table_set_int(t, r, 5, (now - v->started_ms) / 1000);
		table_set_str(t, r, 6, v->state);
		table_set_str(t, r, 8, v->backend[0] ? v->backend : NULL);
		if (v->backend_thread_id)
			table_set_int(t, r, 9, v->backend_thread_id);
		table_set_str(t, r, 10, established ? v->cv.mode : NULL);
	}
	free(sn.v);
	return table_done(t, err);
}

/* ---- backends ------------------------------------------------------------------ */

static const struct table_col backend_cols[] = {
	{ "pool", COL_STR }, { "address", COL_STR }, { "weight", COL_INT }, { "state", COL_STR },
	{ "admin_state", COL_STR }, { "health", COL_STR }, { "sessions", COL_INT },
	{ "sessions_total", COL_INT }, { "connect_failures", COL_INT },
	{ "consecutive_failures", COL_INT }, { "health_checked_at", COL_STR },
	{ "health_error", COL_STR },
};

struct table *ctl_backends(struct shunt *sh, struct ctl_err *err)
{
	struct backend_view *bv = NULL;
	int n = pool_snapshot(sh->pools, sh->n_pools, &bv);
	struct table *t;

	if (n < 0) {
		ctl_set_err(err, 500, ER_OUT_OF_RESOURCES, "HY000", "out of memory");
		return NULL;
	}
	t = table_new(backend_cols, sizeof(backend_cols) / sizeof(backend_cols[0]));
	for (int i = 0; t && i < n; i++) {
		const struct backend_view *v = &bv[i];
		long r = table_add_row(t);
		table_set_str(t, r, 0, v->pool);
		table_set_str(t, r, 1, v->addr);
		table_set_int(t, r, 2, v->weight);
		table_set_str(t, r, 3, backend_view_state(v));
		table_set_str(t, r, 4, backend_state_name(v->state));
		table_set_str(t, r, 5, v->down ? "down" : "up");
		table_set_int(t, r, 6, v->active);
		table_set_int(t, r, 7, (int64_t)v->total);
		table_set_int(t, r, 8, (int64_t)v->connect_failures);
		table_set_int(t, r, 9, v->consecutive_failures);
		if (v->health_checked_ms) {
			char ts[40];
			time_t secs = (time_t)(v->health_checked_ms / 1000);
			struct tm tm;
			gmtime_r(&secs, &tm);
			strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
			table_set_str(t, r, 10, ts);
		}
		table_set_str(t, r, 11, v->health_error[0] ? v->health_error : NULL);
	}
	free(bv);
	return table_done(t, err);
}

/* The pool a command names; NULL name: the only pool, if there is one. */
static struct pool *named_pool(struct shunt *sh, const char *name, struct ctl_err *err)
{
	struct pool *p;

	if (!name) {
		if (sh->n_pools == 1)
			return &sh->pools[0];
		ctl_set_err(err, 400, ER_SYNTAX_ERROR, "42000",
			    "there are %zu pools: name one", sh->n_pools);
		return NULL;
	}
	p = pool_find(sh->pools, sh->n_pools, name);
	if (!p)
		ctl_set_err(err, 404, ER_UNKNOWN_ERROR, "HY000", "no pool '%s' (pools are fixed "
			    "at start-up)", name);
	return p;
}

int ctl_backend_add(struct shunt *sh, const char *pool, const char *addr, unsigned weight,
		    struct ctl_err *err)
{
	struct pool *p = named_pool(sh, pool, err);
	struct cfg_addr a;
	char msg[CFG_ADDR_MAX + 64];
	int rc;

	if (!p)
		return -ENOENT;
	if (config_parse_addr(addr, &a) < 0) {
		ctl_set_err(err, 400, ER_UNKNOWN_ERROR, "HY000",
			    "'%s': expected HOST:PORT or [IPV6]:PORT that resolves", addr);
		return -EINVAL;
	}
	rc = pool_add_backend(p, &a, weight ? weight : 1, msg, sizeof(msg));
	if (rc < 0)
		ctl_set_err(err, rc == -EEXIST ? 409 : rc == -EINVAL ? 400 : 500,
			    ER_UNKNOWN_ERROR, "HY000", "%s", msg);
	return rc;
}

/* Applies fn to the pool named (or every pool listing addr when NULL).
 * -ENOENT when no pool lists it. */
static int for_pools(struct shunt *sh, const char *pool, const char *addr, struct ctl_err *err,
		     int (*fn)(struct pool *p, const char *addr, void *arg, char *msg, size_t n),
		     void *arg)
{
	char msg[CFG_ADDR_MAX + 64] = "";
	int hits = 0, rc = 0;

	if (pool) {
		struct pool *p = named_pool(sh, pool, err);
		if (!p)
			return -ENOENT;
		rc = fn(p, addr, arg, msg, sizeof(msg));
		hits = rc == 0;
	} else {
		for (size_t i = 0; i < sh->n_pools; i++) {
			int r = fn(&sh->pools[i], addr, arg, msg, sizeof(msg));
			if (r == 0)
				hits++;
			else if (r != -ENOENT)
				rc = r;
		}
		if (!hits && !rc) {
			rc = -ENOENT;
			snprintf(msg, sizeof(msg), "no backend %s in any pool", addr);
		}
	}
	if (rc < 0 && !hits) {
		ctl_set_err(err, rc == -ENOENT ? 404 : 400, ER_UNKNOWN_ERROR, "HY000", "%s", msg);
		return rc;
	}
	return 0;
}

static int remove_one(struct pool *p, const char *addr, void *arg, char *msg, size_t n)
{
	(void)arg;
	return pool_remove_backend(p, addr, msg, n);
}

int ctl_backend_remove(struct shunt *sh, const char *pool, const char *addr, struct ctl_err *err)
{
	return for_pools(sh, pool, addr, err, remove_one, NULL);
}

struct set_args {
	int state;
	unsigned weight;
};

static int set_one(struct pool *p, const char *addr, void *arg, char *msg, size_t n)
{
	const struct set_args *a = arg;
	int rc = 0;

	if (a->weight)
		rc = pool_set_weight(p, addr, a->weight, msg, n);
	if (rc == 0 && a->state >= 0)
		rc = pool_set_state(p, addr, (enum backend_state)a->state, msg, n);
	return rc;
}

int ctl_backend_set(struct shunt *sh, const char *pool, const char *addr, int state,
		    unsigned weight, struct ctl_err *err)
{
	struct set_args a = { state, weight };

	if (state < 0 && !weight) {
		ctl_set_err(err, 400, ER_SYNTAX_ERROR, "42000", "nothing to change: give a state or a weight");
		return -EINVAL;
	}
	if (weight > 1000) {
		ctl_set_err(err, 400, ER_UNKNOWN_ERROR, "HY000", "weight %u: expected 1..1000", weight);
		return -EINVAL;
	}
	return for_pools(sh, pool, addr, err, set_one, &a);
}

/* ---- counters ------------------------------------------------------------------- */

static const struct table_col stats_cols[] = { { "name", COL_STR }, { "value", COL_INT } };

static void stat_row(struct table *t, const char *name, uint64_t v)
{
	long r = table_add_row(t);
	table_set_str(t, r, 0, name);
	table_set_int(t, r, 1, (int64_t)v);
}

struct table *ctl_stats(struct shunt *sh, struct ctl_err *err)
{
	struct table *t = table_new(stats_cols, 2);
	struct fp_stats fs;
	char name[64];

	if (!t) {
		ctl_set_err(err, 500, ER_OUT_OF_RESOURCES, "HY000", "out of memory");
		return NULL;
	}
#define ROW(field) stat_row(t, #field, STAT_GET(sh, field))
	stat_row(t, "sessions_total", shunt_sessions(sh, 1));
	stat_row(t, "sessions_now", shunt_sessions(sh, 0));
	ROW(logins_ok);
	stat_row(t, "logins_failed", LOGINS_FAILED(sh));
	for (int i = 0; i < LOGIN_FAIL__COUNT; i++) {
		snprintf(name, sizeof(name), "logins_failed_%s", login_fail_names[i]);
		stat_row(t, name, STAT_GET(sh, login_failed_by[i]));
	}
	ROW(backend_failures);
	ROW(established);
	ROW(sessions_kernel);
	ROW(kernel_now);
	ROW(user_now);
	stat_row(t, "fallbacks", FALLBACKS(sh));
	stat_row(t, "relay_bytes_c2s", WSTAT_GET(sh, relay_bytes_c2s));
	stat_row(t, "relay_bytes_s2c", WSTAT_GET(sh, relay_bytes_s2c));
	stat_row(t, "relay_commands", WSTAT_GET(sh, relay_commands));
	stat_row(t, "punts", WSTAT_GET(sh, punts));
	stat_row(t, "punted_bytes", WSTAT_GET(sh, punted_bytes));
	stat_row(t, "held_bytes_s2c", WSTAT_GET(sh, held_bytes_s2c));
	ROW(kills_ok);
	ROW(kills_failed);
	ROW(reloads_ok);
	ROW(reloads_failed);
	ROW(reloads_throttled);
	ROW(configs_retained);
#undef ROW
	for (int o = 0; o < MIG_OUTCOME__COUNT; o++) {
		uint64_t sum = 0;
		for (int tr = 0; tr < MIG_TRIGGER__COUNT; tr++)
			sum += STAT_GET(sh, migrations_by[tr][o]);
		snprintf(name, sizeof(name), "migrations_%s", mig_outcome_names[o]);
		stat_row(t, name, sum);
	}
	if (fp_stats_read(&fs) == 0) {
		stat_row(t, "kernel_commands", fs.commands);
		stat_row(t, "kernel_bytes_c2s", fs.bytes_c2s);
		stat_row(t, "kernel_bytes_s2c", fs.bytes_s2c);
		stat_row(t, "kernel_passed_bytes", fs.passed_bytes);
		stat_row(t, "kernel_drops", fs.drops);
		stat_row(t, "kernel_stmt_id_rewrites", fs.stmt_id_rewrites);
	}
	stat_row(t, "uptime_s", (uint64_t)((clock_wall_ms() - sh->started_ms) / 1000));
	return table_done(t, err);
}

/* ---- kill ------------------------------------------------------------------------- */

struct kill_req *ctl_kill(struct shunt *sh, uint32_t id, int query_only, kill_done_fn done,
			  void *ctx, struct ctl_err *err)
{
	struct kill_req *r = kill_start(sh, sh->ctl->base, id, query_only, NULL, done, ctx);
	if (!r)
		ctl_set_err(err, 500, ER_OUT_OF_RESOURCES, "HY000", "out of memory");
	return r;
}

/* ---- migrate ---------------------------------------------------------------------- */

/* Is addr (as written) a backend some pool lists? */
static int backend_listed(struct shunt *sh, const char *addr)
{
	struct backend_view *bv = NULL;
	int n = pool_snapshot(sh->pools, sh->n_pools, &bv), found = 0;

	if (n < 0)
		return -ENOMEM;
	for (int i = 0; i < n && !found; i++)
		found = strcmp(bv[i].addr, addr) == 0;
	free(bv);
	return found;
}

struct mig_req *ctl_migrate(struct shunt *sh, uint32_t id, const char *target, mig_done_fn done,
			    void *ctx, struct ctl_err *err)
{
	struct mig_req *r;

	if (target) {
		int listed = backend_listed(sh, target);
		if (listed <= 0) {
			if (listed < 0)
				ctl_set_err(err, 500, ER_OUT_OF_RESOURCES, "HY000", "out of memory");
			else
				ctl_set_err(err, 404, ER_UNKNOWN_ERROR, "HY000",
					    "no backend %s in any pool", target);
			return NULL;
		}
	}
	r = migrate_start(sh, sh->ctl->base, id, target, MIG_TRIGGER_MANUAL, 1, done, ctx);
	if (!r)
		ctl_set_err(err, 500, ER_OUT_OF_RESOURCES, "HY000", "out of memory");
	return r;
}

/* Microseconds as "4.2 ms" / "1.35 s". */
static void fmt_us(uint64_t us, char *out, size_t n)
{
	if (us < 1000000)
		snprintf(out, n, "%.1f ms", (double)us / 1000.0);
	else
		snprintf(out, n, "%.2f s", (double)us / 1e6);
}

void ctl_migrate_summary(const struct mig_result *res, char *out, size_t n)
{
	char total[32], held[32];

	if (res->outcome != MIG_OK) {
		struct ctl_err e;
		ctl_migrate_err(res, &e);
		snprintf(out, n, "%s", e.msg);
		return;
	}
	fmt_us(res->total_us, total, sizeof(total));
	fmt_us(res->held_us, held, sizeof(held));
	if (res->held_us)
		snprintf(out, n, "moved to %s in %s (a command waited %s)",
			 res->to[0] ? res->to : "another backend", total, held);
	else
		snprintf(out, n, "moved to %s in %s", res->to[0] ? res->to : "another backend", total);
}

void ctl_migrate_err(const struct mig_result *res, struct ctl_err *err)
{
	const char *why = res->msg[0] ? res->msg : mig_outcome_names[res->outcome];

	switch (res->outcome) {
	case MIG_NOT_FOUND:
		ctl_set_err(err, 404, ER_NO_SUCH_THREAD, "HY000", "Unknown thread id: %u", res->id);
		return;
	case MIG_CLOSED:
		ctl_set_err(err, 404, ER_UNKNOWN_ERROR, "HY000",
			    "session %u ended during the migration", res->id);
		return;
	default:
		ctl_set_err(err, 409, ER_UNKNOWN_ERROR, "HY000", "session %u not moved (%s): %s",
			    res->id, mig_outcome_names[res->outcome], why);
		return;
	}
}

/* ---- reload ------------------------------------------------------------------------ */

/* What a reload cannot change; "" when nothing: the listeners, the set of
 * pools, and the [global] keys the key table marks restart-only. */
static void restart_only_changes(const struct shunt_config *a, const struct shunt_config *b,
				 char *out, size_t n)
{
	out[0] = '\0';
#define DIFF(cond, what) do { if ((cond) && !out[0]) snprintf(out, n, "%s", what); } while (0)
	DIFF(a->n_listeners != b->n_listeners, "listeners");
	for (size_t i = 0; i < a->n_listeners && i < b->n_listeners; i++)
		DIFF(strcmp(a->listeners[i].name, b->listeners[i].name) ||
		     strcmp(a->listeners[i].addr.text, b->listeners[i].addr.text) ||
		     strcmp(a->listeners[i].pool, b->listeners[i].pool), "listeners");
	DIFF(a->n_pools != b->n_pools, "the set of pools");
	for (size_t i = 0; i < a->n_pools && i < b->n_pools; i++)
		DIFF(strcmp(a->pools[i].name, b->pools[i].name), "the set of pools");
	const char *key = cfg_keys_restart_change(a, b);
	DIFF(key != NULL, key);
#undef DIFF
}

/* Frees the replaced configurations no worker can still be using: every
 * worker's epoch moved past the one read when it was replaced (a callback
 * that loaded the old pointer has ended since), and this thread, which
 * runs this, is past its own callbacks. Start-up's stays (listeners point
 * into it). Control thread. */
static void sweep_retired(struct shunt *sh)
{
	struct shunt_config **pp = &sh->retired;

	while (*pp) {
		struct shunt_config *c = *pp;
		int done = !c->startup && c->retire_epochs != NULL;
		for (unsigned i = 0; done && i < sh->n_workers; i++)
			done = atomic_load_explicit(&sh->workers[i].epoch, memory_order_acquire) >
			       c->retire_epochs[i];
		if (!done) {
			pp = &c->retired_next;
			continue;
		}
		*pp = c->retired_next;
		free(c->retire_epochs);
		config_free(c);
		free(c);
		STAT_SUB(sh, configs_retained, 1);
	}
}

static void sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	sweep_retired(arg);
}

/* Reloads are rate-limited by a bucket of RELOAD_BURST, refilled at
 * RELOAD_PER_S per second: a script's few reloads in a row go through,
 * a flood of SIGHUPs or API calls cannot make shunt parse files back to
 * back. */
#define RELOAD_BURST 10
#define RELOAD_PER_S 10

/* Takes one reload from the bucket: 0, or the µs until one is there. */
static uint64_t reload_take(struct control *c)
{
	return token_take(&c->reloads, RELOAD_BURST, RELOAD_PER_S, clock_mono_us());
}

int ctl_reload(struct shunt *sh, struct ctl_err *err)
{
	struct shunt_config *next, *cur = shunt_cfg(sh);
	char *msgs = NULL;
	size_t msgs_len = 0;
	char what[64];
	int rc;

	uint64_t wait = sh->ctl ? reload_take(sh->ctl) : 0;
	if (wait) {
		ctl_set_err(err, 429, ER_UNKNOWN_ERROR, "HY000",
			    "reload refused, the running configuration stays: too many reloads "
			    "(at most %d in a row, then %d per second); try again in %llu ms",
			    RELOAD_BURST, RELOAD_PER_S, (unsigned long long)(wait / 1000 + 1));
		STAT_ADD(sh, reloads_throttled, 1);
		pr_warn("%s", err->msg);
		return -EAGAIN;
	}
	sweep_retired(sh);
	next = calloc(1, sizeof(*next));
	if (!next) {
		ctl_set_err(err, 500, ER_OUT_OF_RESOURCES, "HY000", "out of memory");
		return -ENOMEM;
	}
	FILE *mem = open_memstream(&msgs, &msgs_len);
	config_set_error_stream(mem);
	rc = config_from_args(next, sh->argc, sh->argv);
	config_set_error_stream(NULL);
	if (mem)
		fclose(mem);
	if (rc != 0) {
		/* One line for the log and the caller: the messages joined. */
		for (char *p = msgs; p && *p; p++)
			if (*p == '\n' && p[1])
				*p = ';';
		if (msgs && msgs_len && msgs[strlen(msgs) - 1] == '\n')
			msgs[strlen(msgs) - 1] = '\0';
		ctl_set_err(err, 400, ER_UNKNOWN_ERROR, "HY000",
			    "reload refused, the running configuration stays: %s",
			    msgs && *msgs ? msgs : "invalid configuration");
		goto refuse;
	}
	restart_only_changes(cur, next, what, sizeof(what));
	if (what[0]) {
		ctl_set_err(err, 409, ER_UNKNOWN_ERROR, "HY000",
			    "reload refused, the running configuration stays: %s changed, "
			    "which needs a restart", what);
		goto refuse;
	}
	free(msgs);
	int changes = 0;
	for (size_t i = 0; i < sh->n_pools; i++) {
		struct pool *p = &sh->pools[i];
		pthread_mutex_lock(&p->lock);
		p->fail_threshold = next->health_fail_threshold;
		pthread_mutex_unlock(&p->lock);
		changes += pool_sync(p, &next->pools[i]);
	}
	log_set_level(next->log_level);
	/* Workers may be in a callback that read the old configuration: it
	 * is freed once each has moved on (sweep_retired). */
	__atomic_store_n(&sh->cfg, next, __ATOMIC_SEQ_CST);
	cur->retire_epochs = calloc(sh->n_workers ? sh->n_workers : 1, sizeof(uint64_t));
	for (unsigned i = 0; cur->retire_epochs && i < sh->n_workers; i++)
		cur->retire_epochs[i] = atomic_load_explicit(&sh->workers[i].epoch, memory_order_seq_cst);
	cur->retired_next = sh->retired;
	sh->retired = cur;
	if (!cur->startup)
		STAT_ADD(sh, configs_retained, 1);
	STAT_ADD(sh, reloads_ok, 1);
	pr_info("configuration reloaded from %s: %zu user(s), %d backend change(s)",
		next->path ? next->path : "the command line", next->n_users, changes);
	return 0;
refuse:
	free(msgs);
	config_free(next);
	free(next);
	STAT_ADD(sh, reloads_failed, 1);
	pr_warn("%s", err->msg);
	return -EINVAL;
}

/* ---- the thread --------------------------------------------------------------------- */

static void *control_main(void *arg)
{
	struct control *c = arg;
	event_base_loop(c->base, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

int control_start(struct shunt *sh, const struct ctl_service *services, size_t n_services)
{
	struct control *c = calloc(1, sizeof(*c));
	int rc = 0;

	if (!c)
		return -ENOMEM;
	c->sh = sh;
	c->base = event_base_new();
	sh->ctl = c;
	if (!c->base)
		return -ENOMEM;
	if (n_services > CTL_MAX_SERVICES)
		return -E2BIG;
	for (size_t i = 0; i < n_services; i++) {
		c->services[i] = services[i];
		c->n_services++;
		if ((rc = services[i].start(sh, c->base)) < 0)
			return rc;
	}
	struct timeval tv = { 0, 250000 };
	c->sweep_timer = event_new(c->base, -1, EV_PERSIST, sweep_cb, sh);
	if (!c->sweep_timer || event_add(c->sweep_timer, &tv) < 0)
		return -ENOMEM;
	rc = pthread_create(&c->tid, NULL, control_main, c);
	if (rc)
		return -rc;
	c->started = 1;
	return 0;
}

void control_stop(struct shunt *sh)
{
	struct control *c = sh->ctl;

	if (c && c->started) {
		event_base_loopbreak(c->base);
		pthread_join(c->tid, NULL);
		c->started = 0;
	}
}

void control_free(struct shunt *sh)
{
	struct control *c = sh->ctl;

	if (!c)
		return;
	control_stop(sh);
	for (size_t i = c->n_services; i-- > 0;)
		c->services[i].stop();
	if (c->sweep_timer)
		event_free(c->sweep_timer);
	if (c->base)
		event_base_free(c->base);
	free(c);
	sh->ctl = NULL;
}

struct event_base *control_base(struct shunt *sh)
{
	return sh->ctl ? sh->ctl->base : NULL;
}

/* A SIGHUP's reload (control thread). One that comes too soon after the
 * last reload is not refused but deferred to the end of the interval,
 * and SIGHUPs meanwhile join it. */
static void reload_cb(evutil_socket_t fd, short what, void *arg)
{
	struct shunt *sh = arg;
	struct control *c = sh->ctl;
	struct ctl_err err;
	(void)fd;
	(void)what;

	c->reload_deferred = 0;
	uint64_t wait = reload_take(c);
	if (wait) {
		struct timeval tv = { (time_t)(wait / 1000000), (suseconds_t)(wait % 1000000) };
		c->reload_deferred = 1;
		if (event_base_once(c->base, -1, EV_TIMEOUT, reload_cb, sh, &tv) < 0) {
			c->reload_deferred = 0;
			pr_warn("SIGHUP: cannot schedule a reload");
		}
		return;
	}
	token_give_back(&c->reloads, RELOAD_BURST);  /* ctl_reload() takes it again */
	ctl_reload(sh, &err);
}

static void reload_request_cb(evutil_socket_t fd, short what, void *arg)
{
	struct shunt *sh = arg;

	if (sh->ctl->reload_deferred)
		return;         /* the deferred one will read the file */
	reload_cb(fd, what, arg);
}

void control_request_reload(struct shunt *sh)
{
	if (!sh->ctl || event_base_once(sh->ctl->base, -1, EV_TIMEOUT, reload_request_cb, sh, NULL) < 0)
		pr_warn("SIGHUP: cannot schedule a reload");
}
