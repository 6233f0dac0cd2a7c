/* session.h — one client session: from accept to close.
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
 * Ownership: the session owns both bufferevents (and so both fds, closed on
 * free), its timer, the copied login fields and the recovered SHA1(password)
 * (wiped on free). It holds one pool count on `backend` from pool_pick()
 * until it is freed or moves to another backend. */
#ifndef SHUNT_SESSION_H
#define SHUNT_SESSION_H

#include <stdint.h>
#include <linux/types.h>
#include <event2/bufferevent.h>
#include "core/shunt.h"
#include "mysql/auth.h"
#include "mysql/proto.h"
#include "session/relay.h"
#include "mysql/stmt_xlate.h"

enum sess_state {
	SESS_GREETING = 0,     /* greeting sent, waiting for the client's login */
	SESS_AUTH_SWITCH,      /* AuthSwitchRequest sent, waiting for the new token */
	SESS_BACKEND_CONNECT,  /* TCP connect to a backend in progress */
	SESS_BACKEND_GREETING, /* waiting for the backend's greeting */
	SESS_BACKEND_AUTH,     /* login sent to the backend, waiting for OK/ERR/switch */
	SESS_RELAY,            /* established: bytes flow both ways */
	SESS_CLOSING,          /* flushing a final packet to the client */
	SESS__COUNT
};

enum sess_path { SESS_PATH_NONE = 0, SESS_PATH_KERNEL, SESS_PATH_USER };

/* Capabilities that shape the bytes on the wire after login: a backend
 * must agree on all of them with the client (and a migration's new
 * backend with the old one). */
#define WIRE_CAPS (CLIENT_DEPRECATE_EOF | CLIENT_SESSION_TRACK | CLIENT_MULTI_RESULTS | \
		   CLIENT_PS_MULTI_RESULTS | CLIENT_PROTOCOL_41 | CLIENT_PLUGIN_AUTH)

#define SESS_MAX_TRIES 16               /* backends one login tries at most */

struct kill_req;
struct kill_result;
struct migration;
struct stmt_table;

struct session {
	struct shunt *sh;
	struct worker *w;
	struct listener_ctx *lc;
	TAILQ_ENTRY(session) link;       /* in w->sessions */
	uint32_t id;                     /* shunt's connection id, sent in the greeting */
	enum sess_state state;
	char client_addr[64];            /* "ip:port" */
	struct sockaddr_storage client_sa;

	struct bufferevent *cbev;        /* client side */
	struct bufferevent *bbev;        /* backend side, NULL until connecting */
	struct event *timer;             /* the current phase's deadline */

	/* client login */
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

	int64_t started_ms;              /* CLOCK_REALTIME at accept (views) */
	uint64_t phase_start_us;         /* CLOCK_MONOTONIC at connect / greeting
					    (backend latency metrics) */

	/* backend login */
	struct backend *backend;         /* counted in its pool while set */
	uint64_t tried[SESS_MAX_TRIES];  /* serials of the backends tried */
	unsigned tries;
	uint8_t backend_seq;
	uint32_t backend_caps;           /* caps sent to the backend (= the session's caps) */
	uint32_t backend_thread_id;      /* the backend's connection id */
	uint8_t backend_scramble[PROTO_SCRAMBLE_LEN]; /* of its greeting (COM_CHANGE_USER) */

	struct relay relay;              /* established-session state (user-space relay) */

	/* established: relay.c or tunnel.c own the sockets' events */
	int cfd, bfd;                    /* the sockets once taken from the
					    bufferevents (closed in sess_free), else -1 */
	/* kernel mode (tunnel.c): the sockets are in the sockhash */
	int kernel;                      /* carried by the kernel */
	uint64_t ccookie, bcookie;       /* socket cookies (map keys) */
	struct event *cev, *bev_ev;      /* readable: punt or EOF / EOF */
	uint64_t passed_read;            /* passed client bytes user space has read */
	uint32_t held_gen_seen;          /* tunnel.held_gen of the last punt read */
	uint64_t user_written;           /* bytes user space wrote to the backend socket */
	uint64_t bfd_base;               /* backend send-queue total at hand-over */
	uint64_t redirected_base;        /* client tunnel bytes when the backend socket
					    last changed (a migration) */
	uint64_t kernel_bytes_c2s;       /* final tunnel counters, read at close */
	uint64_t kernel_bytes_s2c;
	enum sess_path path;             /* who carries the established session */
	char mode_why[96];               /* why user space relays it ("" in kernel mode) */

