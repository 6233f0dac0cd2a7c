/* migrate.h — moving a live session to another backend between two
 * commands (docs/migration.md).
 *
 * One function moves one session, whatever asked for it (the admin's
 * MIGRATE, a drain, the rebalancer, a failover):
 *  1. request: the session is told to stop at its next safe point (command
 *     boundary, no response pending, not in a transaction, no open cursor,
 *     no pending long data). In kernel mode the tunnel's TUN_CTL_PUNT_ALL
 *     makes the program hand the next safe command to user space; in user
 *     mode the relay stops reading the client there. An idle session is
 *     taken at once. A session that never gets safe within
 *     migrate_timeout_ms is left alone (outcome MIG_TIMEOUT).
 *  2. state: read from the old backend while it is idle (schema, session
 *     variables that differ from the server's globals, LAST_INSERT_ID);
 *     prepared statements come from what shunt saw at prepare time. State
 *     that cannot be rebuilt makes the session sticky (s->sticky, shown in
 *     SHOW TUNNELS): it stays where it is (MIG_STICKY).
 *  While it runs, the migration borrows the session (sess_borrow): a KILL
 *  or a second migration meanwhile gets MIG_BUSY / waits.
 *  3. new backend: connect, log in with the credentials recovered at the
 *     client's login, replay the state, re-prepare the statements under
 *     the same ids.
 *  4. switch: the tunnel points at the new backend, the held command goes
 *     there, the fast path is re-armed, the old connection is closed.
 *  5. any failure before the switch leaves the session on its old backend,
 *     working (MIG_FAILED).
 *
 * Threads: migrate_start() may be called from any thread; the work runs
 * on the session's worker and the result is delivered on reply_base. */
#ifndef SHUNT_MIGRATE_H
#define SHUNT_MIGRATE_H

#include <stdint.h>
#include <event2/event.h>
#include "core/config.h"
#include "core/labels.h"

struct shunt;
struct session;

struct mig_result {
	enum mig_outcome outcome;
	uint32_t id;
	char from[CFG_ADDR_MAX];     /* "" when unknown */
	char to[CFG_ADDR_MAX];
	uint64_t wait_us;            /* request -> safe point */
	uint64_t held_us;            /* how long a client command waited in user space (0: none) */
	uint64_t total_us;           /* request -> end */
	char msg[256];               /* why, for anything but MIG_OK */
};

typedef void (*mig_done_fn)(void *ctx, const struct mig_result *res);
struct mig_req;

/* Asks the worker that owns session `id` to move it. target: "host:port"
 * of a backend listed in the session's pool (it must be online and not
 * down), or NULL to let the pool pick the least loaded usable backend
 * other than the current one. `proactive`: also take the session while it
 * sits idle (0: only when its client sends its next command). done(ctx,
 * res) runs later on reply_base's thread unless migrate_cancel() was
 * called first; reply_base NULL means nobody waits (done is not called,
 * and the returned pointer must not be used). Returns the request, or
 * NULL when out of memory. */
struct mig_req *migrate_start(struct shunt *sh, struct event_base *reply_base, uint32_t id,
			      const char *target, enum mig_trigger why, int proactive,
			      mig_done_fn done, void *ctx);
/* The requester is gone: done will not be called (requester's thread). */
void migrate_cancel(struct mig_req *r);

/* Whether a migration has the session now (its worker's thread). */
int migrate_in_progress(const struct session *s);

#endif
