/* session.c — a client session's life: accept, greeting, authentication,
 * hand-off to the backend login (backend.c) and the relay (relay.c), close. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <unistd.h>
#include <time.h>
#include <sys/socket.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include "session/kill.h"
#include "util/log.h"
#include "session/session.h"
#include "mysql/stmt.h"
#include "migrate/migrate.h"

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

/* How long a synchronous write of a login packet may wait for room. */
#define SESS_WRITE_TIMEOUT_MS 10000

/* Largest login packet accepted (attributes included). */
#define HANDSHAKE_MAX_PACKET (64 * 1024)

static const char *const state_names[SESS__COUNT] = {
	[SESS_GREETING] = "greeting",
	[SESS_AUTH_SWITCH] = "auth-switch",
	[SESS_BACKEND_CONNECT] = "backend-connect",
	[SESS_BACKEND_GREETING] = "backend-greeting",
	[SESS_BACKEND_AUTH] = "backend-auth",
	[SESS_RELAY] = "relay",
	[SESS_CLOSING] = "closing",
};

/* allowed[from] is the set of states reachable from `from`. */
#define BIT(s) (1u << (s))
static const unsigned allowed[SESS__COUNT] = {
	[SESS_GREETING] = BIT(SESS_AUTH_SWITCH) | BIT(SESS_BACKEND_CONNECT) | BIT(SESS_CLOSING),
	[SESS_AUTH_SWITCH] = BIT(SESS_BACKEND_CONNECT) | BIT(SESS_CLOSING),
	[SESS_BACKEND_CONNECT] = BIT(SESS_BACKEND_CONNECT) | BIT(SESS_BACKEND_GREETING) | BIT(SESS_CLOSING),
	[SESS_BACKEND_GREETING] = BIT(SESS_BACKEND_CONNECT) | BIT(SESS_BACKEND_AUTH) | BIT(SESS_CLOSING),
	[SESS_BACKEND_AUTH] = BIT(SESS_BACKEND_CONNECT) | BIT(SESS_RELAY) | BIT(SESS_CLOSING),
	[SESS_RELAY] = BIT(SESS_CLOSING),
	[SESS_CLOSING] = 0,
};

int sess_set_state(struct session *s, enum sess_state to)
{
	if (!(allowed[s->state] & BIT(to))) {
		sess_log(s, LOG_ERROR, "internal: bad state change %s -> %s",
			 state_names[s->state], state_names[to]);
		return -1;
	}
	sess_log(s, LOG_DEBUG, "state %s -> %s", state_names[s->state], state_names[to]);
	s->state = to;
	return 0;
}

static void timer_cb(evutil_socket_t fd, short what, void *arg);

void sess_arm_timer(struct session *s, unsigned ms)
{
	if (!ms) {
		evtimer_del(s->timer);
		return;
	}
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };
	evtimer_add(s->timer, &tv);
}

const char *const login_fail_names[LOGIN_FAIL__COUNT] = {
	[LOGIN_FAIL_ACCESS_DENIED] = "access_denied",
	[LOGIN_FAIL_PROTOCOL] = "protocol",
	[LOGIN_FAIL_UNSUPPORTED] = "unsupported",
	[LOGIN_FAIL_TIMEOUT] = "timeout",
	[LOGIN_FAIL_CLIENT_GONE] = "client_gone",
	[LOGIN_FAIL_BACKEND_DENIED] = "backend_denied",
	[LOGIN_FAIL_NO_BACKEND] = "no_backend",
	[LOGIN_FAIL_TOO_MANY] = "too_many_connections",
};

void sess_login_failed(struct session *s, enum login_fail why)
{
	STAT_ADD(s->sh, login_failed_by[why], 1);
}

uint64_t sess_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int64_t sess_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sess_set_path(struct session *s, enum sess_path path, const char *why)
{
	s->path = path;
	snprintf(s->mode_why, sizeof(s->mode_why), "%s", why ? why : "");
	STAT_ADD(s->sh, kernel_now, path == SESS_PATH_KERNEL);
	STAT_ADD(s->sh, user_now, path == SESS_PATH_USER);
}

