/* kill.c — KILL [CONNECTION | QUERY] <shunt id> (see kill.h). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/buffer.h>
#include "mysql/auth.h"
#include "session/kill.h"
#include "util/log.h"
#include "mysql_defs.h"
#include "session/session.h"
#include "mysql/sqlconn.h"
#include "core/worker.h"
#include "core/xcall.h"


/* ---- the statement ------------------------------------------------------ */

/* A statement's text being read: where, and how many executable
 * comments ("/" "*!50000 ..." or MariaDB's "/" "*M!...") are open, whose
 * content the server runs as code. */
struct kill_lex {
	const uint8_t *q;
	size_t len;
	size_t i;
	unsigned exec_open;
};

/* Skips blanks and comments (slash-star, "-- ", "#") from lx->i, as the
 * server does; an executable comment's opener and version digits are
 * skipped and its text read as code, and its closing star-slash is
 * skipped as a blank. */
static void skip_space(struct kill_lex *lx)
{
	const uint8_t *q = lx->q;
	size_t len = lx->len;

	while (lx->i < len) {
		size_t i = lx->i;
		if (isspace(q[i])) {
			lx->i++;
		} else if (q[i] == '*' && lx->exec_open && i + 1 < len && q[i + 1] == '/') {
			lx->exec_open--;
			lx->i += 2;
		} else if (q[i] == '/' && i + 1 < len && q[i + 1] == '*') {
			size_t j = i + 2;
			if (j < len && q[j] == 'M' && j + 1 < len && q[j + 1] == '!')
				j++;
			if (j < len && q[j] == '!') {
				for (j++; j < len && isdigit(q[j]); j++)
					;
				lx->exec_open++;
				lx->i = j;
				continue;
			}
			const uint8_t *end = NULL;
			for (j = i + 2; j + 1 < len; j++)
				if (q[j] == '*' && q[j + 1] == '/') {
					end = q + j + 2;
					break;
				}
			lx->i = end ? (size_t)(end - q) : len;
		} else if (q[i] == '#' || (q[i] == '-' && i + 2 < len && q[i + 1] == '-' &&
					   (isspace(q[i + 2]) || q[i + 2] < 0x20))) {
			while (lx->i < len && q[lx->i] != '\n')
				lx->i++;
		} else {
			return;
		}
	}
}

/* Reads one word of letters (case-insensitive) into w (upper case). */
static size_t read_word(struct kill_lex *lx, char *w, size_t wsz)
{
	size_t n = 0;

	skip_space(lx);
	while (lx->i < lx->len && (isalnum(lx->q[lx->i]) || lx->q[lx->i] == '_')) {
		if (n + 1 < wsz)
			w[n++] = (char)toupper(lx->q[lx->i]);
		else
			n = wsz;        /* too long: no keyword we know */
		lx->i++;
	}
	w[n < wsz ? n : wsz - 1] = '\0';
	return n;
}

int kill_parse(const uint8_t *q, size_t len, struct kill_stmt *st)
{
	struct kill_lex lx = { .q = q, .len = len };
	char w[24];

	memset(st, 0, sizeof(*st));
	if (!read_word(&lx, w, sizeof(w)) || strcmp(w, "KILL") != 0)
		return 0;
	size_t save = lx.i;
	read_word(&lx, w, sizeof(w));
	if (strcmp(w, "HARD") == 0 || strcmp(w, "SOFT") == 0) {
		save = lx.i;
		read_word(&lx, w, sizeof(w));
	}
	if (strcmp(w, "QUERY") == 0) {
		st->query_only = 1;
	} else if (strcmp(w, "CONNECTION") != 0) {
		lx.i = save;            /* KILL <id> */
	}
	skip_space(&lx);
	uint64_t id = 0;
	size_t digits = 0;
	while (lx.i < len && isdigit(q[lx.i]) && digits < 12) {
		id = id * 10 + (uint64_t)(q[lx.i] - '0');
		lx.i++;
		digits++;
	}
	if (!digits || id > UINT32_MAX || (lx.i < len && isalnum(q[lx.i])))
		return 0;               /* KILL USER x, KILL QUERY ID n, an expression */
	skip_space(&lx);
	if (lx.i < len && q[lx.i] == ';') {
		lx.i++;
		skip_space(&lx);
	}
	if (lx.i != len)
		return 0;
	st->id = (uint32_t)id;
	return 1;
}

