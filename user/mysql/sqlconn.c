/* sqlconn.c — shunt's own short conversations with a backend (sqlconn.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include "util/log.h"
#include "mysql_defs.h"
#include "mysql/proto.h"
#include "mysql/login.h"
#include "mysql/pktio.h"
#include "mysql/sqlconn.h"

#define SQLCONN_MAX_PACKET (16u * 1024 * 1024)

enum conn_phase { C_CONNECT, C_GREETING, C_AUTH, C_READY, C_RUN, C_DEAD };
/* where the answer to the current step is */
enum resp_phase { R_FIRST, R_SKIP, R_COLDEFS, R_COLEOF, R_ROWS };

struct sqlconn {
	struct event_base *base;
	struct bufferevent *bev;
	struct event *timer;
	int adopted;
	enum conn_phase phase;
	uint32_t caps;
	uint32_t thread_id;
	uint8_t scramble[PROTO_SCRAMBLE_LEN];
	uint8_t seq;
	/* login */
	char user[SQLCONN_USER_MAX];
	uint8_t stage1[AUTH_SHA1_LEN];
	int empty_password;
	uint8_t charset;
	uint32_t max_packet;
	struct proto_buf attrs;
	char addr_text[CFG_ADDR_MAX];
	uint16_t srv_code;            /* the server's ERR that ended the login */
	char srv_state[6];
	/* the batch running */
	struct sql_batch *b;
	size_t cur;
	enum resp_phase rphase;
	size_t left;
	sqlconn_cb cb;
	void *arg;
	char err[256];
};

/* ---- the connection ------------------------------------------------------------ */

const char *sqlconn_error(const struct sqlconn *c)
{
	return c->err;
}

uint16_t sqlconn_server_error(const struct sqlconn *c, const char **sqlstate)
{
	*sqlstate = c->srv_state;
	return c->srv_code;
}

/* Remembers the server's ERR that ends the login. */
static void note_server_error(struct sqlconn *c, const struct proto_err *e)
{
	c->srv_code = e->code;
	snprintf(c->srv_state, sizeof(c->srv_state), "%s", e->sqlstate);
}

uint32_t sqlconn_thread_id(const struct sqlconn *c)
{
	return c->thread_id;
}

const uint8_t *sqlconn_scramble(const struct sqlconn *c)
{
	return c->scramble;
}

/* Ends the current login or batch: cb with err (the connection is dead
 * unless err is 0). The callback may free c. */
static void conn_done(struct sqlconn *c, int err)
{
	if (c->timer)
		evtimer_del(c->timer);
	c->phase = err ? C_DEAD : C_READY;
	if (err && c->bev)
		bufferevent_disable(c->bev, EV_READ);
	sqlconn_cb cb = c->cb;
	c->cb = NULL;
	if (cb)
		cb(c, err, c->arg);
}

