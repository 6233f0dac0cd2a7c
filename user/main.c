/* main.c — shunt's entry point: configuration, start-up, signals, shutdown. */
#include <errno.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/event.h>
#include <event2/thread.h>
#include "core/config.h"
#include "core/fastpath.h"
#include "core/pool.h"
#include "core/shunt.h"
#include "core/worker.h"
#include "ctl/admin.h"
#include "ctl/balancer.h"
#include "ctl/control.h"
#include "ctl/health.h"
#include "ctl/http.h"
#include "session/client_login.h"
#include "session/session.h"
#include "util/clock.h"
#include "util/log.h"

/* What runs on the control thread, in start order. */
static const struct ctl_service control_services[] = {
	{ "admin port", admin_start, admin_stop },
	{ "HTTP API", http_start, http_stop },
	{ "health probes", health_start, health_stop },
	{ "balancer", balancer_start, balancer_stop },
};

/* Brings up the kernel fast path as configured. auto: one log line saying
 * why it is not used, then the user-space relay; on: refuse to start. */
static int start_fastpath(const struct shunt_config *cfg)
{
	char why[256] = "";

	if (cfg->fastpath == FASTPATH_OFF) {
		pr_info("fast path off (configured): sessions are relayed in user space");
		fp_note_user_space("fast path off (configured)");
		return 0;
	}
	int rc = fp_init(cfg, why, sizeof(why));
	if (rc == 0)
		return 0;
	/* Another daemon's pins: not a kernel limit to fall back from, but a
	   second shunt configured like a running one. */
	if (cfg->fastpath == FASTPATH_ON || rc == -EBUSY) {
		pr_err("%s: %s", rc == -EBUSY ? "cannot start" :
		       "fast path required (--fastpath on) but unavailable", why);
		return -1;
	}
	pr_warn("fast path unavailable, relaying in user space: %s", why);
	char reason[300];
	snprintf(reason, sizeof(reason), "fast path unavailable: %s", why);
	fp_note_user_space(reason);
	return 0;
}

static void on_usr1(evutil_socket_t sig, short what, void *arg)
{
	struct shunt *sh = arg;
	(void)sig;
	(void)what;
	pool_log_stats(sh->pools, sh->n_pools);
}

static void on_hup(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	pr_info("SIGHUP: reloading the configuration");
	control_request_reload(arg);
}

/* Frees the configurations reloads replaced, and the running one unless
 * it is start-up's (on main's stack). */
static void free_configs(struct shunt *sh, struct shunt_config *startup)
{
	struct shunt_config *c = sh->retired, *next;

	if (sh->cfg && sh->cfg != startup) {
		config_free(sh->cfg);
		free(sh->cfg);
	}
	for (; c; c = next) {
		next = c->retired_next;
		free(c->retire_epochs);
		if (c != startup) {
			config_free(c);
			free(c);
		}
	}
	sh->cfg = sh->retired = NULL;
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	pr_info("signal %d: shutting down", (int)sig);
	event_base_loopbreak(arg);
}

/* Raises the soft descriptor limit to the hard one, and warns when even
 * that cannot hold max_connections sessions (two sockets each, plus the
 * listeners, the control ports and side connections). */
static void raise_fd_limit(const struct shunt_config *cfg)
{
	struct rlimit rl;
	uint64_t want = 2 * (uint64_t)cfg->max_connections + 64 + 4 * cfg->n_listeners;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
		pr_warn("cannot read the descriptor limit: %s", strerror(errno));
		return;
	}
	if (rl.rlim_cur < rl.rlim_max) {
		rlim_t was = rl.rlim_cur;
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
			pr_warn("cannot raise the descriptor limit from %llu to %llu: %s",
				(unsigned long long)was, (unsigned long long)rl.rlim_max, strerror(errno));
			rl.rlim_cur = was;
		} else {
			pr_info("descriptor limit raised from %llu to %llu", (unsigned long long)was,
				(unsigned long long)rl.rlim_cur);
		}
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want)
		pr_warn("the descriptor limit (%llu) cannot hold max_connections = %u (about %llu "
			"descriptors); past it new connections wait (raise LimitNOFILE / ulimit -n)",
			(unsigned long long)rl.rlim_cur, cfg->max_connections, (unsigned long long)want);
}