void sess_free(struct session *s)
{
	if (!s)
		return;
	migrate_session_gone(s);         /* before the sockets it may borrow close */
	tunnel_free(s);
	relay_free(s);
	if (s->cfd >= 0)
		close(s->cfd);
	if (s->bfd >= 0)
		close(s->bfd);
	sess_log(s, LOG_DEBUG, "closed in state %s (relay c2s=%llu s2c=%llu, kernel c2s=%llu s2c=%llu, "
		 "punted %llu bytes)", state_names[s->state],
		 (unsigned long long)s->relay.bytes_c2s, (unsigned long long)s->relay.bytes_s2c,
		 (unsigned long long)s->kernel_bytes_c2s, (unsigned long long)s->kernel_bytes_s2c,
		 (unsigned long long)s->passed_read);
	if (s->timer)
		event_free(s->timer);
	if (s->cbev)
		bufferevent_free(s->cbev);
	if (s->bbev)
		bufferevent_free(s->bbev);
	pool_release(s->backend);
	kill_session_gone(s);
	TAILQ_REMOVE(&s->w->sessions, s, link);
	atomic_fetch_sub_explicit(&s->lc->stats->sessions_now, 1, memory_order_relaxed);
	if (s->path == SESS_PATH_KERNEL)
		STAT_SUB(s->sh, kernel_now, 1);
	else if (s->path == SESS_PATH_USER)
		STAT_SUB(s->sh, user_now, 1);
	auth_wipe(s->stage1, sizeof(s->stage1));
	stmt_table_free(s->stmts);
	free(s->db);
	free(s->attrs);
	free(s);
}

int sess_write_all(int fd, const uint8_t *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd p = { .fd = fd, .events = POLLOUT };
			int rc = poll(&p, 1, SESS_WRITE_TIMEOUT_MS);
			if (rc == 0)
				return -ETIMEDOUT;
			if (rc < 0 && errno != EINTR)
				return -errno;
			continue;
		}
		return n < 0 ? -errno : -EPIPE;
	}
	return 0;
}

int sess_steal_fd(struct bufferevent **bevp)
{
	struct bufferevent *bev = *bevp;
	struct evbuffer *out = bufferevent_get_output(bev);
	int fd = bufferevent_getfd(bev);

	/* Whatever libevent still holds for the socket goes out first. */
	size_t left = evbuffer_get_length(out);
	if (left) {
		const uint8_t *p = evbuffer_pullup(out, -1);
		if (p)
			sess_write_all(fd, p, left);
	}
	bufferevent_disable(bev, EV_READ | EV_WRITE);
	bufferevent_setfd(bev, -1);
	bufferevent_free(bev);
	*bevp = NULL;
	return fd;
}

int sess_send_packet(struct bufferevent *bev, uint8_t *seq, const struct proto_buf *payload)
{
	struct proto_buf pkt;

	if (payload->err)
		return payload->err;
	proto_buf_init(&pkt);
	proto_put_packet(&pkt, seq, payload->data, payload->len);
	int rc = pkt.err ? pkt.err : bufferevent_write(bev, pkt.data, pkt.len);
	proto_buf_free(&pkt);
	return rc ? -ENOMEM : 0;
}

int sess_send_client(struct session *s, const struct proto_buf *payload)
{
	return sess_send_packet(s->cbev, &s->client_seq, payload);
}

int sess_peek_packet(struct evbuffer *in, size_t max, const uint8_t **payload,
		     size_t *len, uint8_t *seq)
{
	uint8_t hdr[4];
	uint32_t plen;

	if (evbuffer_copyout(in, hdr, 4) < 4)
		return 0;
	if (proto_peek_header(hdr, 4, &plen, seq) < 0)
		return 0;
	if (plen > max || plen == MYSQL_MAX_PAYLOAD)
		return -EMSGSIZE;
	if (evbuffer_get_length(in) < 4 + (size_t)plen)
		return 0;
	const uint8_t *p = evbuffer_pullup(in, 4 + (ssize_t)plen);
	if (!p)
		return -ENOMEM;
	*payload = p + 4;
	*len = plen;
	return 1;
}

int sess_take_packet(struct evbuffer *in, size_t max, uint8_t **payload, size_t *len,
		     uint8_t *seq)
{
	const uint8_t *p;
	int rc = sess_peek_packet(in, max, &p, len, seq);

	if (rc <= 0)
		return rc;
	*payload = malloc(*len ? *len : 1);
	if (!*payload)
		return -ENOMEM;
	memcpy(*payload, p, *len);
	evbuffer_drain(in, MYSQL_HDR_LEN + *len);
	return 1;
}

void sess_client_host(const struct session *s, char *out, size_t n)
{
	snprintf(out, n, "%s", s->client_addr);
	char *colon = strrchr(out, ':');
	if (colon)
		*colon = '\0';
}

/* Closes the session once the client's output queue is flushed. */
static void closing_write_cb(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;
	(void)bev;
	sess_free(s);
}

static void closing_event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	(void)what;
	sess_free(arg);
}

/* Enters CLOSING: stop reading anything, drop the backend, flush the
 * client's queue (bounded by a 5 s timer), then free. */
