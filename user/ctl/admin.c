/* admin.c — the SQL admin port: a MySQL-protocol server on the control
 * thread that speaks just enough for the mariadb/mysql clients and
 * connectors: a greeting, mysql_native_password login (a client that
 * starts with another plugin is switched), COM_QUERY with the statements
 * of admin_sql.c, COM_PING, COM_INIT_DB and COM_QUIT. Results are real
 * result sets with typed column definitions, in the classic EOF form or
 * the CLIENT_DEPRECATE_EOF form, whichever the client negotiated.
 *
 * Every connection is logged with its admin connection id ("admin=N"). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/queue.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include "ctl/admin.h"
#include "session/client_login.h"
#include "mysql/pktio.h"
#include "util/addr.h"
#include "ctl/admin_sql.h"
#include "mysql/auth.h"
#include "ctl/control.h"
#include "util/log.h"
#include "util/listen_guard.h"
#include "util/clock.h"
#include "mysql_defs.h"
#include "mysql/proto.h"
#include "session/session.h"

#define ADMIN_MAX_PACKET (1 << 20)
#define ADMIN_CAPS (CLIENT_LONG_PASSWORD | CLIENT_LONG_FLAG | CLIENT_CONNECT_WITH_DB | \
		    CLIENT_PROTOCOL_41 | CLIENT_INTERACTIVE | CLIENT_TRANSACTIONS | \
		    CLIENT_SECURE_CONNECTION | CLIENT_MULTI_RESULTS | CLIENT_PLUGIN_AUTH | \
		    CLIENT_CONNECT_ATTRS | CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA | \
		    CLIENT_DEPRECATE_EOF)
/* Before login: the whole login must be done within this (an absolute
 * deadline, not reset by each byte), its packets may be this large, and
 * this many connections may be logging in at once (ADMIN_MAX_CONNS in
 * all). A failed login's answer comes after a delay that doubles with
 * each failure in a row (from any source), up to ADMIN_BACKOFF_MAX_MS;
 * the streak ends after ADMIN_BACKOFF_RESET_S without a failure. */
#define ADMIN_AUTH_TIMEOUT_S 10
#define ADMIN_PREAUTH_MAX_PACKET 4096
#define ADMIN_MAX_PREAUTH 8
#define ADMIN_MAX_CONNS 32
#define ADMIN_BACKOFF_MAX_MS 5000
#define ADMIN_BACKOFF_RESET_S 60

enum admin_state {
	ADMIN_LOGIN, ADMIN_AUTH_SWITCH,  /* logging in */
	ADMIN_REFUSED,                   /* the login failed: its answer waits (back-off) */
	ADMIN_READY, ADMIN_BUSY
};

/* Not logged in (yet): counted in adm.n_preauth. */
#define ADMIN_PREAUTH(st) ((st) == ADMIN_LOGIN || (st) == ADMIN_AUTH_SWITCH || (st) == ADMIN_REFUSED)

struct admin_conn {
	LIST_ENTRY(admin_conn) link;
	unsigned id;
	char peer[64];
	struct bufferevent *bev;
	enum admin_state state;
	uint8_t scramble[PROTO_SCRAMBLE_LEN];
	uint32_t caps;
	uint8_t seq;
	struct kill_req *kill;          /* a KILL waiting for its result */
	struct mig_req *mig;            /* a MIGRATE waiting for its result */
	int closing;                    /* close once the output is flushed */
	struct event *deadline;         /* the login deadline, then a refusal's delay */
	struct proto_buf refusal;       /* a refused login's ERR, sent after the delay */
};

static struct {
	struct shunt *sh;
	struct evconnlistener *evl;
	LIST_HEAD(, admin_conn) conns;
	unsigned next_id;
	unsigned n_conns, n_preauth;    /* open, and not logged in yet */
	struct listen_guard guard;
	unsigned fail_streak;           /* failed logins in a row */
	uint64_t last_fail_us;
	uint64_t refused_log_us;        /* last "connection refused" line */
} adm;

