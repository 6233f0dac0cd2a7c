/* client_login.c — a client logging in to shunt: accept, greeting,
 * mysql_native_password against shunt's user table (which recovers
 * SHA1(password) for the backend login), then backend_start(). */
#include <errno.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include "mysql/pktio.h"
#include "util/clock.h"
#include "session/backend.h"
#include "session/client_login.h"
#include "session/session.h"

/* What shunt offers clients. Never COMPRESS (the kernel program must see
 * plain packets) and not SSL yet. The pool's learned backend capabilities
 * are intersected in so that a client never negotiates something the
 * servers behind shunt would not do. */
#define SHUNT_SERVER_CAPS (CLIENT_LONG_PASSWORD | CLIENT_FOUND_ROWS | CLIENT_LONG_FLAG | \
	CLIENT_CONNECT_WITH_DB | CLIENT_NO_SCHEMA | CLIENT_ODBC | CLIENT_LOCAL_FILES | \
	CLIENT_IGNORE_SPACE | CLIENT_PROTOCOL_41 | CLIENT_INTERACTIVE | CLIENT_IGNORE_SIGPIPE | \
	CLIENT_TRANSACTIONS | CLIENT_SECURE_CONNECTION | CLIENT_MULTI_STATEMENTS | \
	CLIENT_MULTI_RESULTS | CLIENT_PS_MULTI_RESULTS | CLIENT_PLUGIN_AUTH | \
	CLIENT_CONNECT_ATTRS | CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA | \
	CLIENT_CAN_HANDLE_EXPIRED_PASSWORDS | CLIENT_SESSION_TRACK | CLIENT_DEPRECATE_EOF)

/* Capabilities a client must share with shunt's greeting to be served. */
#define SHUNT_REQUIRED_CAPS (CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION)

/* Largest login packet accepted (attributes included). */
#define HANDSHAKE_MAX_PACKET (64 * 1024)

/* The client did not finish its login in auth_timeout_ms. */
static void login_timeout(struct session *s)
{
	sess_login_failed(s, LOGIN_FAIL_TIMEOUT);
	sess_log(s, LOG_WARN, "handshake not completed within %u ms, closing",
		 shunt_cfg(s->sh)->auth_timeout_ms);
	sess_free(s);
}

void sess_build_greeting(struct proto_buf *b, const char *version, uint32_t conn_id,
			 const uint8_t scramble[PROTO_SCRAMBLE_LEN], uint32_t caps, uint8_t charset)
{
	struct proto_greeting g;

	memset(&g, 0, sizeof(g));
	g.protocol = 10;
	g.server_version.p = (const uint8_t *)version;
	g.server_version.len = strlen(version);
	g.conn_id = conn_id;
	memcpy(g.scramble, scramble, PROTO_SCRAMBLE_LEN);
	g.scramble_len = PROTO_SCRAMBLE_LEN;
	g.caps = caps;
	g.charset = charset;
	g.status = SERVER_STATUS_AUTOCOMMIT;
	g.auth_plugin.p = (const uint8_t *)AUTH_NATIVE_PLUGIN;
	g.auth_plugin.len = strlen(AUTH_NATIVE_PLUGIN);
	proto_build_greeting(b, &g);
}

static void send_greeting(struct session *s)
{
	struct proto_buf b;
	char version[64];
	uint32_t pool_caps;
	uint8_t charset;

	pool_greeting_info(s->lc->pool, shunt_cfg(s->sh)->server_version, version, sizeof(version),
			   &pool_caps, &charset);
	proto_buf_init(&b);
	/* CLIENT_LONG_PASSWORD stays set: shunt offers no MariaDB extended caps. */
	sess_build_greeting(&b, version, s->id, s->scramble,
			    (SHUNT_SERVER_CAPS & pool_caps) | SHUNT_REQUIRED_CAPS | CLIENT_PLUGIN_AUTH |
			    CLIENT_LONG_PASSWORD, charset);
	s->client_seq = 0;
	sess_send_client(s, &b);
	proto_buf_free(&b);
}

static void fail_access(struct session *s, int used_password)
{
	char msg[256];

	sess_login_failed(s, LOGIN_FAIL_ACCESS_DENIED);
	sess_access_denied_msg(s, s->user, strlen(s->user), used_password, msg, sizeof(msg));
	sess_fail(s, ER_ACCESS_DENIED_ERROR, "28000", "%s", msg);
}

/* Checks a mysql_native_password token against the user table; on success
 * keeps SHA1(password) and starts the backend login. */
