/* carrier.h — what carries an established session, behind one interface.
 *
 * Once a session is logged in to its backend, one carrier moves its bytes:
 * the user-space relay (relay.c) or the kernel's sockmap tunnel
 * (tunnel.c). The carrier owns both sockets' events and its own state
 * (s->carrier_data); everything above it (migration, KILL, the admin and
 * HTTP views) reaches it only through these operations and never asks
 * which carrier it has. All of them run on the session's worker, except
 * carrier_view.fill_late, which the control thread calls.
 *
 * A borrower (session.h: sess_borrow) that wants the session at a safe
 * point calls stop_at_boundary(s, 1); the carrier then calls
 * sess_at_boundary() when it reaches one, and a borrower that takes it
 * pauses the carrier there, may talk to the backend socket itself, may
 * switch the backend, and resumes it. */
#ifndef SHUNT_CARRIER_H
#define SHUNT_CARRIER_H

#include <stdint.h>
#include "mysql/tracker_host.h"

struct session;
struct backend;

/* What the admin port and HTTP API show of a carrier (SHOW TUNNELS). */
struct carrier_view {
	const char *mode;            /* "kernel" or "user" (static) */
	char why[96];                /* why user space carries it ("" otherwise) */
	int in_tx;                   /* SERVER_STATUS_IN_TRANS */
	int idle;                    /* no command in progress */
	uint64_t commands;           /* commands started */
	uint64_t bytes_c2s, bytes_s2c;
	uint64_t punts;              /* commands handed to user space (kernel) */
	uint64_t last_latency_us;    /* 0 = none yet */
	/* Filled on the worker; what is costly to read there (the kernel's
	   map entries) fill_late() adds on the control thread, from key. */
	uint64_t key[2];
	void (*fill_late)(struct carrier_view *v);
};

struct carrier_ops {
	const char *name;            /* "relay", "kernel" (logs) */

	/* The conversation as the carrier last saw it. 0 or -errno. */
	int (*conv)(struct session *s, struct mt_conv *out);

	/* Whether the session is at a safe point now: a command boundary,
	 * nothing half-sent either way, and a movable conversation
	 * (mt_movable). *held: a client command is waiting (it is not
	 * forwarded until the carrier resumes). */
	int (*safe_point)(struct session *s, int *held);

	/* Why this carrier cannot switch backends at all here (static
	 * text), or NULL when it can. */
	const char *(*cannot_switch)(struct session *s);

	/* on: have the carrier stop at the next command boundary and call
	 * sess_at_boundary() there; off: stop asking. 0 or -errno. */
	int (*stop_at_boundary)(struct session *s, int on);

	/* Stops serving both sockets; from now on bytes the backend sends
	 * reach user space (s->bfd) instead of the client. conv gets the
	 * conversation as of this point. 0, or -errno with nothing changed. */
	int (*pause)(struct session *s, struct mt_conv *conv);

	/* Paused: replaces the backend socket by fd (logged in, idle, at a
	 * command boundary; `to` is its backend). The statement table
	 * already names the new backend's ids. On success s->bfd is fd and
	 * *old_fd the previous socket, now the caller's. -EPIPE: the
	 * session cannot go on (the caller closes it; fd was closed); other
	 * -errno: nothing changed (fd was closed). */
	int (*switch_backend)(struct session *s, int fd, const struct backend *to, int *old_fd);

	/* The statement table changed (ids translated, types to learn):
	 * the carrier brings what it derived from it up to date. */
	void (*stmts_changed)(struct session *s);

	/* Serves the session again, starting with whatever waited. May free s. */
	void (*resume)(struct session *s);

	/* Fills v (worker thread). */
	void (*view)(struct session *s, struct carrier_view *v);

	/* Releases the carrier's events, buffers and kernel entries, and
	 * closes both sockets (sess_free). */
	void (*free)(struct session *s);
};

#endif
