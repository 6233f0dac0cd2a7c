/* session.h — one client session: identity, lifecycle, and who may touch it.
 *
 * A session is owned by the worker that accepted it and is only touched
 * from that worker's event loop. Its life (docs/architecture.md):
 *
 *   GREETING -> [AUTH_SWITCH] -> BACKEND_CONNECT -> BACKEND_GREETING ->
 *   BACKEND_AUTH -> RELAY -> (closed)
 *
 * with a retry from BACKEND_CONNECT/BACKEND_GREETING on the next backend of
 * the pool, and CLOSING (flush what is queued to the client, then free)
 * from anywhere. sess_set_state() checks and traces every transition.
 *
 * Each group of fields below has one owner, named in its heading: other
 * files read those fields and change them only through the owner's
 * functions. This file (session.c) is the floor of the session layer: it
 * calls nothing above it; the carrier and the borrower are reached through
 * their ops tables.
 *
 * Ownership: the session owns its bufferevents during the login, then its
 * carrier owns both sockets (closed by carrier->free); its timer, the
 * copied login fields and the recovered SHA1(password) (wiped on free).
 * It holds one pool count on `backend` from pool_pick() until it is freed
 * or moves to another backend. */
#ifndef SHUNT_SESSION_H
#define SHUNT_SESSION_H

#include <stdint.h>
#include <linux/types.h>
#include <event2/bufferevent.h>
#include "core/shunt.h"
#include "mysql/auth.h"
#include "mysql/proto.h"
#include "mysql/stmt_xlate.h"
#include "session/carrier.h"
#include "util/log.h"

enum sess_state {
	SESS_GREETING = 0,     /* greeting sent, waiting for the client's login */
	SESS_AUTH_SWITCH,      /* AuthSwitchRequest sent, waiting for the new token */
	SESS_BACKEND_CONNECT,  /* TCP connect to a backend in progress */
	SESS_BACKEND_GREETING, /* waiting for the backend's greeting */
	SESS_BACKEND_AUTH,     /* login sent to the backend, waiting for OK/ERR/switch */
	SESS_RELAY,            /* established: a carrier moves the bytes */
	SESS_CLOSING,          /* flushing a final packet to the client */
	SESS__COUNT
};

#define SESS_MAX_TRIES 16               /* backends one login tries at most */

struct stmt_table;
struct session;

/* Someone who takes the session for a while (a KILL it sent, a
 * migration). One at a time: see sess_borrow(). */
struct sess_borrow_ops {
	const char *what;            /* "KILL", "migration" (messages) */
	/* The carrier reached a command boundary while asked to stop there
	 * (carrier->stop_at_boundary); held: a client command waits. Returns
	 * 1 when the borrower takes the session now (it pauses the carrier
	 * and resumes it later), 0 to let it go on. NULL: never. */
	int (*at_boundary)(struct session *s, void *ctx, int held);
	/* The session is being freed: let go of it (must not free s). */
	void (*gone)(struct session *s, void *ctx);
	/* Someone with a stronger claim (a KILL the client sent) wants the
	 * slot: give it up now (0, after sess_unborrow) or refuse (-EBUSY).
	 * NULL: always refuse. */
	int (*yield)(struct session *s, void *ctx);
};

struct session {
	/* ---- identity and lifecycle (session.c) ---- */
	struct shunt *sh;
	struct worker *w;
	struct listener_ctx *lc;
	TAILQ_ENTRY(session) link;       /* in w->sessions */
	uint32_t id;                     /* shunt's connection id, sent in the greeting */
	enum sess_state state;
	char client_addr[64];            /* "ip:port" */
	struct sockaddr_storage client_sa;
	struct climit_source src;        /* its address, for client_limits */
	int climit_admitted;             /* counted there (climit_close at free) */
	char climit_user[CFG_NAME_MAX];  /* the user it counts for, "" before login */
	int64_t started_ms;              /* CLOCK_REALTIME at accept (views) */
	struct event *timer;             /* the current phase's deadline */
	void (*on_timeout)(struct session *s);   /* the phase's handler for it */

	/* ---- the client's login (client_login.c; a COM_CHANGE_USER
	   through sess_set_identity) ---- */
	uint8_t scramble[PROTO_SCRAMBLE_LEN];
	uint8_t client_seq;              /* next sequence id toward the client */
	uint32_t client_caps;            /* client's caps ∩ what we offered */
	uint32_t max_packet;
	uint8_t charset;
	char user[CFG_NAME_MAX];
	char *db;                        /* CONNECT_WITH_DB schema or NULL */
	uint8_t *attrs;                  /* client's connection attributes block, or NULL */
	size_t attrs_len;
	uint8_t stage1[AUTH_SHA1_LEN];   /* SHA1(password), recovered at login; wiped on free */
	int empty_password;

	/* ---- the backend login (backend.c; a migration through
	   backend_adopt) ---- */
	struct bufferevent *cbev;        /* client side, until a carrier takes it */
	struct bufferevent *bbev;        /* backend side, NULL until connecting */
	uint64_t phase_start_us;         /* CLOCK_MONOTONIC at connect / greeting */
	struct backend *backend;         /* counted in its pool while set */
	uint64_t tried[SESS_MAX_TRIES];  /* serials of the backends tried */
	unsigned tries;
	uint8_t backend_seq;
	uint32_t backend_caps;           /* caps sent to the backend (= the session's caps) */
	uint32_t backend_thread_id;      /* the backend's connection id */
	uint8_t backend_scramble[PROTO_SCRAMBLE_LEN]; /* of its greeting (COM_CHANGE_USER) */