	/* a KILL this session sent that shunt is carrying out (kill.c); its
	   reply is owed to the client, and the client is not read meanwhile */
	struct kill_req *kill_pending;
	void (*kill_resume)(struct session *s, const struct kill_result *res);

	/* migration (migrate.c) */
	struct migration *mig;           /* in progress, or NULL */
	uint32_t migrations;             /* moves completed (SHOW TUNNELS) */
	char sticky[64];                 /* why it cannot move ("" = movable as far as
					    known), set when a migration found out */
	struct stmt_table *stmts;        /* prepared statements seen (stmt.c), or NULL */
	/* statement-id translation after a move (stmt_xlate.h): of the client
	   bytes user space forwards (the relay's, or held ones) ... */
	struct stmt_xlate xl;
	uint32_t xl_gen_seen;            /* tunnel.xl_gen the translator was set for */
	/* ... and in the kernel: the ids in stmt_xlate for this session */
	uint32_t *xl_ids;
	size_t xl_n;
	uint64_t xl_synced;              /* stmts->gen when they were written */
};

/* Counts a failed client login (metrics: by reason). */
void sess_login_failed(struct session *s, enum login_fail why);

/* Monotonic microseconds (latency measurements). */
uint64_t sess_now_us(void);
/* CLOCK_REALTIME milliseconds (views). */
int64_t sess_wall_ms(void);
/* Records who carries the established session (why: the reason it is in
 * user space, shown by SHOW TUNNELS) and counts it in the gauges. */
void sess_set_path(struct session *s, enum sess_path path, const char *why);

/* Accepts a client connection: takes ownership of fd. */
void sess_accept(struct listener_ctx *lc, int fd, const struct sockaddr *sa, int salen);

/* Moves s to a new state; logs at debug and refuses (logs an error and
 * closes) a transition the state machine does not allow. Returns 0 or -1. */
int sess_set_state(struct session *s, enum sess_state to);

/* Sends an ERR packet to the client and closes the session once it is
 * flushed. code/sqlstate/msg as in MySQL. */
