/* metrics.c — GET /metrics: every counter in the Prometheus text format
 * (version 0.0.4). Names carry the shunt_ prefix and their unit; counters
 * end in _total; each family is written whole, HELP and TYPE first.
 * docs/observability.md lists them all. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/buffer.h>
#include "ctl/metrics.h"
#include "util/clock.h"
#include "ctl/control.h"
#include "core/fastpath.h"
#include "session/session.h"


/* Writes a label value with Prometheus escaping. */
static void put_label(struct evbuffer *o, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			evbuffer_add_printf(o, "\\%c", *v);
		else if (*v == '\n')
			evbuffer_add(o, "\\n", 2);
		else
			evbuffer_add(o, v, 1);
	}
}

static void family(struct evbuffer *o, const char *name, const char *type, const char *help)
{
	evbuffer_add_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One sample: name{k1="v1",k2="v2"} value. labels: NULL-terminated k, v list. */
static void sample(struct evbuffer *o, const char *name, double value, ...)
{
	va_list ap;
	const char *k;
	int first = 1;

	evbuffer_add_printf(o, "%s", name);
	va_start(ap, value);
	while ((k = va_arg(ap, const char *)) != NULL) {
		const char *v = va_arg(ap, const char *);
		evbuffer_add_printf(o, "%s%s=\"", first ? "{" : ",", k);
		put_label(o, v);
		evbuffer_add(o, "\"", 1);
		first = 0;
	}
	va_end(ap);
	evbuffer_add_printf(o, "%s %.17g\n", first ? "" : "}", value);
}

/* A latency histogram (microsecond buckets -> seconds): of backend v
 * (pool and backend labels), or of the whole process when v is NULL. */
static void lat_hist(struct evbuffer *o, const char *name, const struct backend_view *v,
		     const struct lat_hist *h)
{
	char le[32], bucket[96], sum[96], count[96];
	uint64_t cum = 0;

	snprintf(bucket, sizeof(bucket), "%s_bucket", name);
	snprintf(sum, sizeof(sum), "%s_sum", name);
	snprintf(count, sizeof(count), "%s_count", name);
	for (int i = 0; i <= POOL_LAT_BUCKETS; i++) {
		cum += atomic_load_explicit(&h->bucket[i], memory_order_relaxed);
		if (i < POOL_LAT_BUCKETS)
			snprintf(le, sizeof(le), "%g", (double)pool_lat_bounds_us[i] / 1e6);
		else
			snprintf(le, sizeof(le), "+Inf");
		if (v)
			sample(o, bucket, (double)cum, "pool", v->pool, "backend", v->addr, "le", le, NULL);
		else
			sample(o, bucket, (double)cum, "le", le, NULL);
	}
	/* count = the +Inf bucket, read once, so the two always agree */
	double sum_s = (double)atomic_load_explicit(&h->sum_us, memory_order_relaxed) / 1e6;
	if (v) {
		sample(o, sum, sum_s, "pool", v->pool, "backend", v->addr, NULL);
		sample(o, count, (double)cum, "pool", v->pool, "backend", v->addr, NULL);
	} else {
		sample(o, sum, sum_s, NULL);
		sample(o, count, (double)cum, NULL);
	}
}

static void backend_metrics(struct shunt *sh, struct evbuffer *o)
{
	struct backend_view *bv = NULL;
	int n = pool_snapshot(sh->pools, sh->n_pools, &bv);
	if (n < 0)
		return;
	family(o, "shunt_backend_sessions", "gauge", "Sessions using the backend now.");
	for (int i = 0; i < n; i++)
		sample(o, "shunt_backend_sessions", bv[i].active, "pool", bv[i].pool,
		       "backend", bv[i].addr, NULL);
	family(o, "shunt_backend_sessions_total", "counter", "Sessions ever routed to the backend.");
	for (int i = 0; i < n; i++)
		sample(o, "shunt_backend_sessions_total", (double)bv[i].total, "pool", bv[i].pool,
		       "backend", bv[i].addr, NULL);
	family(o, "shunt_backend_weight", "gauge", "Routing weight of the backend.");
	for (int i = 0; i < n; i++)
		sample(o, "shunt_backend_weight", bv[i].weight, "pool", bv[i].pool,
		       "backend", bv[i].addr, NULL);
	family(o, "shunt_backend_state", "gauge",
	       "Operator state of the backend (1 for the current state).");
	for (int i = 0; i < n; i++)
		for (int st = 0; st < BACKEND__STATES; st++)
			sample(o, "shunt_backend_state", bv[i].state == (enum backend_state)st,
			       "pool", bv[i].pool, "backend", bv[i].addr,
			       "state", backend_state_name((enum backend_state)st), NULL);
	family(o, "shunt_backend_up", "gauge",
	       "Health of the backend: 1 up, 0 down (consecutive failures).");
	for (int i = 0; i < n; i++)
		sample(o, "shunt_backend_up", !bv[i].down, "pool", bv[i].pool, "backend", bv[i].addr, NULL);
	family(o, "shunt_backend_consecutive_failures", "gauge",
	       "Connect/login failures in a row (health).");
	for (int i = 0; i < n; i++)
		sample(o, "shunt_backend_consecutive_failures", bv[i].consecutive_failures,
		       "pool", bv[i].pool, "backend", bv[i].addr, NULL);
	family(o, "shunt_backend_connect_failures_total", "counter",
	       "Connect, greeting and login failures, and failed health probes.");
	for (int i = 0; i < n; i++)
		sample(o, "shunt_backend_connect_failures_total", (double)bv[i].connect_failures,
		       "pool", bv[i].pool, "backend", bv[i].addr, NULL);
	/* The histograms live in the backend objects; reading them under no
	 * lock is fine (atomics), and bv[i].b stays valid because only this
	 * thread removes backends. */
	family(o, "shunt_backend_connect_seconds", "histogram", "Backend TCP connect time.");
	for (int i = 0; i < n; i++)
		lat_hist(o, "shunt_backend_connect_seconds", &bv[i], &bv[i].b->connect_lat);
	family(o, "shunt_backend_login_seconds", "histogram",
	       "Backend login time: greeting received to login OK.");
	for (int i = 0; i < n; i++)
		lat_hist(o, "shunt_backend_login_seconds", &bv[i], &bv[i].b->login_lat);
	free(bv);
}

/* Migrations by trigger and outcome, their durations, and the sessions
 * that cannot move (one pass over each worker's sessions). */
static void migration_metrics(struct shunt *sh, struct evbuffer *o)
{
	uint64_t sticky, migrating;

	family(o, "shunt_migrations_total", "counter",
	       "Session migrations, by who asked (trigger) and how they ended (outcome).");
	for (int t = 0; t < MIG_TRIGGER__COUNT; t++)
		for (int r = 0; r < MIG_OUTCOME__COUNT; r++)
			sample(o, "shunt_migrations_total", (double)STAT_GET(sh, migrations_by[t][r]),
			       "trigger", mig_trigger_names[t], "outcome", mig_outcome_names[r], NULL);
	family(o, "shunt_migration_duration_seconds", "histogram",
	       "Successful migrations: request to moved.");
	lat_hist(o, "shunt_migration_duration_seconds", NULL, &sh->stats.migrate_total_lat);
	family(o, "shunt_migration_held_seconds", "histogram",
	       "Successful migrations: how long a client command waited in user space (0: none did).");
	lat_hist(o, "shunt_migration_held_seconds", NULL, &sh->stats.migrate_held_lat);

	ctl_session_counts(sh, &sticky, &migrating);
	family(o, "shunt_sticky_sessions", "gauge",
	       "Sessions known to hold state that cannot be migrated.");
	sample(o, "shunt_sticky_sessions", (double)sticky, NULL);
	family(o, "shunt_migrating_sessions", "gauge", "Sessions being migrated now.");
	sample(o, "shunt_migrating_sessions", (double)migrating, NULL);
}

/* The kernel's log2 microsecond buckets as a Prometheus histogram. */
static void kernel_latency(struct evbuffer *o, const struct fp_stats *fs)
{
	char le[32];
	uint64_t cum = 0;

	family(o, "shunt_kernel_command_latency_seconds", "histogram",
	       "Command start to response end, measured by the BPF program (all kernel tunnels).");
	for (int i = 0; i < TUN_LAT_BUCKETS; i++) {
		cum += fs->lat_hist[i];
		if (i < TUN_LAT_BUCKETS - 1)
			snprintf(le, sizeof(le), "%g", (double)(1ull << (i + 1)) / 1e6);
		else
			snprintf(le, sizeof(le), "+Inf");
		sample(o, "shunt_kernel_command_latency_seconds_bucket", (double)cum, "le", le, NULL);
	}
	sample(o, "shunt_kernel_command_latency_seconds_sum", (double)fs->lat_sum_ns / 1e9, NULL);
	sample(o, "shunt_kernel_command_latency_seconds_count", (double)cum, NULL);
}

void metrics_render(struct shunt *sh, struct evbuffer *o)
{
	const struct shunt_config *cfg = shunt_cfg(sh);
	struct fp_stats fs;
	int fp_on = fp_stats_read(&fs) == 0;

	if (!fp_on)
		memset(&fs, 0, sizeof(fs));

	family(o, "shunt_build_info", "gauge", "Version and fast-path mode (value 1).");
	sample(o, "shunt_build_info", 1, "version", SHUNT_VERSION, "fastpath", fp_mode_name(), NULL);
	family(o, "shunt_uptime_seconds", "gauge", "Seconds since start.");
	sample(o, "shunt_uptime_seconds", (double)(clock_wall_ms() - sh->started_ms) / 1000.0, NULL);

	family(o, "shunt_sessions", "gauge", "Client sessions open now, by listener.");
	for (size_t i = 0; i < cfg->n_listeners && sh->lstats; i++)
		sample(o, "shunt_sessions", (double)atomic_load(&sh->lstats[i].sessions_now),
		       "listener", cfg->listeners[i].name, NULL);
	family(o, "shunt_sessions_total", "counter", "Client connections accepted, by listener.");
	for (size_t i = 0; i < cfg->n_listeners && sh->lstats; i++)
		sample(o, "shunt_sessions_total", (double)atomic_load(&sh->lstats[i].sessions_total),
		       "listener", cfg->listeners[i].name, NULL);

	family(o, "shunt_accept_pauses_total", "counter",
	       "Times a listening port stopped accepting for a moment: out of descriptors or memory.");
	sample(o, "shunt_accept_pauses_total", (double)listen_guard_pauses(), NULL);

	family(o, "shunt_logins_ok_total", "counter", "Client logins that reached a backend.");
	sample(o, "shunt_logins_ok_total", (double)STAT_GET(sh, logins_ok), NULL);
	family(o, "shunt_logins_failed_total", "counter", "Client logins that failed, by reason.");
	for (int i = 0; i < LOGIN_FAIL__COUNT; i++)
		sample(o, "shunt_logins_failed_total", (double)STAT_GET(sh, login_failed_by[i]),
		       "reason", login_fail_names[i], NULL);

	family(o, "shunt_established_sessions", "gauge",
	       "Established sessions now, by who carries them (kernel fast path or user-space relay).");
	sample(o, "shunt_established_sessions", (double)STAT_GET(sh, kernel_now), "mode", "kernel", NULL);
	sample(o, "shunt_established_sessions", (double)STAT_GET(sh, user_now), "mode", "user", NULL);
	family(o, "shunt_established_sessions_total", "counter",
	       "Sessions logged in to a backend, by who carried them.");
	uint64_t est = STAT_GET(sh, established), kern = STAT_GET(sh, sessions_kernel);
	sample(o, "shunt_established_sessions_total", (double)kern, "mode", "kernel", NULL);
	sample(o, "shunt_established_sessions_total", (double)(est > kern ? est - kern : 0),
	       "mode", "user", NULL);
	family(o, "shunt_fastpath_active", "gauge", "1 when the kernel fast path is loaded.");
	sample(o, "shunt_fastpath_active", fp_active(), NULL);
	family(o, "shunt_fastpath_fallbacks_total", "counter",
	       "Sessions the kernel refused, relayed in user space instead, by reason.");
	for (int i = 0; i < FALLBACK__COUNT; i++)
		sample(o, "shunt_fastpath_fallbacks_total", (double)STAT_GET(sh, fallback_by[i]),
		       "reason", fallback_names[i], NULL);

	family(o, "shunt_commands_total", "counter", "Client commands carried, by path.");
	sample(o, "shunt_commands_total", (double)fs.commands, "path", "kernel", NULL);
	sample(o, "shunt_commands_total", (double)WSTAT_GET(sh, relay_commands), "path", "user", NULL);
	family(o, "shunt_bytes_total", "counter",
	       "Bytes carried, by direction and path (punted: client bytes user space forwarded for a punt "
	       "or a hold; held: backend bytes user space carried while the program held them for "
	       "backpressure).");
	sample(o, "shunt_bytes_total", (double)fs.bytes_c2s, "direction", "client_to_backend",
	       "path", "kernel", NULL);
	sample(o, "shunt_bytes_total", (double)fs.bytes_s2c, "direction", "backend_to_client",
	       "path", "kernel", NULL);
	sample(o, "shunt_bytes_total", (double)WSTAT_GET(sh, relay_bytes_c2s),
	       "direction", "client_to_backend", "path", "user", NULL);
	sample(o, "shunt_bytes_total", (double)WSTAT_GET(sh, relay_bytes_s2c),
	       "direction", "backend_to_client", "path", "user", NULL);
	sample(o, "shunt_bytes_total", (double)WSTAT_GET(sh, punted_bytes),
	       "direction", "client_to_backend", "path", "punted", NULL);
	sample(o, "shunt_bytes_total", (double)WSTAT_GET(sh, held_bytes_s2c),
	       "direction", "backend_to_client", "path", "held", NULL);
	family(o, "shunt_punts_total", "counter",
	       "Client commands the BPF program handed to user space, by reason.");
	for (int i = 1; i < TUN_PUNT__COUNT; i++)
		sample(o, "shunt_punts_total", (double)fs.punts[i], "reason", tun_punt_names[i], NULL);
	family(o, "shunt_kernel_redirect_drops_total", "counter",
	       "Redirects the kernel could not make (peer socket gone).");
	sample(o, "shunt_kernel_redirect_drops_total", (double)fs.drops, NULL);
	family(o, "shunt_kernel_stmt_id_rewrites_total", "counter",
	       "Statement ids the BPF program translated in forwarded client bytes (after a migration).");
	sample(o, "shunt_kernel_stmt_id_rewrites_total", (double)fs.stmt_id_rewrites, NULL);
	kernel_latency(o, &fs);

	family(o, "shunt_kills_total", "counter", "KILL [QUERY] carried out by shunt, by outcome.");
	sample(o, "shunt_kills_total", (double)STAT_GET(sh, kills_ok), "outcome", "ok", NULL);
	sample(o, "shunt_kills_total", (double)STAT_GET(sh, kills_failed), "outcome", "error", NULL);
	family(o, "shunt_config_reloads_total", "counter", "Configuration reloads, by outcome.");
	sample(o, "shunt_config_reloads_total", (double)STAT_GET(sh, reloads_ok), "outcome", "ok", NULL);
	sample(o, "shunt_config_reloads_total", (double)STAT_GET(sh, reloads_failed),
	       "outcome", "refused", NULL);
	sample(o, "shunt_config_reloads_total", (double)STAT_GET(sh, reloads_throttled),
	       "outcome", "throttled", NULL);
	family(o, "shunt_limit_refusals_total", "counter",
	       "Connections and logins refused by a client limit, by limit (docs/security.md).");
	for (int i = 1; i < CLIMIT__COUNT; i++)
		sample(o, "shunt_limit_refusals_total", (double)STAT_GET(sh, limit_refused[i]),
		       "limit", climit_name(i), NULL);
	uint64_t unauth = 0, nsrc = 0;
	climit_counts(&unauth, &nsrc);
	family(o, "shunt_clients_unauthenticated", "gauge", "Client connections not logged in yet.");
	sample(o, "shunt_clients_unauthenticated", (double)unauth, NULL);
	family(o, "shunt_client_sources_tracked", "gauge",
	       "Client addresses the limits keep state for (open connections or recent failed logins).");
	sample(o, "shunt_client_sources_tracked", (double)nsrc, NULL);
	family(o, "shunt_config_retained", "gauge",
	       "Configurations replaced by reloads and not freed yet (a worker may still use them).");
	sample(o, "shunt_config_retained", (double)STAT_GET(sh, configs_retained), NULL);

	migration_metrics(sh, o);
	backend_metrics(sh, o);
}