#define admin_log(c, lvl, fmt, ...) do { if (log_enabled(lvl)) \
	log_msg((lvl), "admin=%u client=%s " fmt, (c)->id, (c)->peer, ##__VA_ARGS__); } while (0)

static void conn_free(struct admin_conn *c)
{
	LIST_REMOVE(c, link);
	adm.n_conns--;
	if (ADMIN_PREAUTH(c->state))
		adm.n_preauth--;
	if (c->deadline)
		event_free(c->deadline);
	proto_buf_free(&c->refusal);
	kill_cancel(c->kill);
	if (c->mig)
		migrate_cancel(c->mig);
	if (c->bev)
		bufferevent_free(c->bev);
	free(c);
}

static void send_payload(struct admin_conn *c, const struct proto_buf *p)
{
	struct proto_buf pkt;

	proto_buf_init(&pkt);
	proto_put_packet(&pkt, &c->seq, p->data, p->len);
	if (!pkt.err)
		bufferevent_write(c->bev, pkt.data, pkt.len);
	proto_buf_free(&pkt);
}

static void send_ok(struct admin_conn *c, uint64_t affected, const char *info)
{
	struct proto_ok ok = { .affected_rows = affected, .status = SERVER_STATUS_AUTOCOMMIT };
	struct proto_buf b;

	if (info) {
		ok.info.p = (const uint8_t *)info;
		ok.info.len = strlen(info);
	}
	proto_buf_init(&b);
	/* Servers send the info as a length-encoded string whatever the
	 * client's capabilities, and libmariadb reads it so; proto_build_ok
	 * does that only with CLIENT_SESSION_TRACK (no state is added: the
	 * status has no SERVER_SESSION_STATE_CHANGED). */
	proto_build_ok(&b, info ? c->caps | CLIENT_SESSION_TRACK : c->caps, &ok);
	send_payload(c, &b);
	proto_buf_free(&b);
}

static void send_err(struct admin_conn *c, uint16_t code, const char *sqlstate, const char *msg)
{
	struct proto_buf b;

	proto_buf_init(&b);
	proto_build_err(&b, code, sqlstate, msg);
	send_payload(c, &b);
	proto_buf_free(&b);
}

static void send_eof_or_ok(struct admin_conn *c)
{
	struct proto_buf b;

	proto_buf_init(&b);
	if (c->caps & CLIENT_DEPRECATE_EOF) {
		struct proto_ok ok = { .header = MYSQL_EOF_HDR, .status = SERVER_STATUS_AUTOCOMMIT };
		proto_build_ok(&b, c->caps, &ok);
	} else {
		proto_build_eof(&b, 0, SERVER_STATUS_AUTOCOMMIT);
	}
	send_payload(c, &b);
	proto_buf_free(&b);
}

/* Sends a table as a text-protocol result set. */
static void send_table(struct admin_conn *c, const struct table *t)
{
	struct proto_buf b;
	char num[64];

	proto_buf_init(&b);
	proto_put_lenenc(&b, t->ncols);
	send_payload(c, &b);
	for (size_t i = 0; i < t->ncols; i++) {
		struct proto_coldef cd;
		const char *name = t->cols[i].name;
		int is_str = t->cols[i].type == COL_STR;

		memset(&cd, 0, sizeof(cd));
		cd.catalog.p = (const uint8_t *)"def";
		cd.catalog.len = 3;
		cd.name.p = cd.org_name.p = (const uint8_t *)name;
		cd.name.len = cd.org_name.len = strlen(name);
		cd.charset = is_str ? MYSQL_CHARSET_UTF8MB4_GENERAL_CI : 63;   /* 63: binary */
		switch (t->cols[i].type) {
		case COL_STR:
			cd.type = MYSQL_TYPE_VAR_STRING;
			cd.length = 1024;
			break;
		case COL_BOOL:
			cd.type = MYSQL_TYPE_TINY;
			cd.length = 1;
			cd.flags = MYSQL_NUM_FLAG;
			break;
		default:
			cd.type = MYSQL_TYPE_LONGLONG;
			cd.length = 20;
			cd.flags = MYSQL_NUM_FLAG;
			break;
		}
		proto_buf_reset(&b);
		proto_build_coldef(&b, &cd);
		send_payload(c, &b);
	}
	if (!(c->caps & CLIENT_DEPRECATE_EOF)) {
		proto_buf_reset(&b);
		proto_build_eof(&b, 0, SERVER_STATUS_AUTOCOMMIT);
		send_payload(c, &b);
	}
	for (size_t r = 0; r < t->nrows; r++) {
		proto_buf_reset(&b);
		for (size_t i = 0; i < t->ncols; i++) {
			const char *v = table_cell_text(t, r, i, num, sizeof(num));
			if (v)
				proto_put_lenenc_str(&b, v, strlen(v));
			else
				proto_put_u8(&b, 0xfb);
		}
		send_payload(c, &b);
	}
	proto_buf_free(&b);
	send_eof_or_ok(c);
}

static void send_result(struct admin_conn *c, struct table *t, const struct ctl_err *err)
{
	if (!t) {
		send_err(c, err->code, err->sqlstate, err->msg);
		return;
	}
	send_table(c, t);
	table_free(t);
}

static const struct table_col help_cols[] = { { "statement", COL_STR }, { "description", COL_STR } };
static const struct table_col vc_cols[] = { { "@@version_comment", COL_STR } };

static void admin_read_cb(struct bufferevent *bev, void *arg);

/* Reads on after an asynchronous statement was answered. */
static void resume_reading(struct admin_conn *c)
{
	c->state = ADMIN_READY;
	bufferevent_enable(c->bev, EV_READ);
	/* Statements pipelined behind it are already buffered: no new read
	 * event will come for them. */
	if (evbuffer_get_length(bufferevent_get_input(c->bev)))
		admin_read_cb(c->bev, c);
}

static void kill_done(void *ctx, const struct kill_result *res)
{
	struct admin_conn *c = ctx;

	c->kill = NULL;
	if (res->code) {
		admin_log(c, LOG_INFO, "KILL: %u %s", res->code, res->msg);
		send_err(c, res->code, res->sqlstate, res->msg);
	} else {
		send_ok(c, 0, NULL);
	}
	resume_reading(c);
}

/* A MIGRATE's result: OK with "moved to X in N ms" as its info, or the
 * error (1094 for an unknown session, 1105 otherwise). */
static void migrate_done(void *ctx, const struct mig_result *res)
{
	struct admin_conn *c = ctx;
	char line[sizeof(res->msg) + 2 * CFG_ADDR_MAX];

	c->mig = NULL;
	ctl_migrate_summary(res, line, sizeof(line));
	admin_log(c, LOG_INFO, "MIGRATE %u: %s", res->id, line);
	if (res->outcome == MIG_OK) {
		send_ok(c, 1, line);
	} else {
		struct ctl_err err;
		ctl_migrate_err(res, &err);
		send_err(c, err.code, err.sqlstate, err.msg);
	}
	resume_reading(c);
}

/* Runs one statement and answers it. */
static void exec_query(struct admin_conn *c, const char *q, size_t len)
{
	struct admin_stmt st;
	struct ctl_err err = { 0 };
	char msg[512];
	struct shunt *sh = adm.sh;
	int rc;

	if (admin_parse(q, len, &st, msg, sizeof(msg)) < 0) {
		admin_log(c, LOG_INFO, "refused statement: %s", msg);
		send_err(c, ER_SYNTAX_ERROR, "42000", msg);
		return;
	}
	admin_log(c, LOG_DEBUG, "statement: %.*s", (int)(len < 200 ? len : 200), q);
	switch (st.verb) {
	case ADM_SHOW_BACKENDS:
		send_result(c, ctl_backends(sh, &err), &err);
		return;
	case ADM_SHOW_TUNNELS:
		send_result(c, ctl_tunnels(sh, &err), &err);
		return;
	case ADM_SHOW_PROCESSLIST:
		send_result(c, ctl_processlist(sh, &err), &err);
		return;
	case ADM_SHOW_STATS:
		send_result(c, ctl_stats(sh, &err), &err);
		return;
	case ADM_SHOW_HELP: {
		struct table *t = table_new(help_cols, 2);
		for (size_t i = 0; t && admin_help[i][0]; i++) {
			long r = table_add_row(t);
			table_set_str(t, r, 0, admin_help[i][0]);
			table_set_str(t, r, 1, admin_help[i][1]);
		}
		ctl_set_err(&err, 500, ER_OUT_OF_RESOURCES, "HY000", "out of memory");
		send_result(c, t, &err);
		return;
	}
	case ADM_VERSION_COMMENT: {
		struct table *t = table_new(vc_cols, 1);
		if (t)
			table_set_str(t, table_add_row(t), 0, "shunt admin " SHUNT_VERSION);
		ctl_set_err(&err, 500, ER_OUT_OF_RESOURCES, "HY000", "out of memory");
		send_result(c, t, &err);
		return;
	}
	case ADM_ADD_BACKEND:
		rc = ctl_backend_add(sh, st.pool, st.addr, st.weight, &err);
		break;
	case ADM_REMOVE_BACKEND:
		rc = ctl_backend_remove(sh, st.pool[0] ? st.pool : NULL, st.addr, &err);
		break;
	case ADM_SET_BACKEND:
		rc = ctl_backend_set(sh, st.pool[0] ? st.pool : NULL, st.addr, st.state, st.weight, &err);
		break;
	case ADM_RELOAD:
		rc = ctl_reload(sh, &err);
		break;
	case ADM_KILL:
		c->kill = ctl_kill(sh, st.id, st.query_only, kill_done, c, &err);
		if (!c->kill) {
			send_err(c, err.code, err.sqlstate, err.msg);
			return;
		}
		admin_log(c, LOG_INFO, "KILL %s%u", st.query_only ? "QUERY " : "", st.id);
		c->state = ADMIN_BUSY;
		bufferevent_disable(c->bev, EV_READ);
		return;
	case ADM_MIGRATE:
		c->mig = ctl_migrate(sh, st.id, st.addr[0] ? st.addr : NULL, migrate_done, c, &err);
		if (!c->mig) {
			admin_log(c, LOG_INFO, "MIGRATE %u: %s", st.id, err.msg);
			send_err(c, err.code, err.sqlstate, err.msg);
			return;
		}
		admin_log(c, LOG_INFO, "MIGRATE %u%s%s", st.id, st.addr[0] ? " TO " : "", st.addr);
		c->state = ADMIN_BUSY;
		bufferevent_disable(c->bev, EV_READ);
		return;
	default:
		rc = -EINVAL;
		ctl_set_err(&err, 400, ER_SYNTAX_ERROR, "42000", "unsupported statement");
	}
	if (rc < 0) {
		admin_log(c, LOG_INFO, "%.*s: %s", (int)(len < 100 ? len : 100), q, err.msg);
		send_err(c, err.code, err.sqlstate, err.msg);
	} else {
		admin_log(c, LOG_INFO, "%.*s: done", (int)(len < 200 ? len : 200), q);
		send_ok(c, 1, NULL);
	}
}

/* The refusal's delay is over: send it and close. */
static void send_refusal(struct admin_conn *c)
{
	if (c->refusal.len)
		send_payload(c, &c->refusal);
	proto_buf_reset(&c->refusal);
	c->closing = 1;
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
		admin_log(c, LOG_DEBUG, "closed");
		conn_free(c);
	}
}