static void verify_and_route(struct session *s, const uint8_t *token, size_t token_len)
{
	const struct cfg_user *u = config_find_user(shunt_cfg(s->sh), s->user, strlen(s->user));

	if (!u || auth_check_account(u->empty_password, u->stage2, s->scramble, token, token_len,
				     s->stage1) < 0) {
		fail_access(s, !auth_token_empty(token, token_len));
		return;
	}
	s->empty_password = u->empty_password;
	if (s->climit_admitted) {
		const struct shunt_config *cfg = shunt_cfg(s->sh);
		if (climit_login_ok(cfg, &s->src, s->user) == CLIMIT_USER) {
			STAT_ADD(s->sh, limit_refused[CLIMIT_USER], 1);
			sess_login_failed(s, LOGIN_FAIL_TOO_MANY);
			sess_log(s, LOG_WARN, "login as '%s' refused: the user has %u sessions "
				 "(max_connections)", s->user, u->max_connections);
			sess_fail(s, ER_TOO_MANY_USER_CONNECTIONS, "42000",
				  "User %s already has more than 'max_user_connections' active connections",
				  s->user);
			return;
		}
		snprintf(s->climit_user, sizeof(s->climit_user), "%s", s->user);
	}
	sess_arm_timer(s, 0, NULL);
	STAT_ADD(s->sh, logins_ok, 1);
	sess_log(s, LOG_DEBUG, "client authenticated as '%s'%s%s", s->user,
		 s->db ? " db=" : "", s->db ? s->db : "");
	backend_start(s);
}

/* Handles the HandshakeResponse41. */
static void on_login(struct session *s, const uint8_t *payload, size_t len)
{
	struct proto_login l;

	if (proto_parse_login(payload, len, &l) < 0) {
		sess_login_failed(s, LOGIN_FAIL_PROTOCOL);
		sess_fail(s, ER_HANDSHAKE_ERROR, "08S01", "Bad handshake");
		return;
	}
	if (l.is_ssl_request) {
		sess_login_failed(s, LOGIN_FAIL_UNSUPPORTED);
		sess_fail(s, ER_HANDSHAKE_ERROR, "08S01",
			  "shunt: TLS was requested but is not offered on this listener");
		return;
	}
	if ((l.caps & SHUNT_REQUIRED_CAPS) != SHUNT_REQUIRED_CAPS) {
		sess_login_failed(s, LOGIN_FAIL_UNSUPPORTED);
		sess_fail(s, ER_NOT_SUPPORTED_AUTH_MODE, "08004",
			  "shunt: client does not support protocol 4.1 authentication");
		return;
	}
	if (l.user.len == 0 || l.user.len >= sizeof(s->user)) {
		snprintf(s->user, sizeof(s->user), "%.*s", (int)(l.user.len < 60 ? l.user.len : 60),
			 (const char *)l.user.p);
		fail_access(s, l.auth_response.len > 0);
		return;
	}
	memcpy(s->user, l.user.p, l.user.len);
	s->user[l.user.len] = '\0';
	s->client_caps = l.caps & (SHUNT_SERVER_CAPS | CLIENT_LONG_PASSWORD);
	s->max_packet = l.max_packet;
	s->charset = l.charset;
	if ((l.caps & CLIENT_CONNECT_WITH_DB) && l.database.len) {
		s->db = strndup((const char *)l.database.p, l.database.len);
		if (!s->db)
			goto nomem;
	}
	if (l.has_attrs && l.attrs.len) {
		s->attrs = malloc(l.attrs.len);
		if (!s->attrs)
			goto nomem;
		memcpy(s->attrs, l.attrs.p, l.attrs.len);
		s->attrs_len = l.attrs.len;
	}

	int native = !(l.caps & CLIENT_PLUGIN_AUTH) || l.auth_plugin.len == 0 ||
		     (l.auth_plugin.len == strlen(AUTH_NATIVE_PLUGIN) &&
		      memcmp(l.auth_plugin.p, AUTH_NATIVE_PLUGIN, l.auth_plugin.len) == 0);
	if (!native) {
		/* e.g. caching_sha2_password from a MySQL 8 client: ask for the
		 * native token over the same scramble. */
		struct proto_buf b;
		sess_log(s, LOG_DEBUG, "client offered %.*s, switching to %s",
			 (int)l.auth_plugin.len, (const char *)l.auth_plugin.p, AUTH_NATIVE_PLUGIN);
		if (sess_set_state(s, SESS_AUTH_SWITCH) < 0) {
			sess_free(s);
			return;
		}
		proto_buf_init(&b);
		proto_build_auth_switch(&b, AUTH_NATIVE_PLUGIN, s->scramble, PROTO_SCRAMBLE_LEN);
		sess_send_client(s, &b);
		proto_buf_free(&b);
		return;
	}
	verify_and_route(s, l.auth_response.p, l.auth_response.len);
	return;
nomem:
	sess_fail(s, ER_HANDSHAKE_ERROR, "08S01", "shunt: out of memory");
}

