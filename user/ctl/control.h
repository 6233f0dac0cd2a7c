/* control.h — operating shunt: one command layer, three ways in.
 *
 * The commands (list backends and tunnels, add/remove/set backends, kill,
 * migrate, reload, counters) are functions here. The SQL admin port (admin.c), the
 * HTTP API (http.c) and shuntctl (through the HTTP API) only parse their
 * input and render the results, so every way in behaves the same.
 *
 * Threads: everything here runs on the control thread, which has its own
 * event base (admin port, HTTP API, health probes, SIGHUP reloads).
 * Sessions belong to the workers: a listing asks each worker for a copy of
 * its sessions (worker_call_sync: a few microseconds of the worker's loop
 * per call, waited for at most WORKER_CALL_TIMEOUT_MS), and the kernel counters are then read from the BPF maps on
 * the control thread, so no map system call runs on a data-path thread. */
#ifndef SHUNT_CONTROL_H
#define SHUNT_CONTROL_H

#include <stdint.h>
#include <event2/event.h>
#include "session/kill.h"
#include "migrate/migrate.h"
#include "core/pool.h"
#include "core/shunt.h"
#include "util/table.h"

/* An error from a command: a MySQL code/state for the admin port and an
 * HTTP status for the API. */
struct ctl_err {
	int http;                 /* 400, 404, 409, 500, ... */
	uint16_t code;            /* MySQL error code */
	char sqlstate[6];
	char msg[256];
};

void ctl_set_err(struct ctl_err *e, int http, uint16_t code, const char *sqlstate,
		 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* A service that runs on the control thread's event base (the admin
 * port, the HTTP API, health probes, the balancer): main.c, the
 * composition root, lists them. start() does nothing when the
 * configuration turns the service off; stop() is safe either way. */
struct ctl_service {
	const char *name;
	int (*start)(struct shunt *sh, struct event_base *base);
	void (*stop)(void);
};
#define CTL_MAX_SERVICES 8

/* Starts the control thread with its services, in order. 0 or -errno (a
 * listener could not be opened; logged). */
int control_start(struct shunt *sh, const struct ctl_service *services, size_t n_services);
/* Stops and joins the control thread (before the workers stop, since it
 * may be waiting on them). Safe if never started. */
void control_stop(struct shunt *sh);
/* Stops the services (in reverse order) and frees them (after the
 * workers stopped, so that no worker posts a KILL or migration result to
 * a freed base). */
void control_free(struct shunt *sh);
/* Asks the control thread to reload the configuration (SIGHUP). */
void control_request_reload(struct shunt *sh);
/* The control thread's base (for kill and migration replies). */
struct event_base *control_base(struct shunt *sh);

/* ---- the commands (control thread) ---- */

/* Every backend of every pool. */
struct table *ctl_backends(struct shunt *sh, struct ctl_err *err);
/* Every session: "tunnels" with all columns. */
struct table *ctl_tunnels(struct shunt *sh, struct ctl_err *err);
/* The same sessions shaped like MySQL's SHOW PROCESSLIST. */
struct table *ctl_processlist(struct shunt *sh, struct ctl_err *err);
/* Counters as name/value rows. */
struct table *ctl_stats(struct shunt *sh, struct ctl_err *err);

/* pool may be NULL when there is exactly one pool. */
int ctl_backend_add(struct shunt *sh, const char *pool, const char *addr, unsigned weight,
		    struct ctl_err *err);
/* pool NULL: every pool that lists addr. */
int ctl_backend_remove(struct shunt *sh, const char *pool, const char *addr, struct ctl_err *err);
/* state < 0: unchanged; weight 0: unchanged. pool NULL: every pool. */
int ctl_backend_set(struct shunt *sh, const char *pool, const char *addr, int state,
		    unsigned weight, struct ctl_err *err);
/* Re-reads the configuration the way start-up did (the same command line
 * and file). A file with errors, or one that changes what needs a
 * restart (listeners, pools, threads, fast path, admin/HTTP addresses),
 * is refused and the running configuration stays; the messages are in
 * err. Otherwise pools follow the file, and users, timeouts and the
 * rest take effect for the next login. */
int ctl_reload(struct shunt *sh, struct ctl_err *err);
/* KILL [QUERY] id as the admin; done is called later on the control
 * thread unless kill_cancel() is called on the returned request first.
 * NULL (err filled) when out of memory. */
struct kill_req *ctl_kill(struct shunt *sh, uint32_t id, int query_only, kill_done_fn done,
			  void *ctx, struct ctl_err *err);
/* MIGRATE id [TO target] as the admin: trigger "manual", and an idle
 * session is taken at once. target "host:port" must be listed (as
 * written) in some pool, else 404 "no backend X in any pool"; NULL lets
 * the session's pool pick. done(ctx, res) is called later on the control
 * thread unless migrate_cancel() is called on the returned request first.
 * NULL (err filled) when refused or out of memory. */
struct mig_req *ctl_migrate(struct shunt *sh, uint32_t id, const char *target, mig_done_fn done,
			    void *ctx, struct ctl_err *err);
/* The error a migration result that is not MIG_OK stands for: 404 with
 * 1094 "Unknown thread id: N" (MIG_NOT_FOUND), 404 with 1105 for a
 * session that ended meanwhile, 409 with 1105 "session N not moved
 * (outcome): why" for the rest. */
void ctl_migrate_err(const struct mig_result *res, struct ctl_err *err);
/* One line about a result: "moved to 127.0.0.1:3307 in 4.2 ms" (plus how
 * long a client command waited, if one did), or the error's message. */
void ctl_migrate_summary(const struct mig_result *res, char *out, size_t n);

/* One session, as much as the balancer needs. */
struct ctl_sess_brief {
	uint32_t id;
	uint64_t backend_serial;  /* struct backend.serial; 0 while it has none */
	int established;          /* logged in, relaying */
	int migrating;            /* a move is in progress (whoever asked) */
	int sticky;               /* known not to be movable */
};
/* Every session of every worker (one worker_call_sync each). Returns the
 * count with a malloc'd array in *out (the caller frees it), or -ENOMEM. */
int ctl_sessions_brief(struct shunt *sh, struct ctl_sess_brief **out);
/* Sessions known to be sticky, and sessions being moved now. */
void ctl_session_counts(struct shunt *sh, uint64_t *sticky, uint64_t *migrating);

#endif
