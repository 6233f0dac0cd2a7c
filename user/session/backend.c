/* backend.c — shunt as a client: connect to a backend, read its greeting,
 * log in as the session's user with the recovered SHA1(password), and hand
 * the established session to the relay. Connect failures and timeouts
 * (connect, greeting, auth) are retried on the next backend of the pool;
 * an authentication error from the backend is relayed to the client. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include "core/fastpath.h"
#include "mysql/login.h"
#include "mysql/pktio.h"
#include "session/backend.h"
#include "session/relay.h"
#include "session/session.h"
#include "session/tunnel.h"
#include "util/clock.h"
#include "util/log.h"

/* Capabilities whose disagreement between client and backend would change
 * the bytes on the wire; shunt cannot translate them. */

#define BACKEND_MAX_HANDSHAKE_PACKET (64 * 1024)

static void backend_retry(struct session *s, const char *why);
static void backend_timeout(struct session *s);

static void client_gone_cb(struct bufferevent *bev, short what, void *arg)
{
	struct session *s = arg;
	(void)bev;
	sess_log(s, LOG_INFO, "client went away during backend login (%s)",
		 (what & BEV_EVENT_EOF) ? "EOF" : "error");
	sess_free(s);
}

static int send_backend(struct session *s, const struct proto_buf *payload)
{
	return pktio_send(s->bbev, &s->backend_seq, payload);
}

/* The client's attributes plus shunt's own. */
static void build_attrs(struct session *s, struct proto_buf *out)
{
	proto_buf_init(out);
	if (s->attrs)
		proto_put_bytes(out, s->attrs, s->attrs_len);
	login_put_proxy_attrs(s->client_addr, out);
}

/* Handles the backend's greeting: an ERR or a malformed greeting moves on
 * to the next backend; otherwise remembers the backend's scramble and
 * capabilities and sends the login (same user, token from the recovered
 * SHA1(password), caps = client's ∩ backend's, the client's schema and
 * attributes plus shunt's). May free the session. */
static void on_greeting(struct session *s, const uint8_t *payload, size_t len)
{
	struct proto_greeting g;
	struct proto_login l;
	struct proto_buf attrs, b;
	uint8_t token[AUTH_SHA1_LEN];

	if (len > 0 && payload[0] == MYSQL_ERR_HDR) {
		struct proto_err e;
		if (proto_parse_err(payload, len, &e) == 0)
			sess_log(s, LOG_WARN, "backend refused the connection: %u %.*s", e.code,
				 (int)e.message.len, (const char *)e.message.p);
		backend_retry(s, "backend sent an error instead of a greeting");
		return;
	}
	if (proto_parse_greeting(payload, len, &g) < 0 || g.protocol != 10 ||
	    g.scramble_len < PROTO_SCRAMBLE_LEN) {
		backend_retry(s, "malformed greeting");
		return;
	}
	pool_learn(s->backend->pool, (const char *)g.server_version.p, g.server_version.len,
		   g.caps, g.charset);
	s->backend_thread_id = g.conn_id;
	memcpy(s->backend_scramble, g.scramble, PROTO_SCRAMBLE_LEN);

	uint32_t caps = s->client_caps & g.caps & ~(CLIENT_COMPRESS | CLIENT_SSL);
	if ((s->client_caps ^ caps) & WIRE_CAPS) {
		sess_fail(s, SHUNT_ER_NO_BACKEND, SHUNT_SQLSTATE_NO_BACKEND,
			  "shunt: backend %s lacks capabilities the client negotiated (0x%08x)",
			  s->backend->addr.text, (s->client_caps ^ caps) & WIRE_CAPS);
		return;
	}
	if (s->db)
		caps |= CLIENT_CONNECT_WITH_DB;
	else
		caps &= ~CLIENT_CONNECT_WITH_DB;
	caps |= g.caps & CLIENT_CONNECT_ATTRS;
	s->backend_caps = caps;

	memset(&l, 0, sizeof(l));
	l.caps = caps;
	l.max_packet = s->max_packet ? s->max_packet : 16777216;
	l.charset = s->charset;
	login_credentials(&l, s->user, s->stage1, s->empty_password, g.scramble, token);
	if (s->db) {
		l.database.p = (const uint8_t *)s->db;
		l.database.len = strlen(s->db);
	}
	build_attrs(s, &attrs);
	if (caps & CLIENT_CONNECT_ATTRS) {
		l.has_attrs = 1;
		l.attrs.p = attrs.data;
		l.attrs.len = attrs.len;
	}
	proto_buf_init(&b);
	proto_build_login(&b, &l);
	auth_wipe(token, sizeof(token));
	int rc = send_backend(s, &b);
	proto_buf_free(&b);
	proto_buf_free(&attrs);
	if (rc < 0 || sess_set_state(s, SESS_BACKEND_AUTH) < 0) {
		sess_fail(s, SHUNT_ER_NO_BACKEND, SHUNT_SQLSTATE_NO_BACKEND, "shunt: cannot send login to backend");
		return;
	}
}