/* Refuses the login: the ERR goes out after the back-off delay. */
static void access_denied(struct admin_conn *c, const char *user, int used_password)
{
	char msg[256], host[64];
	const char *colon = strrchr(c->peer, ':');
	size_t hl = colon ? (size_t)(colon - c->peer) : strlen(c->peer);
	uint64_t now = clock_mono_us();

	snprintf(host, sizeof(host), "%.*s", (int)hl, c->peer);
	snprintf(msg, sizeof(msg), "Access denied for user '%.64s'@'%s' (using password: %s)",
		 user, host, used_password ? "YES" : "NO");
	if (adm.last_fail_us && now - adm.last_fail_us > (uint64_t)ADMIN_BACKOFF_RESET_S * 1000000)
		adm.fail_streak = 0;
	adm.last_fail_us = now;
	unsigned ms = adm.fail_streak >= 16 ? ADMIN_BACKOFF_MAX_MS : 100u << adm.fail_streak;
	if (adm.fail_streak < 16)
		adm.fail_streak++;
	if (ms > ADMIN_BACKOFF_MAX_MS)
		ms = ADMIN_BACKOFF_MAX_MS;
	admin_log(c, LOG_WARN, "login refused: %s (answered in %u ms: %u failure%s in a row)", msg,
		  ms, adm.fail_streak, adm.fail_streak == 1 ? "" : "s");
	proto_buf_reset(&c->refusal);
	proto_build_err(&c->refusal, ER_ACCESS_DENIED_ERROR, "28000", msg);
	/* Read nothing more; the connection keeps its pre-login slot until
	 * the answer, so parallel guessing is bounded by ADMIN_MAX_PREAUTH. */
	bufferevent_disable(c->bev, EV_READ);
	struct timeval tv = { ms / 1000, (suseconds_t)(ms % 1000) * 1000 };
	c->state = ADMIN_REFUSED;
	if (evtimer_del(c->deadline) < 0 || evtimer_add(c->deadline, &tv) < 0) {
		send_payload(c, &c->refusal);   /* no delay then; admin_read_cb closes */
		c->closing = 1;
	}
}