/* Read callback while the client is logging in. */
static void client_login_read_cb(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;
	uint8_t *payload;
	size_t len;
	uint8_t seq;

	/* The packet is taken off the buffer before acting on it, so that
	 * whatever the handlers do to the bufferevent, it stays consistent. */
	int rc = pktio_take(bufferevent_get_input(bev), HANDSHAKE_MAX_PACKET, &payload,
				  &len, &seq);
	if (rc == 0)
		return;
	if (rc < 0) {
		sess_login_failed(s, LOGIN_FAIL_PROTOCOL);
		sess_fail(s, ER_HANDSHAKE_ERROR, "08S01", "Bad handshake: packet too large");
		return;
	}
	if (seq != s->client_seq) {
		free(payload);
		sess_login_failed(s, LOGIN_FAIL_PROTOCOL);
		sess_fail(s, ER_NET_PACKETS_OUT_OF_ORDER, "08S01", "Got packets out of order");
		return;
	}
	s->client_seq = seq + 1;
	if (s->state == SESS_GREETING)
		on_login(s, payload, len);
	else if (s->state == SESS_AUTH_SWITCH)
		verify_and_route(s, payload, len);
	else
		sess_log(s, LOG_ERROR, "internal: login data in state %s", "?");
	free(payload);
}

static void client_login_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct session *s = arg;
	(void)bev;
	sess_log(s, LOG_INFO, "client went away during login (%s)",
		 (what & BEV_EVENT_EOF) ? "EOF" : "error");
	sess_login_failed(s, LOGIN_FAIL_CLIENT_GONE);
	sess_free(s);
}

/* Per-source limits at accept (client_limits.h): 0 when admitted, else
 * -1 after answering the client (1040, or 1129 for a blocked address)
 * and ending the session. */
static int admit_source(struct session *s)
{
	const struct shunt_config *cfg = shunt_cfg(s->sh);
	enum climit_verdict v;

	climit_source_of((const struct sockaddr *)&s->client_sa, &s->src);
	v = climit_admit(cfg, &s->src, clock_mono_us() / 1000);
	if (v == CLIMIT_OK) {
		s->climit_admitted = 1;
		return 0;
	}
	STAT_ADD(s->sh, limit_refused[v], 1);
	sess_login_failed(s, LOGIN_FAIL_TOO_MANY);
	s->client_seq = 0;
	uint32_t quiet = 0;
	if (climit_may_log(&s->src, clock_mono_us() / 1000, &quiet))
		sess_log(s, LOG_WARN, "connection refused: %s limit%s%.0u%s", climit_name(v),
			 quiet ? " (" : "", quiet, quiet ? " more from this address not logged)" : "");
	if (v == CLIMIT_BLOCKED) {
		char host[INET6_ADDRSTRLEN] = "?";
		inet_ntop(s->src.family, s->src.addr, host, sizeof(host));
		sess_fail(s, ER_HOST_IS_BLOCKED, "HY000",
			  "Host '%s' is blocked because of many failed logins; it may try again in "
			  "%u s", host, cfg->login_block_ms / 1000);
	}
	else
		sess_fail(s, ER_CON_COUNT_ERROR, "08004", "Too many connections (shunt: %s)",
			  v == CLIMIT_UNAUTH_TOTAL ? "too many logins in progress" :
			  v == CLIMIT_UNAUTH_SOURCE ? "too many logins in progress from this address" :
			  v == CLIMIT_SOURCE ? "too many connections from this address" :
			  v == CLIMIT_RATE ? "this address connects too often" :
			  "too many client addresses");
	return -1;
}

void sess_accept(struct listener_ctx *lc, int fd, const struct sockaddr *sa, int salen)
{
	struct shunt *sh = lc->w->sh;
	struct session *s = sess_new(lc, fd, sa, salen);

	if (!s)
		return;
	if (auth_random_scramble(s->scramble, sizeof(s->scramble)) < 0) {
		sess_log(s, LOG_ERROR, "cannot set up session: no random scramble");
		sess_free(s);
		return;
	}
	sess_log(s, LOG_DEBUG, "accepted on listener %s", lc->cl->name);

	if (shunt_sessions(sh, 0) > shunt_cfg(sh)->max_connections) {
		s->client_seq = 0;
		sess_login_failed(s, LOGIN_FAIL_TOO_MANY);
		sess_fail(s, ER_CON_COUNT_ERROR, "08004", "Too many connections");
		return;
	}
	if (admit_source(s) < 0)
		return;
	bufferevent_setcb(s->cbev, client_login_read_cb, NULL, client_login_event_cb, s);
	bufferevent_enable(s->cbev, EV_READ);
	send_greeting(s);
	sess_arm_timer(s, shunt_cfg(sh)->auth_timeout_ms, login_timeout);
}