void sess_close_after_flush(struct session *s)
{
	if (sess_set_state(s, SESS_CLOSING) < 0) {
		sess_free(s);
		return;
	}
	if (s->bbev) {
		bufferevent_free(s->bbev);
		s->bbev = NULL;
	}
	bufferevent_disable(s->cbev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(s->cbev)) == 0) {
		sess_free(s);
		return;
	}
	bufferevent_setwatermark(s->cbev, EV_WRITE, 0, 0);
	bufferevent_setcb(s->cbev, NULL, closing_write_cb, closing_event_cb, s);
	bufferevent_enable(s->cbev, EV_WRITE);
	sess_arm_timer(s, 5000);
}

void sess_fail(struct session *s, uint16_t code, const char *sqlstate, const char *fmt, ...)
{
	char msg[512];
	struct proto_buf b;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sess_log(s, LOG_WARN, "error %u (%s): %s", code, sqlstate, msg);
	proto_buf_init(&b);
	proto_build_err(&b, code, sqlstate, msg);
	sess_send_client(s, &b);
	proto_buf_free(&b);
	sess_close_after_flush(s);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;
	(void)fd;
	(void)what;

	switch (s->state) {
	case SESS_GREETING:
	case SESS_AUTH_SWITCH:
		sess_login_failed(s, LOGIN_FAIL_TIMEOUT);
		sess_log(s, LOG_WARN, "handshake not completed within %u ms, closing",
			 shunt_cfg(s->sh)->auth_timeout_ms);
		sess_free(s);
		return;
	case SESS_CLOSING:
		sess_log(s, LOG_DEBUG, "client did not take the final packet in time");
		sess_free(s);
		return;
	default:
		/* Backend phases own their deadlines. */
		backend_timeout(s);
		return;
	}
}

/* ---- the client's login ---- */

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

void sess_access_denied_msg(const struct session *s, const char *user, size_t user_len,
			    int used_password, char *out, size_t n)
{
	char host[64];

	sess_client_host(s, host, sizeof(host));
	snprintf(out, n, "Access denied for user '%.*s'@'%s' (using password: %s)",
		 (int)(user_len < 64 ? user_len : 64), user, host, used_password ? "YES" : "NO");
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
	sess_arm_timer(s, 0);
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
	int rc = sess_take_packet(bufferevent_get_input(bev), HANDSHAKE_MAX_PACKET, &payload,
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
		sess_log(s, LOG_ERROR, "internal: login data in state %s", state_names[s->state]);
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

/* Called by backend.c while the backend login runs: the client must not
 * send anything, so its input is not read, but its close is noticed. */
void sess_client_wait(struct session *s, bufferevent_event_cb on_event)
{
	bufferevent_setcb(s->cbev, NULL, NULL, on_event, s);
	bufferevent_disable(s->cbev, EV_READ);
}

void sess_format_addr(const struct sockaddr *sa, char *out, size_t n)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
		port = ntohs(in->sin_port);
		snprintf(out, n, "%s:%u", ip, port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
		port = ntohs(in6->sin6_port);
		snprintf(out, n, "[%s]:%u", ip, port);
	} else {
		snprintf(out, n, "unix");
	}
}

void sess_accept(struct listener_ctx *lc, int fd, const struct sockaddr *sa, int salen)
{
	struct shunt *sh = lc->w->sh;
	struct session *s;
	int one = 1;

	s = calloc(1, sizeof(*s));
	if (!s) {
		close(fd);
		return;
	}
	s->sh = sh;
	s->w = lc->w;
	s->lc = lc;
	s->id = lc->w->next_id;
	lc->w->next_id = lc->w->next_id > UINT32_MAX - sh->n_workers ? lc->w->idx + 1
		: lc->w->next_id + sh->n_workers;
	s->started_ms = sess_wall_ms();
	s->state = SESS_GREETING;
	s->cfd = s->bfd = -1;
	TAILQ_INSERT_TAIL(&lc->w->sessions, s, link);
	sess_format_addr(sa, s->client_addr, sizeof(s->client_addr));
	if ((size_t)salen <= sizeof(s->client_sa))
		memcpy(&s->client_sa, sa, (size_t)salen);
	atomic_fetch_add_explicit(&lc->stats->sessions_total, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&lc->stats->sessions_now, 1, memory_order_relaxed);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

	s->cbev = bufferevent_socket_new(lc->w->base, fd, BEV_OPT_CLOSE_ON_FREE);
	s->timer = evtimer_new(lc->w->base, timer_cb, s);
	if (!s->cbev || !s->timer || auth_random_scramble(s->scramble, sizeof(s->scramble)) < 0) {
		if (!s->cbev)
			close(fd);
		sess_log(s, LOG_ERROR, "cannot set up session");
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
	bufferevent_setcb(s->cbev, client_login_read_cb, NULL, client_login_event_cb, s);
	bufferevent_enable(s->cbev, EV_READ);
	send_greeting(s);
	sess_arm_timer(s, shunt_cfg(sh)->auth_timeout_ms);
}