/* Checks a token (for c's scramble) against the admin account. */
static int token_ok(const struct admin_conn *c, const uint8_t *tok, size_t len)
{
	const struct cfg_user *u = &shunt_cfg(adm.sh)->admin_user;
	uint8_t stage1[AUTH_SHA1_LEN];
	int ok = auth_check_account(u->empty_password, u->stage2, c->scramble, tok, len, stage1) == 0;

	auth_wipe(stage1, sizeof(stage1));
	return ok;
}

static void login_done(struct admin_conn *c, int ok, const char *user, int used_password)
{
	if (!ok) {
		access_denied(c, user, used_password);
		return;
	}
	c->state = ADMIN_READY;
	adm.n_preauth--;
	adm.fail_streak = 0;
	evtimer_del(c->deadline);
	admin_log(c, LOG_INFO, "admin logged in as %s", user);
	send_ok(c, 0, NULL);
}

/* The HandshakeResponse41. */
static void on_login(struct admin_conn *c, const uint8_t *p, size_t len)
{
	const struct shunt_config *cfg = shunt_cfg(adm.sh);
	struct proto_login l;
	char user[CFG_NAME_MAX];

	if (proto_parse_login(p, len, &l) < 0 || l.is_ssl_request ||
	    !(l.caps & CLIENT_PROTOCOL_41)) {
		admin_log(c, LOG_WARN, "bad handshake%s", l.is_ssl_request ? " (TLS is not offered)" : "");
		send_err(c, ER_HANDSHAKE_ERROR, "08S01", l.is_ssl_request ?
			 "shunt admin: TLS is not offered on this port" : "Bad handshake");
		c->closing = 1;
		return;
	}
	c->caps = l.caps & ADMIN_CAPS;
	snprintf(user, sizeof(user), "%.*s", (int)(l.user.len < sizeof(user) - 1 ? l.user.len : sizeof(user) - 1),
		 (const char *)l.user.p);
	if (l.user.len >= sizeof(user) || strcmp(user, cfg->admin_user.name) != 0) {
		access_denied(c, user, l.auth_response.len > 0);
		return;
	}
	if ((l.caps & CLIENT_PLUGIN_AUTH) && l.auth_plugin.len &&
	    (l.auth_plugin.len != strlen(AUTH_NATIVE_PLUGIN) ||
	     memcmp(l.auth_plugin.p, AUTH_NATIVE_PLUGIN, l.auth_plugin.len) != 0)) {
		struct proto_buf b;
		proto_buf_init(&b);
		proto_build_auth_switch(&b, AUTH_NATIVE_PLUGIN, c->scramble, PROTO_SCRAMBLE_LEN);
		send_payload(c, &b);
		proto_buf_free(&b);
		c->state = ADMIN_AUTH_SWITCH;
		return;
	}
	login_done(c, token_ok(c, l.auth_response.p, l.auth_response.len), user,
		   l.auth_response.len > 0);
}