void sess_fail(struct session *s, uint16_t code, const char *sqlstate, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Frees the session now: closes both sockets, releases the backend count. */
void sess_free(struct session *s);

/* Arms (or re-arms) the phase timer; ms == 0 disarms it. */
void sess_arm_timer(struct session *s, unsigned ms);

/* Writes all of buf to a socket, waiting (bounded) for room when it is
 * full. For the few writes shunt makes itself on an established session
 * (a login OK, a punted command). 0 or -errno. */
int sess_write_all(int fd, const uint8_t *buf, size_t len);
/* Takes the socket out of a bufferevent (writing out whatever it still
 * queued), frees the bufferevent and returns the fd, now owned by the
 * caller (the session: closed in sess_free). */
int sess_steal_fd(struct bufferevent **bevp);
/* Queues one payload on bev as packet(s) numbered from *seq (advanced). */
int sess_send_packet(struct bufferevent *bev, uint8_t *seq, const struct proto_buf *payload);
/* Sends one payload to the client as packet(s) numbered from client_seq. */
int sess_send_client(struct session *s, const struct proto_buf *payload);

/* Reads one complete packet (no continuation; at most max bytes) from an
 * input buffer. Returns 1 with payload pointing into the buffer (valid until
 * the caller drains 4+len bytes), 0 if incomplete, -EMSGSIZE if too big. */
int sess_peek_packet(struct evbuffer *in, size_t max, const uint8_t **payload,
		     size_t *len, uint8_t *seq);

/* Takes one complete packet off an input buffer, as sess_peek_packet but
 * with *payload a malloc'd copy (the caller frees it) and the packet
 * drained. 1, 0 if incomplete, or -errno. */
int sess_take_packet(struct evbuffer *in, size_t max, uint8_t **payload, size_t *len,
		     uint8_t *seq);

/* Builds a HandshakeV10 payload offering mysql_native_password with the
 * 20-byte scramble and autocommit status (client sessions, admin port). */
void sess_build_greeting(struct proto_buf *b, const char *version, uint32_t conn_id,
			 const uint8_t scramble[PROTO_SCRAMBLE_LEN], uint32_t caps, uint8_t charset);

/* "ip:port" or "[ip6]:port" of sa. */
void sess_format_addr(const struct sockaddr *sa, char *out, size_t n);

/* The client's address without its port, as MySQL's error texts show it. */
void sess_client_host(const struct session *s, char *out, size_t n);
/* MySQL's text for a refused login: "Access denied for user 'U'@'HOST'
 * (using password: YES|NO)". */
void sess_access_denied_msg(const struct session *s, const char *user, size_t user_len,
			    int used_password, char *out, size_t n);

/* Session log lines carry the connection id, client and backend. */
#define sess_log(s, lvl, fmt, ...) do { if (log_enabled(lvl)) \
	log_msg((lvl), "conn=%u client=%s backend=%s " fmt, (s)->id, (s)->client_addr, \
		(s)->backend ? (s)->backend->addr.text : "-", ##__VA_ARGS__); } while (0)

/* Enters CLOSING: drops the backend, flushes what is queued to the client
 * (bounded by a timer), then frees the session. */
void sess_close_after_flush(struct session *s);

/* While the backend login runs the client is not read, only watched for close. */
void sess_client_wait(struct session *s, bufferevent_event_cb on_event);

/* tunnel.c: hands an established session to the kernel and sends the
 * client its login OK (ok/oklen: the backend's OK payload). 0 when the
 * kernel carries it; -EPIPE when the session is unusable (free it);
 * other -errno: nothing changed, why says why, relay in user space. */
int tunnel_start(struct session *s, const uint8_t *ok, size_t oklen, uint16_t status,
		 char *why, size_t whylen);
/* tunnel.c: closes a kernel-mode session's sockets and map entries. */
void tunnel_free(struct session *s);
/* tunnel.c: a migration replaced the backend socket by fd: the backend
 * event now watches fd (armed by tunnel_resume). */
int tunnel_backend_changed(struct session *s, int fd);
/* tunnel.c: a migration is done with the session: watch both sockets
 * again and serve what the client sent meanwhile. May free s. */
void tunnel_resume(struct session *s);
const char *tunnel_punt_name(unsigned reason);
struct tunnel_ctl;
/* tunnel.c: makes the kernel's statement-id translations (stmt_xlate)
 * those of the session's statement table, and sets or clears
 * TUN_CTL_XLATE in *ctl, which the caller writes. 0 or -errno. */
int tunnel_xlate_sync(struct session *s, struct tunnel_ctl *ctl);

/* change_user.c: rewrites one client COM_CHANGE_USER (payload, 0x11
 * first) for the backend: verifies the token against shunt's user table
 * with the session's scramble, appends the backend's version (header
 * included, sequence 0) to out and switches the session to the new user.
 * On refusal returns -errno with the ERR payload for the client in err. */
int sess_change_user(struct session *s, const uint8_t *payload, size_t len,
		     struct proto_buf *out, struct proto_buf *err);
/* change_user.c: answers a refused COM_CHANGE_USER on the client socket
 * (s->cfd, outside any bufferevent) with the ERR payload in err, sequence
 * 1. Best effort: the session ends right after either way. */
void sess_change_user_refuse(struct session *s, const struct proto_buf *err);
/* change_user.c: copies client bytes to out, rewriting every complete
 * COM_CHANGE_USER packet in them. 0, or -errno as sess_change_user. */
int sess_split_change_users(struct session *s, const uint8_t *buf, size_t len,
			    struct proto_buf *out, struct proto_buf *err);

/* backend.c: picks a backend not yet tried and starts connecting to it;
 * fails the session with SHUNT_ER_NO_BACKEND when none is left. */
void backend_start(struct session *s);
/* backend.c: appends shunt's own connection attributes (_proxy=shunt and
 * _client_addr), so the backend's performance_schema can tell who is
 * behind the proxy. */
void backend_put_proxy_attrs(const struct session *s, struct proto_buf *out);
/* backend.c: fills a login's user, auth response (the native token for
 * scramble, computed into token, which must outlive l) and plugin. */
void backend_login_credentials(struct proto_login *l, const char *user,
			       const uint8_t stage1[AUTH_SHA1_LEN], int empty_password,
			       const uint8_t *scramble, uint8_t token[AUTH_SHA1_LEN]);
/* backend.c: the answer to a backend's AuthSwitchRequest, appended to out
 * (the native token for its new scramble). 0; -EPROTO when malformed;
 * -EOPNOTSUPP when it asks for another plugin (named in *plugin). */
int backend_auth_switch_answer(const uint8_t *payload, size_t len,
			       const uint8_t stage1[AUTH_SHA1_LEN], int empty_password,
			       struct proto_buf *out, struct proto_str *plugin);
/* backend.c: the phase timer fired in a backend phase. */
void backend_timeout(struct session *s);

#endif