/* The metrics label of a tunnel_start() failure. */
static enum fallback_reason fallback_reason_of(int rc)
{
	switch (rc) {
	case -EBUSY:
		return FALLBACK_QUEUED;
	case -ENOSPC: case -E2BIG: case -ENOMEM:
		return FALLBACK_MAP_FULL;
	case -EOPNOTSUPP: case -ENOTCONN: case -EINVAL: case -ENOENT:
		return FALLBACK_SOCKET;
	default:
		return FALLBACK_OTHER;
	}
}


/* Forwards a backend's final login packet (OK or ERR) to the client with
 * the client's sequence numbering. */
static int forward_to_client(struct session *s, const uint8_t *payload, size_t len)
{
	struct proto_buf b;
	proto_buf_init(&b);
	proto_put_bytes(&b, payload, len);
	int rc = sess_send_client(s, &b);
	proto_buf_free(&b);
	return rc;
}

/* Handles the backend's answer to the login: OK establishes the session
 * (kernel fast path when it takes it, else the relay) and the client gets
 * the OK; ERR is relayed to the client as it is and the session ends; an
 * AuthSwitchRequest to mysql_native_password is answered with a token for
 * its new scramble; anything else ends the session with a clear error.
 * May free the session. */
static void on_auth_reply(struct session *s, const uint8_t *payload, size_t len)
{
	char fallback_why[300];

	if (len == 0) {
		sess_fail(s, SHUNT_ER_NO_BACKEND, SHUNT_SQLSTATE_NO_BACKEND, "shunt: empty login reply from backend");
		return;
	}
	switch (payload[0]) {
	case MYSQL_OK_HDR: {
		struct proto_ok ok;
		if (proto_parse_ok(payload, len, s->backend_caps, &ok) < 0) {
			sess_fail(s, SHUNT_ER_NO_BACKEND, SHUNT_SQLSTATE_NO_BACKEND, "shunt: malformed login OK from backend");
			return;
		}
		sess_arm_timer(s, 0, NULL);
		if (sess_set_state(s, SESS_RELAY) < 0) {
			sess_free(s);
			return;
		}
		pool_lat_record(&s->backend->login_lat, clock_mono_us() - s->phase_start_us);
		pool_note_success(s->backend);
		STAT_ADD(s->sh, established, 1);
		const char *user_why = fp_user_space_reason();
		if (fp_active()) {
			char why[256];
			int rc = tunnel_start(s, payload, len, ok.status, why, sizeof(why));
			if (rc == 0) {
				STAT_ADD(s->sh, sessions_kernel, 1);
				sess_log(s, LOG_INFO, "session established: user=%s db=%s "
					 "backend_thread=%u mode=kernel", s->user, s->db ? s->db : "-",
					 s->backend_thread_id);
				return;
			}
			if (rc == -EPIPE) {
				sess_log(s, LOG_WARN, "hand-over to the kernel failed: %s", why);
				sess_free(s);
				return;
			}
			STAT_ADD(s->sh, fallback_by[fallback_reason_of(rc)], 1);
			sess_log(s, LOG_INFO, "kernel fast path refused this session (%s); "
				 "relaying in user space", why);
			snprintf(fallback_why, sizeof(fallback_why), "kernel refused: %s", why);
			user_why = fallback_why;
		}
		int rrc = relay_start(s, payload, len, ok.status, user_why);
		if (rrc < 0) {
			if (rrc != -EPROTO)
				sess_log(s, LOG_WARN, "cannot start relaying: %s", strerror(-rrc));
			sess_free(s);
			return;
		}
		sess_log(s, LOG_INFO, "session established: user=%s db=%s backend_thread=%u mode=user",
			 s->user, s->db ? s->db : "-", s->backend_thread_id);
		return;
	}
	case MYSQL_ERR_HDR: {
		struct proto_err e;
		if (proto_parse_err(payload, len, &e) == 0)
			sess_log(s, LOG_WARN, "backend refused login: %u (%s) %.*s", e.code,
				 e.sqlstate, (int)e.message.len, (const char *)e.message.p);
		sess_login_failed(s, LOGIN_FAIL_BACKEND_DENIED);
		/* Relayed as-is: the client sees the server's own error. */
		forward_to_client(s, payload, len);
		sess_close_after_flush(s);
		return;
	}
	case MYSQL_AUTH_SWITCH_HDR: {
		struct proto_buf b;
		struct proto_str plugin;

		proto_buf_init(&b);
		int rc = login_auth_switch_answer(payload, len, s->stage1, s->empty_password, &b, &plugin);
		if (rc == -EPROTO)
			sess_fail(s, SHUNT_ER_NO_BACKEND, SHUNT_SQLSTATE_NO_BACKEND, "shunt: malformed auth switch from backend");
		else if (rc < 0)
			sess_fail(s, ER_NOT_SUPPORTED_AUTH_MODE, "08004",
				  "shunt: backend asked for auth plugin '%.*s'; only %s is supported",
				  (int)plugin.len, (const char *)plugin.p, AUTH_NATIVE_PLUGIN);
		else if (send_backend(s, &b) < 0)
			sess_fail(s, SHUNT_ER_NO_BACKEND, SHUNT_SQLSTATE_NO_BACKEND, "shunt: cannot answer backend auth switch");
		proto_buf_free(&b);
		return;
	}
	default:
		sess_fail(s, ER_NOT_SUPPORTED_AUTH_MODE, "08004",
			  "shunt: unexpected packet 0x%02x during backend login", payload[0]);
		return;
	}
}