static void on_command(struct admin_conn *c, const uint8_t *p, size_t len)
{
	if (len == 0) {
		send_err(c, ER_UNKNOWN_COM_ERROR, "08S01", "Unknown command");
		return;
	}
	switch (p[0]) {
	case COM_QUIT:
		admin_log(c, LOG_DEBUG, "quit");
		c->closing = 1;
		return;
	case COM_PING:
	case COM_INIT_DB:
		send_ok(c, 0, NULL);
		return;
	case COM_QUERY:
		exec_query(c, (const char *)p + 1, len - 1);
		return;
	default:
		admin_log(c, LOG_INFO, "unsupported command 0x%02x", p[0]);
		send_err(c, ER_UNKNOWN_COM_ERROR, "08S01", "Unknown command");
	}
}

static void admin_write_cb(struct bufferevent *bev, void *arg)
{
	struct admin_conn *c = arg;
	(void)bev;
	if (c->closing) {
		admin_log(c, LOG_DEBUG, "closed");
		conn_free(c);
	}
}

static void admin_read_cb(struct bufferevent *bev, void *arg)
{
	struct admin_conn *c = arg;
	uint8_t *payload;
	size_t len;
	uint8_t seq;
	int rc;

	while (!c->closing && c->state != ADMIN_BUSY && c->state != ADMIN_REFUSED &&
	       (rc = pktio_take(bufferevent_get_input(bev),
				ADMIN_PREAUTH(c->state) ? ADMIN_PREAUTH_MAX_PACKET : ADMIN_MAX_PACKET,
				&payload, &len, &seq)) != 0) {
		if (rc < 0) {
			admin_log(c, LOG_WARN, "packet too large or malformed; closing");
			send_err(c, ER_NET_PACKET_TOO_LARGE, "08S01", ADMIN_PREAUTH(c->state) ?
				 "Got a login packet bigger than 4 KiB" : "Got a packet bigger than 1 MiB");
			c->closing = 1;
			break;
		}
		c->seq = seq + 1;
		switch (c->state) {
		case ADMIN_LOGIN:
			on_login(c, payload, len);
			break;
		case ADMIN_AUTH_SWITCH:
			login_done(c, token_ok(c, payload, len), shunt_cfg(adm.sh)->admin_user.name,
				   len > 0);
			break;
		default:
			if (seq != 0) {
				admin_log(c, LOG_WARN, "packets out of order; closing");
				send_err(c, ER_NET_PACKETS_OUT_OF_ORDER, "08S01", "Got packets out of order");
				c->closing = 1;
				break;
			}
			on_command(c, payload, len);
		}
		free(payload);
	}
	if (c->closing) {
		bufferevent_disable(bev, EV_READ);
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
			admin_write_cb(bev, c);
	}
}