/* ---- the request ---------------------------------------------------------- */

struct kill_req {
	struct xcall x;                 /* first: posted, answered, cancelled */
	struct shunt *sh;
	uint32_t id;
	int query_only;
	int as_admin;
	char user[CFG_NAME_MAX];
	kill_done_fn done;
	void *ctx;
	int closed;                     /* KILL CONNECTION: the session is closed */
	struct kill_result res;

	/* a client's own KILL: the session that sent it, borrowed until the
	   answer (its worker's thread) */
	struct session *owner;
	void (*resume)(struct session *s, const struct kill_result *res);

	/* the side connection (target's thread) */
	struct sqlconn *conn;
	struct sql_batch batch;
	struct cfg_addr addr;
	uint32_t thread_id;
};

static void set_result(struct kill_result *r, uint16_t code, const char *sqlstate,
		       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void set_result(struct kill_result *r, uint16_t code, const char *sqlstate,
		       const char *fmt, ...)
{
	va_list ap;

	r->code = code;
	snprintf(r->sqlstate, sizeof(r->sqlstate), "%s", sqlstate);
	va_start(ap, fmt);
	vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
	va_end(ap);
}

/* Requester's thread (xcall deliver): hands the result over; not called
 * when the requester cancelled. */
static void deliver(struct xcall *x)
{
	struct kill_req *r = (struct kill_req *)x;

	if (r->closed && r->res.code) {
		pr_info("KILL %u: session closed; killing its backend thread failed: %u %s",
			r->id, r->res.code, r->res.msg);
		r->res.code = 0;
	}
	STAT_ADD(r->sh, kills_ok, r->res.code == 0);
	STAT_ADD(r->sh, kills_failed, r->res.code != 0);
	r->done(r->ctx, &r->res);
}

/* Target's thread: the request is finished; send it back. */
static void finish(struct kill_req *r)
{
	sqlconn_free(r->conn);
	r->conn = NULL;
	sql_batch_free(&r->batch);
	xcall_reply(&r->x, "kill");
}

/* The KILL statement's answer: done either way. A thread that ended
 * between the lookup and now (1094) means nothing runs: success. */
static void side_query_done(struct sqlconn *c, int err, void *arg)
{
	struct kill_req *r = arg;
	const struct sql_step *st = r->batch.n ? &r->batch.steps[0] : NULL;

	if (err)
		set_result(&r->res, ER_UNKNOWN_ERROR, "HY000", "shunt: KILL QUERY: %s", sqlconn_error(c));
	else if (st->err_code && st->err_code != ER_NO_SUCH_THREAD)
		set_result(&r->res, st->err_code, st->err_state, "shunt: KILL QUERY on backend %s: %s",
			   r->addr.text, st->err_msg);
	else
		r->res.code = 0;
	finish(r);
}

/* Logged in as the session's user: send the KILL. */
static void side_login_done(struct sqlconn *c, int err, void *arg)
{
	struct kill_req *r = arg;
	const char *state;

	if (err) {
		uint16_t code = sqlconn_server_error(c, &state);
		set_result(&r->res, code ? code : ER_UNKNOWN_ERROR, code ? state : "HY000",
			   "shunt: KILL QUERY: %s", sqlconn_error(c));
		finish(r);
		return;
	}
	if (!sql_batch_addf(&r->batch, r->query_only ? "KILL QUERY %u" : "KILL %u", r->thread_id) ||
	    sqlconn_run(c, &r->batch, shunt_cfg(r->sh)->backend_login_timeout_ms, side_query_done, r) < 0) {
		set_result(&r->res, ER_OUT_OF_RESOURCES, "HY000", "shunt: out of memory");
		finish(r);
	}
}

/* Target's thread: opens the side connection to the session's backend,
 * logged in as the session's user with its recovered credentials. */
static void side_start(struct kill_req *r, struct session *t)
{
	const struct shunt_config *cfg = shunt_cfg(r->sh);
	struct sqlconn_login l;
	struct proto_buf attrs;

	r->addr = t->backend->addr;
	r->thread_id = t->backend_thread_id;
	proto_buf_init(&attrs);
	proto_put_lenenc_str(&attrs, "_proxy", 6);
	proto_put_lenenc_str(&attrs, "shunt", 5);
	proto_put_lenenc_str(&attrs, "program_name", 12);
	proto_put_lenenc_str(&attrs, "shunt-kill", 10);
	memset(&l, 0, sizeof(l));
	l.addr = &r->addr;
	l.user = t->user;
	l.stage1 = t->stage1;
	l.empty_password = t->empty_password;
	l.caps = CLIENT_LONG_PASSWORD | CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION |
		 CLIENT_PLUGIN_AUTH | CLIENT_TRANSACTIONS | CLIENT_CONNECT_ATTRS;
	l.charset = t->charset;
	l.max_packet = 1 << 24;
	l.attrs = attrs.data;
	l.attrs_len = attrs.len;
	l.timeout_ms = cfg->connect_timeout_ms + cfg->backend_login_timeout_ms;
	sess_log(t, LOG_INFO, "%s: killing backend thread %u", r->query_only ? "KILL QUERY" : "KILL",
		 r->thread_id);
	r->conn = attrs.err ? NULL : sqlconn_connect(t->w->base, &l, side_login_done, r);
	proto_buf_free(&attrs);
	if (!r->conn) {
		set_result(&r->res, ER_OUT_OF_RESOURCES, "HY000",
			   "shunt: KILL QUERY: cannot connect to backend %s", r->addr.text);
		finish(r);
	}
}

/* Target's thread (xcall run): find the session, check the owner, act. */
static void on_target(struct xcall *x)
{
	struct kill_req *r = (struct kill_req *)x;
	struct session *t = sess_find(r->sh, r->id);

	if (!t) {
		set_result(&r->res, ER_NO_SUCH_THREAD, "HY000", "Unknown thread id: %u", r->id);
		finish(r);
		return;
	}
	if (!r->as_admin && strcmp(t->user, r->user) != 0) {
		set_result(&r->res, ER_KILL_DENIED_ERROR, "HY000", "You are not owner of thread %u", r->id);
		finish(r);
		return;
	}
	if (t->state != SESS_RELAY || !t->backend) {
		/* Logging in: no statement runs yet. */
		if (!r->query_only) {
			sess_log(t, LOG_INFO, "killed during login (KILL by %s)",
				 r->as_admin ? "the admin" : r->user);
			sess_free(t);
		}
		r->res.code = 0;
		finish(r);
		return;
	}
	if (!r->query_only) {
		/* As MySQL's KILL: the backend thread goes too (the side
		 * connection kills it, so a running statement stops now rather
		 * than when the server next notices the closed socket). The
		 * session itself is gone either way, so the answer is OK
		 * whatever the side connection meets (deliver() logs it). */
		sess_log(t, LOG_INFO, "killed (KILL CONNECTION by %s)", r->as_admin ? "the admin" : r->user);
		r->closed = 1;
	}
	/* side_start() may finish (and so free) r: t is freed from a copy. */
	int close_target = r->closed;
	side_start(r, t);
	if (close_target)
		sess_free(t);
}

struct kill_req *kill_start(struct shunt *sh, struct event_base *reply_base, uint32_t id,
			    int query_only, const char *user, kill_done_fn done, void *ctx)
{
	struct kill_req *r = calloc(1, sizeof(*r));
	struct worker *w = worker_of_id(sh, id);

	if (!r)
		return NULL;
	r->sh = sh;
	r->x = (struct xcall){ .reply_base = reply_base, .run = on_target, .deliver = deliver };
	r->id = id;
	r->query_only = query_only;
	r->as_admin = user == NULL;
	if (user)
		snprintf(r->user, sizeof(r->user), "%s", user);
	r->done = done;
	r->ctx = ctx;
	if (!w) {
		set_result(&r->res, ER_NO_SUCH_THREAD, "HY000", "Unknown thread id: %u", id);
		finish(r);
	} else if (xcall_post(&r->x, w->base) < 0) {
		free(r);
		return NULL;
	}
	return r;
}

void kill_cancel(struct kill_req *r)
{
	xcall_cancel(r ? &r->x : NULL);
}

/* ---- a client's own KILL ---------------------------------------------------- */

static void client_kill_gone(struct session *s, void *ctx)
{
	(void)s;
	kill_cancel(ctx);
}

/* While a KILL the client sent is carried out, the session is borrowed:
 * no migration starts, and the carrier does not read the client. */
static const struct sess_borrow_ops kill_borrow = {
	.what = "KILL",
	.gone = client_kill_gone,
};

static void client_kill_done(void *ctx, const struct kill_result *res)
{
	struct kill_req *r = ctx;
	struct session *s = r->owner;

	sess_unborrow(s, r);
	if (res->code)
		sess_log(s, LOG_INFO, "KILL answered with %u: %s", res->code, res->msg);
	r->resume(s, res);
}

int kill_from_client(struct session *s, const uint8_t *wire, size_t len,
		     void (*resume)(struct session *s, const struct kill_result *res))
{
	const uint8_t *payload = wire + MYSQL_HDR_LEN;
	struct kill_stmt st;
	struct kill_req *r;
	uint32_t plen;
	uint8_t seq;

	/* Exactly one whole command packet: anything pipelined behind it, or
	 * a packet still incomplete, is left to the backend. */
	if (proto_peek_header(wire, len, &plen, &seq) < 0 || seq != 0 || plen == 0 ||
	    plen >= MYSQL_MAX_PAYLOAD || len != MYSQL_HDR_LEN + plen)
		return 0;
	if (plen >= 5 && payload[0] == COM_PROCESS_KILL) {
		st.id = (uint32_t)payload[1] | (uint32_t)payload[2] << 8 |
			(uint32_t)payload[3] << 16 | (uint32_t)payload[4] << 24;
		st.query_only = 0;
	} else if (payload[0] != COM_QUERY || !kill_parse(payload + 1, plen - 1, &st)) {
		return 0;
	}
	/* A migration still waiting for a safe point gives way to the KILL
	 * (it is answered "busy"); one that has the session paused cannot be
	 * here, since the carrier does not read the client then. Never
	 * forwarded: the backend would read shunt's id as one of its own. */
	if (sess_borrower_what(s)) {
		if (sess_borrow_over(s, &kill_borrow, NULL) < 0) {
			sess_log(s, LOG_ERROR, "internal: KILL while the session is held by a %s",
				 sess_borrower_what(s));
			return 0;
		}
		sess_unborrow(s, NULL);         /* taken again below, with the request */
	}
	sess_log(s, LOG_INFO, "KILL %s%u from the client", st.query_only ? "QUERY " : "", st.id);
	if (st.id != s->id) {
		r = kill_start(s->sh, s->w->base, st.id, st.query_only, s->user, client_kill_done, NULL);
		if (r)
			r->ctx = r;
	} else {
		/* MySQL: killing one's own connection ends it with 1927; killing
		 * one's own query is a no-op (this KILL is the query). Answered
		 * through the same asynchronous path as any other. */
		r = calloc(1, sizeof(*r));
		if (r) {
			r->sh = s->sh;
			r->x = (struct xcall){ .reply_base = s->w->base, .run = on_target,
					       .deliver = deliver };
			r->id = st.id;
			r->done = client_kill_done;
			r->ctx = r;
			if (!st.query_only)
				set_result(&r->res, ER_CONNECTION_KILLED, "70100", "Connection was killed");
			finish(r);
		}
	}
	if (!r)
		return 0;
	r->owner = s;
	r->resume = resume;
	sess_borrow(s, &kill_borrow, r);        /* free: checked above */
	return 1;
}

void kill_build_answer(const struct kill_result *res, uint32_t caps, uint16_t status,
		       struct proto_buf *pkt)
{
	struct proto_buf payload;
	uint8_t seq = 1;

	proto_buf_init(&payload);
	if (res->code) {
		proto_build_err(&payload, res->code, res->sqlstate, res->msg);
	} else {
		struct proto_ok ok = { .status = status };
		proto_build_ok(&payload, caps, &ok);
	}
	proto_put_packet(pkt, &seq, payload.data, payload.len);
	if (payload.err && !pkt->err)
		pkt->err = payload.err;
	proto_buf_free(&payload);
}