static void backend_read_cb(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;
	uint8_t *payload;
	size_t len;
	uint8_t seq;

	if (s->state != SESS_BACKEND_GREETING && s->state != SESS_BACKEND_AUTH)
		return;
	int rc = pktio_take(bufferevent_get_input(bev), BACKEND_MAX_HANDSHAKE_PACKET,
				  &payload, &len, &seq);
	if (rc == 0)
		return;
	if (rc < 0) {
		backend_retry(s, "oversized handshake packet");
		return;
	}
	s->backend_seq = seq + 1;
	/* Either handler may free the session or hand it to the relay or the
	 * kernel: s is not touched after it. A second packet already in the
	 * buffer would be a protocol error; it stays for whoever comes next. */
	if (s->state == SESS_BACKEND_GREETING)
		on_greeting(s, payload, len);
	else
		on_auth_reply(s, payload, len);
	free(payload);
}

/* Connect completion and errors on the backend socket during the login:
 * connected -> wait for the greeting; an error or EOF before the login was
 * sent -> next backend; after it -> the session ends with an error. */
static void backend_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct session *s = arg;
	(void)bev;

	if (what & BEV_EVENT_CONNECTED) {
		int one = 1;
		uint64_t now = clock_mono_us();
		pool_lat_record(&s->backend->connect_lat, now - s->phase_start_us);
		s->phase_start_us = now;
		setsockopt(bufferevent_getfd(s->bbev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (sess_set_state(s, SESS_BACKEND_GREETING) < 0) {
			sess_free(s);
			return;
		}
		sess_arm_timer(s, shunt_cfg(s->sh)->backend_login_timeout_ms, backend_timeout);
		return;
	}
	if (s->state == SESS_BACKEND_AUTH) {
		sess_fail(s, SHUNT_ER_NO_BACKEND, SHUNT_SQLSTATE_NO_BACKEND,
			  "shunt: backend %s closed the connection during login",
			  s->backend->addr.text);
		return;
	}
	char why[128];
	snprintf(why, sizeof(why), "%s: %s",
		 s->state == SESS_BACKEND_CONNECT ? "connect failed" : "closed before greeting",
		 (what & BEV_EVENT_EOF) ? "EOF" : evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	backend_retry(s, why);
}

void backend_start(struct session *s)
{
	struct pool *p = s->lc->pool;
	struct backend *b = NULL;

	if (s->tries < SESS_MAX_TRIES)
		b = pool_pick(p, s->tried, s->tries);
	if (!b) {
		sess_login_failed(s, LOGIN_FAIL_NO_BACKEND);
		sess_fail(s, SHUNT_ER_NO_BACKEND, SHUNT_SQLSTATE_NO_BACKEND,
			  "shunt: no backend available in pool '%s'", p->name);
		return;
	}
	s->backend = b;
	s->tried[s->tries++] = b->serial;
	s->phase_start_us = clock_mono_us();
	if (sess_set_state(s, SESS_BACKEND_CONNECT) < 0) {
		sess_free(s);
		return;
	}
	sess_client_wait(s, client_gone_cb);
	s->bbev = bufferevent_socket_new(s->w->base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (!s->bbev) {
		sess_fail(s, SHUNT_ER_NO_BACKEND, SHUNT_SQLSTATE_NO_BACKEND, "shunt: out of memory");
		return;
	}
	s->backend_seq = 0;
	bufferevent_setcb(s->bbev, backend_read_cb, NULL, backend_event_cb, s);
	bufferevent_enable(s->bbev, EV_READ);
	sess_arm_timer(s, shunt_cfg(s->sh)->connect_timeout_ms, backend_timeout);
	sess_log(s, LOG_DEBUG, "connecting (try %u)", s->tries);
	errno = 0;
	if (bufferevent_socket_connect(s->bbev, (struct sockaddr *)&b->addr.sa,
				       (int)b->addr.salen) < 0) {
		/* Immediate failure: the event callback is not invoked. Out of
		 * descriptors or memory here is shunt's own trouble, not the
		 * backend's: the client is told, and the backend not blamed. */
		int err = errno;
		if (err == EMFILE || err == ENFILE || err == ENOMEM || err == ENOBUFS) {
			sess_log(s, LOG_WARN, "cannot open a backend connection: %s", strerror(err));
			pool_release(s->backend);
			s->backend = NULL;
			sess_login_failed(s, LOGIN_FAIL_LOCAL_RESOURCES);
			sess_fail(s, ER_CON_COUNT_ERROR, "08004",
				  "shunt: out of local resources (%s); try again later", strerror(err));
			return;
		}
		backend_retry(s, "connect failed immediately");
	}
}

/* Drops the current backend and tries the next one. */
static void backend_retry(struct session *s, const char *why)
{
	sess_log(s, LOG_WARN, "backend unusable (%s), trying another", why);
	STAT_ADD(s->sh, backend_failures, 1);
	pool_note_failure(s->backend, why);
	pool_release(s->backend);
	s->backend = NULL;
	if (s->bbev) {
		bufferevent_free(s->bbev);
		s->bbev = NULL;
	}
	sess_arm_timer(s, 0, NULL);
	backend_start(s);
}

/* The phase timer fired in a backend phase. */
static void backend_timeout(struct session *s)
{
	switch (s->state) {
	case SESS_BACKEND_CONNECT:
		backend_retry(s, "connect timeout");
		return;
	case SESS_BACKEND_GREETING:
	case SESS_BACKEND_AUTH:
		backend_retry(s, "login timeout");
		return;
	default:
		return;
	}
}

void backend_adopt(struct session *s, struct backend *to, uint32_t thread_id,
		   const uint8_t scramble[PROTO_SCRAMBLE_LEN])
{
	struct backend *old = s->backend;

	s->backend = to;
	s->backend_thread_id = thread_id;
	memcpy(s->backend_scramble, scramble, PROTO_SCRAMBLE_LEN);
	pool_note_arrival(to);
	pool_release(old);
}