static void conn_fail(struct sqlconn *c, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void conn_fail(struct sqlconn *c, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	conn_done(c, err);
}

static int send_payload(struct sqlconn *c, const struct proto_buf *payload)
{
	return pktio_send(c->bev, &c->seq, payload);
}

/* The greeting: log in with the session's credentials and capabilities.
 * Returns 1 when the login failed (c may be gone), 0 to go on. */
static int on_greeting(struct sqlconn *c, const uint8_t *p, size_t len)
{
	struct proto_greeting g;
	struct proto_login l;
	struct proto_buf b;
	uint8_t token[AUTH_SHA1_LEN];

	if (len && p[0] == MYSQL_ERR_HDR) {
		struct proto_err e;
		if (proto_parse_err(p, len, &e) == 0) {
			note_server_error(c, &e);
			conn_fail(c, -ECONNREFUSED, "%s refused the connection: %u %.*s", c->addr_text,
				  e.code, (int)e.message.len, (const char *)e.message.p);
		} else
			conn_fail(c, -ECONNREFUSED, "%s refused the connection", c->addr_text);
		return 1;
	}
	if (proto_parse_greeting(p, len, &g) < 0 || g.protocol != 10 ||
	    g.scramble_len < PROTO_SCRAMBLE_LEN) {
		conn_fail(c, -EPROTO, "malformed greeting from %s", c->addr_text);
		return 1;
	}
	if ((c->caps & WIRE_CAPS) & ~g.caps) {
		conn_fail(c, -EPROTO, "%s lacks capabilities the session uses (0x%08x)", c->addr_text,
			  (c->caps & WIRE_CAPS) & ~g.caps);
		return 1;
	}
	c->caps &= g.caps | CLIENT_CONNECT_ATTRS;
	if (!(g.caps & CLIENT_CONNECT_ATTRS))
		c->caps &= ~CLIENT_CONNECT_ATTRS;
	c->caps &= ~(CLIENT_CONNECT_WITH_DB | CLIENT_COMPRESS | CLIENT_SSL);
	c->thread_id = g.conn_id;
	memcpy(c->scramble, g.scramble, PROTO_SCRAMBLE_LEN);
	memset(&l, 0, sizeof(l));
	l.caps = c->caps;
	l.max_packet = c->max_packet ? c->max_packet : 16777216;
	l.charset = c->charset;
	login_credentials(&l, c->user, c->stage1, c->empty_password, g.scramble, token);
	if (c->caps & CLIENT_CONNECT_ATTRS) {
		l.has_attrs = 1;
		l.attrs.p = c->attrs.data;
		l.attrs.len = c->attrs.len;
	}
	proto_buf_init(&b);
	proto_build_login(&b, &l);
	auth_wipe(token, sizeof(token));
	int rc = send_payload(c, &b);
	proto_buf_free(&b);
	if (rc < 0) {
		conn_fail(c, rc, "cannot send the login to %s", c->addr_text);
		return 1;
	}
	c->phase = C_AUTH;
	return 0;
}

/* The login's answer. Returns 1 when the login ended, OK or not (c may
 * be gone), 0 after answering an auth switch. */
static int on_auth(struct sqlconn *c, const uint8_t *p, size_t len)
{
	if (len && p[0] == MYSQL_OK_HDR) {
		auth_wipe(c->stage1, sizeof(c->stage1));
		conn_done(c, 0);
		return 1;
	}
	if (len && p[0] == MYSQL_AUTH_SWITCH_HDR) {
		struct proto_buf b;
		struct proto_str plugin;

		proto_buf_init(&b);
		int rc = login_auth_switch_answer(p, len, c->stage1, c->empty_password, &b, &plugin);
		if (rc == 0)
			rc = send_payload(c, &b);
		proto_buf_free(&b);
		if (rc < 0) {
			conn_fail(c, rc, "cannot answer the auth switch of %s", c->addr_text);
			return 1;
		}
		return 0;
	}
	struct proto_err e;
	if (len && p[0] == MYSQL_ERR_HDR && proto_parse_err(p, len, &e) == 0) {
		note_server_error(c, &e);
		conn_fail(c, -EACCES, "%s refused the login: %u %.*s", c->addr_text, e.code,
			  (int)e.message.len, (const char *)e.message.p);
	} else
		conn_fail(c, -EPROTO, "unexpected login answer from %s", c->addr_text);
	return 1;
}

/* Moves to the next step that expects an answer; finishes the batch at
 * the end. Returns 1 when the batch finished (c may be gone). */
static int next_step(struct sqlconn *c)
{
	c->rphase = R_FIRST;
	c->left = 0;
	while (c->cur < c->b->n && c->b->steps[c->cur].cmd == COM_STMT_CLOSE) {
		c->b->steps[c->cur].answered = 1;
		c->cur++;
	}
	if (c->cur < c->b->n)
		return 0;
	conn_done(c, 0);
	return 1;
}

/* A terminator: 0xfe and short (classic EOF or DEPRECATE_EOF's OK). */
static int is_term(const struct sqlconn *c, const uint8_t *p, size_t len)
{
	return len && p[0] == MYSQL_EOF_HDR &&
	       ((c->caps & CLIENT_DEPRECATE_EOF) ? len < MYSQL_MAX_PAYLOAD : len < 9);
}

/* Status flags of an OK or terminator, 0 when they cannot be read. */
static uint16_t status_of(const struct sqlconn *c, const uint8_t *p, size_t len)
{
	struct proto_ok ok;

	if (p[0] == MYSQL_EOF_HDR && !(c->caps & CLIENT_DEPRECATE_EOF))
		return len >= 5 ? (uint16_t)(p[3] | p[4] << 8) : 0;
	return proto_parse_ok(p, len, c->caps, &ok) == 0 ? ok.status : 0;
}

/* One packet of the answer to the current step. Returns 1 when the batch
 * ended (c may be gone), 0 to go on. */
static int on_answer(struct sqlconn *c, const uint8_t *p, size_t len)
{
	struct sql_step *st = &c->b->steps[c->cur];

	if (len == 0) {
		conn_fail(c, -EPROTO, "empty packet from %s", c->addr_text);
		return 1;
	}
	switch (c->rphase) {
	case R_FIRST:
		if (p[0] == MYSQL_ERR_HDR) {
			struct proto_err e;
			st->answered = 1;
			if (proto_parse_err(p, len, &e) == 0) {
				st->err_code = e.code ? e.code : 1;
				snprintf(st->err_state, sizeof(st->err_state), "%s", e.sqlstate);
				snprintf(st->err_msg, sizeof(st->err_msg), "%.*s", (int)e.message.len,
					 (const char *)e.message.p);
			} else {
				st->err_code = ER_UNKNOWN_ERROR;
				snprintf(st->err_state, sizeof(st->err_state), "HY000");
			}
			c->cur++;
			return next_step(c);
		}
		if (st->cmd == COM_STMT_PREPARE) {
			if (p[0] != MYSQL_OK_HDR || len < 9) {
				conn_fail(c, -EPROTO, "malformed prepare answer from %s", c->addr_text);
				return 1;
			}
			st->stmt_id = (uint32_t)p[1] | (uint32_t)p[2] << 8 | (uint32_t)p[3] << 16 |
				      (uint32_t)p[4] << 24;
			uint16_t cols = (uint16_t)(p[5] | p[6] << 8);
			st->nparams = (uint16_t)(p[7] | p[8] << 8);
			int eofs = !(c->caps & CLIENT_DEPRECATE_EOF);
			c->left = st->nparams + (st->nparams && eofs) + cols + (cols && eofs);
			st->answered = 1;
			if (c->left == 0) {
				c->cur++;
				return next_step(c);
			}
			c->rphase = R_SKIP;
			return 0;
		}
		if (p[0] == MYSQL_OK_HDR) {
			st->answered = 1;
			if (status_of(c, p, len) & SERVER_MORE_RESULTS_EXISTS)
				return 0;
			c->cur++;
			return next_step(c);
		} else {
			struct proto_cur cur;
			uint64_t n;
			proto_cur_init(&cur, p, len);
			if (proto_get_lenenc(&cur, &n, NULL) < 0 || n == 0 || n > 4096) {
				conn_fail(c, -EPROTO, "malformed result from %s", c->addr_text);
				return 1;
			}
			sql_step_free_rows(st);
			st->ncols = (size_t)n;
			c->left = (size_t)n;
			c->rphase = R_COLDEFS;
			return 0;
		}
	case R_SKIP:
		if (--c->left == 0) {
			c->cur++;
			return next_step(c);
		}
		return 0;
	case R_COLDEFS:
		if (--c->left == 0)
			c->rphase = (c->caps & CLIENT_DEPRECATE_EOF) ? R_ROWS : R_COLEOF;
		return 0;
	case R_COLEOF:
		c->rphase = R_ROWS;
		return 0;
	case R_ROWS:
		if (is_term(c, p, len)) {
			st->answered = 1;
			if (status_of(c, p, len) & SERVER_MORE_RESULTS_EXISTS) {
				c->rphase = R_FIRST;
				return 0;
			}
			c->cur++;
			return next_step(c);
		}
		if (p[0] == MYSQL_ERR_HDR) {
			c->rphase = R_FIRST;
			return on_answer(c, p, len);
		}
		if (sql_step_add_row(st, p, len) < 0) {
			conn_fail(c, -EPROTO, "malformed row from %s", c->addr_text);
			return 1;
		}
		return 0;
	}
	return 0;
}

static void read_cb(struct bufferevent *bev, void *arg)
{
	struct sqlconn *c = arg;
	uint8_t *payload;
	size_t len;
	uint8_t seq;
	int rc = 0;

	/* Every handler returns 1 after a callback ran: c may be gone then. */
	while (c->phase == C_GREETING || c->phase == C_AUTH || c->phase == C_RUN) {
		rc = pktio_take(bufferevent_get_input(bev), SQLCONN_MAX_PACKET, &payload, &len, &seq);
		if (rc != 1)
			break;
		c->seq = seq + 1;
		int ended;
		if (c->phase == C_GREETING)
			ended = on_greeting(c, payload, len);
		else if (c->phase == C_AUTH)
			ended = on_auth(c, payload, len);
		else
			ended = on_answer(c, payload, len);
		free(payload);
		if (ended)
			return;
	}
	if (rc < 0)
		conn_fail(c, rc, "oversized packet from %s", c->addr_text);
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct sqlconn *c = arg;
	(void)bev;

	if (what & BEV_EVENT_CONNECTED) {
		int one = 1;
		setsockopt(bufferevent_getfd(c->bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c->phase = C_GREETING;
		return;
	}
	conn_fail(c, -ECONNRESET, "%s %s", c->addr_text,
		  (what & BEV_EVENT_EOF) ? "closed the connection" : "connection failed");
}

static void timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sqlconn *c = arg;
	(void)fd;
	(void)what;
	conn_fail(c, -ETIMEDOUT, "%s did not answer in time", c->addr_text);
}

static struct sqlconn *conn_new(struct event_base *base, int fd, int close_on_free)
{
	struct sqlconn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->base = base;
	proto_buf_init(&c->attrs);
	c->bev = bufferevent_socket_new(base, fd, close_on_free ? BEV_OPT_CLOSE_ON_FREE : 0);
	c->timer = evtimer_new(base, timeout_cb, c);
	if (!c->bev || !c->timer) {
		sqlconn_free(c);
		return NULL;
	}
	bufferevent_setcb(c->bev, read_cb, NULL, event_cb, c);
	return c;
}

static void arm(struct sqlconn *c, unsigned ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };
	evtimer_add(c->timer, &tv);
}

struct sqlconn *sqlconn_connect(struct event_base *base, const struct sqlconn_login *l,
				sqlconn_cb cb, void *arg)
{
	struct sqlconn *c = conn_new(base, -1, 1);

	if (!c)
		return NULL;
	snprintf(c->user, sizeof(c->user), "%s", l->user);
	memcpy(c->stage1, l->stage1, AUTH_SHA1_LEN);
	c->empty_password = l->empty_password;
	c->caps = l->caps;
	c->charset = l->charset;
	c->max_packet = l->max_packet;
	snprintf(c->addr_text, sizeof(c->addr_text), "%s", l->addr->text);
	if (l->attrs)
		proto_put_bytes(&c->attrs, l->attrs, l->attrs_len);
	c->cb = cb;
	c->arg = arg;
	c->phase = C_CONNECT;
	bufferevent_enable(c->bev, EV_READ);
	arm(c, l->timeout_ms);
	if (c->attrs.err ||
	    bufferevent_socket_connect(c->bev, (struct sockaddr *)&l->addr->sa, (int)l->addr->salen) < 0) {
		sqlconn_free(c);
		return NULL;
	}
	return c;
}

struct sqlconn *sqlconn_adopt(struct event_base *base, int fd, uint32_t caps)
{
	struct sqlconn *c = conn_new(base, fd, 0);

	if (!c)
		return NULL;
	c->adopted = 1;
	c->caps = caps;
	c->phase = C_READY;
	snprintf(c->addr_text, sizeof(c->addr_text), "the session's backend");
	return c;
}

int sqlconn_run(struct sqlconn *c, struct sql_batch *b, unsigned timeout_ms, sqlconn_cb cb,
		void *arg)
{
	struct proto_buf pl;
	int rc = 0;

	if (c->phase != C_READY)
		return -EINVAL;
	if (b->oom)
		return -ENOMEM;
	c->b = b;
	c->cur = 0;
	c->cb = cb;
	c->arg = arg;
	proto_buf_init(&pl);
	for (size_t i = 0; i < b->n && rc == 0; i++) {
		struct sql_step *st = &b->steps[i];
		proto_buf_reset(&pl);
		proto_put_u8(&pl, st->cmd);
		if (st->cmd == COM_STMT_CLOSE)
			proto_put_u32(&pl, st->stmt_id);
		else
			proto_put_bytes(&pl, st->text, st->text_len);
		c->seq = 0;
		rc = send_payload(c, &pl);
	}
	proto_buf_free(&pl);
	if (rc < 0)
		return rc;
	c->phase = C_RUN;
	bufferevent_enable(c->bev, EV_READ);
	arm(c, timeout_ms);
	next_step(c);           /* skips leading closes; b has a step to answer */
	return 0;
}

void sqlconn_free(struct sqlconn *c)
{
	if (!c)
		return;
	if (c->timer)
		event_free(c->timer);
	if (c->bev) {
		if (c->adopted)
			bufferevent_setfd(c->bev, -1);
		bufferevent_free(c->bev);
	}
	auth_wipe(c->stage1, sizeof(c->stage1));
	proto_buf_free(&c->attrs);
	free(c);
}

int sqlconn_take_fd(struct sqlconn *c)
{
	if (!c || !c->bev)
		return -1;
	/* -EBUSY: bytes still unsent, or more from the server than it was
	   asked for. */
	int fd = pktio_steal_fd(&c->bev, NULL, NULL);
	sqlconn_free(c);
	return fd < 0 ? -1 : fd;
}