int main(int argc, char **argv)
{
	struct shunt_config cfg;
	struct shunt sh;
	struct event_base *main_base = NULL;
	struct event *sigint = NULL, *sigterm = NULL, *sigusr1 = NULL, *sighup = NULL;
	int rc, status = 1;

	memset(&sh, 0, sizeof(sh));
	config_init(&cfg);
	rc = config_from_args(&cfg, argc, argv);
	if (rc == 1) {
		status = 0;
		goto out_cfg;
	}
	if (rc < 0)
		goto out_cfg;
	if (cfg.check_only) {
		printf("configuration OK: %zu listener(s), %zu pool(s), %zu user(s)\n",
		       cfg.n_listeners, cfg.n_pools, cfg.n_users);
		status = 0;
		goto out_cfg;
	}

	log_set_level(cfg.log_level);
	signal(SIGPIPE, SIG_IGN);
	if (evthread_use_pthreads() < 0) {
		pr_err("libevent has no pthreads support");
		goto out_cfg;
	}
	log_route_libs();
	raise_fd_limit(&cfg);

	if (start_fastpath(&cfg) < 0)
		goto out_cfg;
	cfg.startup = 1;
	sh.cfg = &cfg;
	sh.argc = argc;
	sh.argv = argv;
	sh.started_ms = clock_wall_ms();
	sh.accept = sess_accept;
	sh.close_sessions = sess_close_all;
	sh.pools = pool_create_all(&cfg);
	sh.n_pools = cfg.n_pools;
	if (!sh.pools)
		goto out_cfg;
	main_base = event_base_new();
	if (!main_base)
		goto out_pools;
	if (worker_create_all(&sh) < 0)
		goto out_base;
	sigint = evsignal_new(main_base, SIGINT, on_signal, main_base);
	sigterm = evsignal_new(main_base, SIGTERM, on_signal, main_base);
	sigusr1 = evsignal_new(main_base, SIGUSR1, on_usr1, &sh);
	sighup = evsignal_new(main_base, SIGHUP, on_hup, &sh);
	if (!sigint || !sigterm || !sigusr1 || !sighup || evsignal_add(sigint, NULL) < 0 ||
	    evsignal_add(sigterm, NULL) < 0 || evsignal_add(sigusr1, NULL) < 0 ||
	    evsignal_add(sighup, NULL) < 0)
		goto out_workers;
	if (worker_start_all(&sh) < 0) {
		pr_err("cannot start worker threads");
		goto out_workers;
	}
	if (control_start(&sh, control_services,
			  sizeof(control_services) / sizeof(control_services[0])) < 0) {
		pr_err("cannot start the admin port / HTTP API (see above)");
		goto out_workers;
	}
	for (size_t i = 0; i < cfg.n_listeners; i++)
		pr_info("listening on %s (listener %s, pool %s)", cfg.listeners[i].addr.text,
			cfg.listeners[i].name, cfg.listeners[i].pool);
	pr_info("shunt ready: %u worker thread(s), fast path %s", sh.n_workers, fp_mode_name());

	event_base_loop(main_base, EVLOOP_NO_EXIT_ON_EMPTY);
	status = 0;
out_workers:
	control_stop(&sh);
	worker_stop_all(&sh);
	control_free(&sh);
	/* After the workers: closing sessions adds their kernel counters. */
	pr_info("sessions: %llu accepted, %llu logins ok, %llu failed, %llu established, %llu kernel, %llu fallbacks; "
		"relay bytes c2s=%llu s2c=%llu; kernel bytes c2s=%llu s2c=%llu; punts %llu (%llu bytes); held s2c=%llu",
		(unsigned long long)shunt_sessions(&sh, 1),
		(unsigned long long)STAT_GET(&sh, logins_ok),
		(unsigned long long)LOGINS_FAILED(&sh),
		(unsigned long long)STAT_GET(&sh, established),
		(unsigned long long)STAT_GET(&sh, sessions_kernel),
		(unsigned long long)FALLBACKS(&sh),
		(unsigned long long)WSTAT_GET(&sh, relay_bytes_c2s),
		(unsigned long long)WSTAT_GET(&sh, relay_bytes_s2c),
		(unsigned long long)STAT_GET(&sh, kernel_bytes_c2s),
		(unsigned long long)STAT_GET(&sh, kernel_bytes_s2c),
		(unsigned long long)WSTAT_GET(&sh, punts),
		(unsigned long long)WSTAT_GET(&sh, punted_bytes),
		(unsigned long long)WSTAT_GET(&sh, held_bytes_s2c));
	pool_log_stats(sh.pools, sh.n_pools);
	if (sigint)
		event_free(sigint);
	if (sigterm)
		event_free(sigterm);
	if (sigusr1)
		event_free(sigusr1);
	if (sighup)
		event_free(sighup);
out_base:
	event_base_free(main_base);
out_pools:
	pool_free_all(sh.pools, sh.n_pools);
	free(sh.lstats);
	fp_fini();
out_cfg:
	free_configs(&sh, &cfg);
	climit_free_all();
	config_free(&cfg);
	libevent_global_shutdown();
	return status;
}