	/* ---- the carrier (relay.c or tunnel.c, whichever started) ---- */
	const struct carrier_ops *carrier;   /* NULL until established */
	void *carrier_data;              /* the carrier's own state */
	int cfd, bfd;                    /* the sockets once a carrier took them from
					    the bufferevents, else -1 */

	/* ---- the borrow slot (session.c: sess_borrow) ---- */
	const struct sess_borrow_ops *borrower;
	void *borrower_ctx;

	/* ---- statement tracking (stmt.c; the carriers feed it) ---- */
	struct stmt_table *stmts;        /* prepared statements seen, or NULL */
	struct stmt_xlate xl;            /* statement-id translation of the client
					    bytes user space forwards, after a move */

	/* ---- migration record (migrate.c) ---- */
	uint32_t migrations;             /* moves completed (SHOW TUNNELS) */
	char sticky[64];                 /* why it cannot move ("" = movable as far as
					    known), set when a migration found out */
};

/* ---- lifecycle ---- */

/* Allocates a session for an accepted client socket on lc's worker (the
 * fd is wrapped in s->cbev, owned from now on), with its id, address,
 * counts and timer. NULL when out of memory (fd closed). */
struct session *sess_new(struct listener_ctx *lc, int fd, const struct sockaddr *sa, int salen);

/* Moves s to a new state; logs at debug and refuses (logs an error) a
 * transition the state machine does not allow. Returns 0 or -1. */
int sess_set_state(struct session *s, enum sess_state to);

/* Arms (or re-arms) the phase timer with the phase's handler; ms == 0
 * disarms it. */
void sess_arm_timer(struct session *s, unsigned ms, void (*on_timeout)(struct session *s));

/* Sends an ERR packet to the client and closes the session once it is
 * flushed (login phases: the client still has its bufferevent). */
void sess_fail(struct session *s, uint16_t code, const char *sqlstate, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Enters CLOSING: drops the backend, flushes what is queued to the client
 * (bounded by a timer), then frees the session. */
void sess_close_after_flush(struct session *s);

/* Frees the session now: the borrower lets go, the carrier closes both
 * sockets, the backend count is released. NULL is a no-op. */
void sess_free(struct session *s);

/* The live session with connection id (call from its worker's thread:
 * worker_of_id()), or NULL (no such id, or closing). */
struct session *sess_find(struct shunt *sh, uint32_t id);

/* Frees every session of w (worker shutdown). */
void sess_close_all(struct worker *w);

/* ---- the borrow slot ---- */

/* Takes the session for ops/ctx. 0, or -EBUSY when someone else has it
 * (sess_borrower_what() names them). */
int sess_borrow(struct session *s, const struct sess_borrow_ops *ops, void *ctx);
/* As sess_borrow, but first asks a current borrower to yield the slot. */
int sess_borrow_over(struct session *s, const struct sess_borrow_ops *ops, void *ctx);
/* Gives it back (only its borrower, ctx, may). */
void sess_unborrow(struct session *s, void *ctx);
/* What holds the session ("KILL", "migration"), or NULL. */
const char *sess_borrower_what(const struct session *s);
/* The borrower's ctx when ops holds the session, else NULL. */
void *sess_borrowed_by(const struct session *s, const struct sess_borrow_ops *ops);
/* Carriers: a command boundary was reached while asked to stop there.
 * Returns 1 when the borrower took the session (stop serving it), 0. */
int sess_at_boundary(struct session *s, int held);

/* ---- the client ---- */

/* Counts a failed client login (metrics: by reason). */
void sess_login_failed(struct session *s, enum login_fail why);
/* Sends one payload to the client as packet(s) numbered from client_seq
 * (login phases). 0 or -errno. */
int sess_send_client(struct session *s, const struct proto_buf *payload);
/* While the backend login runs the client is not read, only watched for close. */
void sess_client_wait(struct session *s, bufferevent_event_cb on_event);
/* The client's address without its port, as MySQL's error texts show it. */
void sess_client_host(const struct session *s, char *out, size_t n);
/* MySQL's text for a refused login: "Access denied for user 'U'@'HOST'
 * (using password: YES|NO)". */
void sess_access_denied_msg(const struct session *s, const char *user, size_t user_len,
			    int used_password, char *out, size_t n);
/* The session now belongs to user (user_len bytes, < CFG_NAME_MAX) with
 * SHA1(password) stage1 and schema db (db_len 0: none): a
 * COM_CHANGE_USER that shunt verified. 0 or -ENOMEM (nothing changed). */
int sess_set_identity(struct session *s, const uint8_t *user, size_t user_len,
		      const uint8_t stage1[AUTH_SHA1_LEN], int empty_password,
		      const uint8_t *db, size_t db_len);

/* Session log lines carry the connection id, client and backend. */
#define sess_log(s, lvl, fmt, ...) do { if (log_enabled(lvl)) \
	log_msg((lvl), "conn=%u client=%s backend=%s " fmt, (s)->id, (s)->client_addr, \
		(s)->backend ? (s)->backend->addr.text : "-", ##__VA_ARGS__); } while (0)

#endif