static void admin_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct admin_conn *c = arg;
	(void)bev;

	admin_log(c, LOG_DEBUG, "client %s", (what & BEV_EVENT_EOF) ? "closed" : "failed");
	conn_free(c);
}

/* The login deadline passed, or a refusal's delay is over. */
static void admin_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct admin_conn *c = arg;
	(void)fd;
	(void)what;

	if (c->state == ADMIN_REFUSED) {
		send_refusal(c);
		return;
	}
	admin_log(c, LOG_INFO, "login not done in %d s; closing", ADMIN_AUTH_TIMEOUT_S);
	conn_free(c);
}

static void admin_listen_error_cb(struct evconnlistener *evl, void *arg)
{
	(void)evl;
	(void)arg;
	listen_guard_on_error(&adm.guard, EVUTIL_SOCKET_ERROR());
}

static void admin_accept_cb(struct evconnlistener *evl, evutil_socket_t fd, struct sockaddr *sa,
			    int salen, void *arg)
{
	struct admin_conn *c = calloc(1, sizeof(*c));
	struct event_base *base = arg;
	struct proto_buf b;
	int one = 1;
	(void)evl;
	(void)salen;

	if (!c || adm.n_conns >= ADMIN_MAX_CONNS || adm.n_preauth >= ADMIN_MAX_PREAUTH) {
		char peer[64];
		uint64_t now = clock_mono_us();
		addr_format(sa, peer, sizeof(peer));
		if (c && (!adm.refused_log_us || now - adm.refused_log_us > 10 * 1000000ull)) {
			pr_warn("admin port: connection from %s refused: %u open, %u logging in "
				"(at most %d and %d)", peer, adm.n_conns, adm.n_preauth, ADMIN_MAX_CONNS,
				ADMIN_MAX_PREAUTH);
			adm.refused_log_us = now;
		}
		free(c);
		evutil_closesocket(fd);
		return;
	}
	c->id = ++adm.next_id;
	adm.n_conns++;
	adm.n_preauth++;
	proto_buf_init(&c->refusal);
	addr_format(sa, c->peer, sizeof(c->peer));
	LIST_INSERT_HEAD(&adm.conns, c, link);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	c->deadline = evtimer_new(base, admin_deadline_cb, c);
	struct timeval tv = { ADMIN_AUTH_TIMEOUT_S, 0 };
	if (!c->bev || !c->deadline || evtimer_add(c->deadline, &tv) < 0 ||
	    auth_random_scramble(c->scramble, sizeof(c->scramble)) < 0) {
		if (!c->bev)
			evutil_closesocket(fd);
		conn_free(c);
		return;
	}
	admin_log(c, LOG_DEBUG, "connected");
	bufferevent_setcb(c->bev, admin_read_cb, admin_write_cb, admin_event_cb, c);
	bufferevent_enable(c->bev, EV_READ);

	proto_buf_init(&b);
	sess_build_greeting(&b, "5.5.5-10.11.0-shunt-admin-" SHUNT_VERSION, c->id, c->scramble,
			    ADMIN_CAPS, MYSQL_CHARSET_UTF8MB4_GENERAL_CI);
	c->seq = 0;
	send_payload(c, &b);
	proto_buf_free(&b);
}

int admin_start(struct shunt *sh, struct event_base *base)
{
	const struct shunt_config *cfg = shunt_cfg(sh);
	int one = 1;

	adm.sh = sh;
	LIST_INIT(&adm.conns);
	if (!cfg->admin_on)
		return 0;
	if (!cfg->admin_password_set) {
		pr_info("admin port off: no admin_password in the configuration");
		return 0;
	}
	int fd = socket(cfg->admin.sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* No SO_REUSEPORT: a second shunt must not share the admin port. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (const struct sockaddr *)&cfg->admin.sa, cfg->admin.salen) < 0 ||
	    listen(fd, 64) < 0) {
		int err = -errno;
		pr_err("admin port: cannot listen on %s: %s", cfg->admin.text, strerror(-err));
		close(fd);
		return err;
	}
	adm.evl = evconnlistener_new(base, admin_accept_cb, base, LEV_OPT_CLOSE_ON_FREE, -1, fd);
	if (!adm.evl) {
		close(fd);
		return -ENOMEM;
	}
	if (listen_guard_init(&adm.guard, base, adm.evl, "admin port") < 0) {
		evconnlistener_free(adm.evl);
		adm.evl = NULL;
		return -ENOMEM;
	}
	evconnlistener_set_error_cb(adm.evl, admin_listen_error_cb);
	pr_info("admin port listening on %s (user %s)", cfg->admin.text, cfg->admin_user.name);
	return 0;
}

void admin_stop(void)
{
	struct admin_conn *c;

	while ((c = LIST_FIRST(&adm.conns)) != NULL)
		conn_free(c);
	listen_guard_free(&adm.guard);
	if (adm.evl)
		evconnlistener_free(adm.evl);
	adm.evl = NULL;
}
