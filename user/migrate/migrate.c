/* migrate.c — moving a live session to another backend (migrate.h).
 *
 * The move on the session's worker, step by step:
 *
 *   request   count the session on its target; start connecting and logging
 *             in to it at once (so the client waits for as little as
 *             possible later); ask the session to stop at a safe point
 *             (the session is borrowed; carrier->stop_at_boundary)
 *   safe      a command was held there (the client waits from now on), or
 *             the session sat idle and the request is proactive: borrow
 *             the old backend socket and read the session's state from it
 *   replay    once both the state and the new login are there: replay the
 *             state and re-prepare the statements on the new backend
 *   switch    the new backend socket replaces the old one
 *             (carrier->switch_backend); the held command goes on to the
 *             new backend; the old connection gets COM_QUIT and is closed
 *
 * Whatever carries the session, the migration sees it only through the
 * carrier interface (carrier.h).
 *
 * Anything that fails before the switch puts the session back as it was,
 * on its old backend; only a failure of the old backend itself ends it. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <event2/event.h>
#include "core/worker.h"
#include "core/xcall.h"
#include "migrate/migrate.h"
#include "migrate/mig_state.h"
#include "mysql/login.h"
#include "mysql/sqlconn.h"
#include "mysql/stmt.h"
#include "session/backend.h"
#include "session/session.h"
#include "util/clock.h"
#include "util/log.h"

#define MIG_POLL_MS 5                 /* how often a waiting request looks again */


/* The request, shared by the requester's thread and the worker. */
struct mig_req {
	struct xcall x;                  /* first: posted, answered, cancelled
					    (x.reply_base NULL: nobody waits) */
	struct shunt *sh;
	uint32_t id;
	char target[CFG_ADDR_MAX];       /* "" = the pool picks */
	enum mig_trigger why;
	int proactive;
	mig_done_fn done;
	void *ctx;
	struct mig_result res;
};

enum mig_phase {
	MP_WAIT,         /* for a safe point */
	MP_STATE,        /* reading the state from the old backend */
	MP_REPLAY,       /* replaying it on the new one */
};

/* A migration in progress (the session's borrower), owned by its worker. */
struct migration {
	struct session *s;
	struct mig_req *req;
	enum mig_phase phase;
	struct backend *target;          /* counted in its pool until switched or failed */
	struct event *timer;
	uint64_t t_start, t_safe, t_held;    /* clock_mono_us() marks; 0 = not yet */
	uint64_t deadline_us;
	struct sqlconn *old;             /* the borrowed old backend socket */
	struct sqlconn *neu;             /* the new backend */
	int neu_ready;                   /* logged in */
	int state_ready;                 /* capture answered */
	int old_busy;                    /* a batch runs on the old backend socket */
	int new_failed;                  /* the new backend failed while old_busy */
	struct sql_batch capture;
	struct sql_batch old_vars;       /* the session's variables (if it ran a SET) */
	struct sql_batch new_vars;       /* a fresh login's, on the new backend */
	struct sql_batch replay;
	struct sql_batch closes;         /* the replay's fillers, closed */
	uint32_t *prev_bid;              /* the statements' backend ids before the switch */
	struct mig_state_plan plan;
};

/* ---- delivering the result ---------------------------------------------------- */

/* Requester's thread (xcall deliver; not called when cancelled). */
static void deliver(struct xcall *x)
{
	struct mig_req *r = (struct mig_req *)x;

	if (r->done)
		r->done(r->ctx, &r->res);
}

/* Worker: the request is finished (res filled): count, log, hand back. */
static void req_finish(struct mig_req *r, uint64_t total_us)
{
	struct shunt *sh = r->sh;

	r->res.id = r->id;
	r->res.total_us = total_us;
	STAT_ADD(sh, migrations_by[r->why][r->res.outcome], 1);
	if (r->res.outcome == MIG_OK) {
		pool_lat_record(&sh->stats.migrate_total_lat, total_us);
		pool_lat_record(&sh->stats.migrate_held_lat, r->res.held_us);
	}
	xcall_reply(&r->x, "migrate");
}

static void req_result(struct mig_req *r, enum mig_outcome o, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void req_result(struct mig_req *r, enum mig_outcome o, const char *fmt, ...)
{
	va_list ap;

	r->res.outcome = o;
	va_start(ap, fmt);
	vsnprintf(r->res.msg, sizeof(r->res.msg), fmt, ap);
	va_end(ap);
}

/* ---- the session's side: pausing and resuming ------------------------------------ */

static const struct sess_borrow_ops mig_borrow;

/* The migration in progress on s, or NULL. */
static struct migration *mig_of(const struct session *s)
{
	return sess_borrowed_by(s, &mig_borrow);
}

int migrate_in_progress(const struct session *s)
{
	return mig_of(s) != NULL;
}

/* ---- ending ------------------------------------------------------------------------ */

static void mig_free(struct migration *m)
{
	if (m->timer)
		event_free(m->timer);
	sqlconn_free(m->old);
	sqlconn_free(m->neu);
	sql_batch_free(&m->capture);
	sql_batch_free(&m->old_vars);
	sql_batch_free(&m->new_vars);
	sql_batch_free(&m->replay);
	sql_batch_free(&m->closes);
	free(m->prev_bid);
	mig_state_plan_free(&m->plan);
	if (m->target)
		pool_release(m->target);
	free(m);
}

/* Ends a migration that did not switch: the session goes on where it
 * was. `paused`: its events were taken (they are given back). */
static void mig_abort(struct migration *m, int paused)
{
	struct session *s = m->s;
	struct mig_req *r = m->req;
	uint64_t now = clock_mono_us();

	sess_unborrow(s, m);
	if (s->carrier->stop_at_boundary(s, 0) < 0)
		sess_log(s, LOG_WARN, "migration: cannot stop asking for a boundary: %s", strerror(errno));
	r->res.wait_us = m->t_safe ? m->t_safe - m->t_start : now - m->t_start;
	r->res.held_us = m->t_held ? now - m->t_held : 0;
	sess_log(s, r->res.outcome == MIG_STICKY || r->res.outcome == MIG_TIMEOUT ? LOG_INFO : LOG_WARN,
		 "migration (%s) to %s: %s after %.1f ms: %s", mig_trigger_names[r->why],
		 r->res.to[0] ? r->res.to : "-", mig_outcome_names[r->res.outcome],
		 (double)(now - m->t_start) / 1000.0, r->res.msg);
	req_finish(r, now - m->t_start);
	mig_free(m);
	if (paused)
		s->carrier->resume(s);
}

/* The migration failed in a way the session cannot survive (res says
 * why): it ends, and the session with it. */
static void mig_close_session(struct migration *m)
{
	struct session *s = m->s;

	sess_unborrow(s, m);
	sess_log(s, LOG_WARN, "migration: %s; closing the session", m->req->res.msg);
	req_finish(m->req, clock_mono_us() - m->t_start);
	m->req = NULL;
	mig_free(m);
	sess_free(s);
}

/* The old backend failed while shunt was talking to it: the session
 * cannot go on anywhere. */
static void mig_old_broken(struct migration *m, const char *why)
{
	req_result(m->req, MIG_FAILED, "the old backend failed while its state was read: %s", why);
	mig_close_session(m);
}

/* sess_free(): the session ends during the migration (the requester
 * gets MIG_CLOSED). */
static void mig_session_gone(struct session *s, void *ctx)
{
	struct migration *m = ctx;
	(void)s;

	if (m->req) {
		req_result(m->req, MIG_CLOSED, "the session ended during the migration");
		req_finish(m->req, clock_mono_us() - m->t_start);
	}
	mig_free(m);
}

static int mig_at_boundary(struct session *s, void *ctx, int held);
static int mig_yield(struct session *s, void *ctx);

static const struct sess_borrow_ops mig_borrow = {
	.what = "migration",
	.at_boundary = mig_at_boundary,
	.gone = mig_session_gone,
	.yield = mig_yield,
};

/* ---- the switch -------------------------------------------------------------------- */

/* Sends COM_QUIT to the old backend and closes it (best effort). */
static void quit_and_close(int fd)
{
	static const uint8_t quit[] = { 1, 0, 0, 0, COM_QUIT };

	if (send(fd, quit, sizeof(quit), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		(void)0;    /* it is going away either way */
	close(fd);
}

/* The statements' backend ids become those the new backend gave them
 * (apply), or go back to what they were (after a failed switch). */
static int set_backend_ids(struct migration *m, int apply)
{
	struct session *s = m->s;
	size_t ns = m->plan.n_stmts;

	if (apply && ns && !m->prev_bid) {
		m->prev_bid = calloc(ns, sizeof(*m->prev_bid));
		if (!m->prev_bid)
			return -ENOMEM;
		for (size_t i = 0; i < ns; i++)
			if (!stmt_backend_id(s->stmts, m->plan.prep_id[i], &m->prev_bid[i]))
				m->prev_bid[i] = m->plan.prep_id[i];
	}
	if (!apply && !m->prev_bid)
		return 0;               /* never applied: nothing to put back */
	for (size_t i = 0; i < ns; i++)
		stmt_set_backend_id(s->stmts, m->plan.prep_id[i],
				    apply ? m->plan.got_id[i] : m->prev_bid[i]);
	return 0;
}

/* Replaces the old backend connection by the new one. Returns 0; -EPIPE
 * when the session cannot go on (the caller closes it); other -errno
 * before anything changed (the session stays on the old one). */
static int switch_backend(struct migration *m)
{
	struct session *s = m->s;
	int ofd = -1;

	int nfd = sqlconn_take_fd(m->neu);
	m->neu = NULL;
	if (nfd < 0) {
		req_result(m->req, MIG_FAILED, "the new backend connection had unread or unsent bytes");
		return -EPROTO;
	}
	if (set_backend_ids(m, 1) < 0) {
		close(nfd);
		req_result(m->req, MIG_FAILED, "out of memory");
		return -ENOMEM;
	}
	int rc = s->carrier->switch_backend(s, nfd, m->target, &ofd);
	if (rc == -EPIPE) {
		req_result(m->req, MIG_FAILED, "the switch failed half-way; session closed");
		return rc;
	}
	if (rc < 0) {
		set_backend_ids(m, 0);
		s->carrier->stmts_changed(s);
		req_result(m->req, MIG_FAILED, "cannot switch the %s carrier to the new backend: %s",
			   s->carrier->name, strerror(-rc));
		return rc;
	}
	sqlconn_free(m->old);       /* adopted: does not close ofd */
	m->old = NULL;
	quit_and_close(ofd);
	return 0;
}

/* Everything is ready: switch, account, resume. */
static void mig_commit(struct migration *m)
{
	struct session *s = m->s;
	struct mig_req *r = m->req;
	uint32_t old_thread = s->backend_thread_id;

	int rc = switch_backend(m);
	if (rc == -EPIPE) {
		mig_close_session(m);
		return;
	}
	if (rc < 0) {
		mig_abort(m, 1);
		return;
	}
	backend_adopt(s, m->target, m->plan.new_thread_id, m->plan.new_scramble);
	m->target = NULL;
	s->migrations++;
	s->sticky[0] = '\0';
	/* The first execute of each statement must come to user space now,
	 * to get its parameter types back. */
	stmt_moved(s->stmts);
	s->carrier->stmts_changed(s);
	sess_unborrow(s, m);
	uint64_t now = clock_mono_us();
	r->res.outcome = MIG_OK;
	r->res.wait_us = m->t_safe - m->t_start;
	r->res.held_us = m->t_held ? now - m->t_held : 0;
	sess_log(s, LOG_INFO, "migrated (%s) from %s to %s in %.2f ms (waited %.2f ms for a safe point, "
		 "a command held %.2f ms): backend thread %u -> %u, %zu statements (%zu under new ids, "
		 "translated), %zu variables",
		 mig_trigger_names[r->why], r->res.from, r->res.to, (double)(now - m->t_start) / 1000.0,
		 (double)r->res.wait_us / 1000.0, (double)r->res.held_us / 1000.0, old_thread,
		 s->backend_thread_id, m->plan.n_stmts, m->plan.n_translated, m->plan.n_vars);
	req_finish(r, now - m->t_start);
	m->req = NULL;
	mig_free(m);
	s->carrier->resume(s);
}

/* ---- replay -------------------------------------------------------------------------- */

static void closes_done(struct sqlconn *c, int err, void *arg);

static void replay_done(struct sqlconn *c, int err, void *arg)
{
	struct migration *m = arg;
	char why[256];
	(void)c;

	if (err) {
		req_result(m->req, MIG_FAILED, "new backend: %s", sqlconn_error(m->neu));
		mig_abort(m, 1);
		return;
	}
	if (log_enabled(LOG_DEBUG))
		for (size_t i = 0; i < m->replay.n; i++)
			sess_log(m->s, LOG_DEBUG, "migration replay %zu: cmd 0x%02x id %u err %u: %.100s", i,
				 m->replay.steps[i].cmd, m->replay.steps[i].stmt_id,
				 m->replay.steps[i].err_code, m->replay.steps[i].text);
	if (mig_state_check_replay(&m->plan, &m->replay, why, sizeof(why)) < 0) {
		req_result(m->req, MIG_FAILED, "replay on %s failed: %s", m->req->res.to, why);
		mig_abort(m, 1);
		return;
	}
	if (!m->plan.n_fillers) {
		mig_commit(m);
		return;
	}
	const struct shunt_config *cfg = shunt_cfg(m->s->sh);
	if (mig_state_build_closes(&m->plan, &m->replay, &m->closes) < 0 ||
	    sqlconn_run(m->neu, &m->closes, cfg->backend_login_timeout_ms, closes_done, m) < 0) {
		req_result(m->req, MIG_FAILED, "cannot close the fillers on the new backend");
		mig_abort(m, 1);
	}
}

/* The replay's throw-away statements are closed: switch. */
static void closes_done(struct sqlconn *c, int err, void *arg)
{
	struct migration *m = arg;
	(void)c;

	if (err) {
		req_result(m->req, MIG_FAILED, "new backend: %s", sqlconn_error(m->neu));
		mig_abort(m, 1);
		return;
	}
	mig_commit(m);
}

/* Both the state and the new login are there: replay. */
static void maybe_replay(struct migration *m)
{
	struct session *s = m->s;
	char why[256];

	if (!m->neu_ready || !m->state_ready || m->phase != MP_STATE)
		return;
	m->phase = MP_REPLAY;
	if (m->plan.need_vars &&
	    mig_state_diff_vars(&m->plan, &m->old_vars, &m->new_vars, why, sizeof(why)) < 0) {
		req_result(m->req, MIG_FAILED, "%s", why);
		mig_abort(m, 1);
		return;
	}
	if (mig_state_build_replay(&m->plan, s->stmts, &m->replay, why, sizeof(why)) < 0) {
		req_result(m->req, MIG_FAILED, "%s", why);
		mig_abort(m, 1);
		return;
	}
	const struct shunt_config *cfg = shunt_cfg(s->sh);
	if (sqlconn_run(m->neu, &m->replay, cfg->backend_login_timeout_ms, replay_done, m) < 0) {
		req_result(m->req, MIG_FAILED, "cannot send the replay to the new backend");
		mig_abort(m, 1);
	}
}

/* ---- the state ----------------------------------------------------------------------- */

/* A batch on the old backend ended. Returns 0 to go on; 1 when the
 * migration is over (the old backend broke, or the new side failed while
 * the batch ran): m and maybe the session are gone. */
static int old_batch_ended(struct migration *m, int err)
{
	m->old_busy = 0;
	if (err) {
		mig_old_broken(m, sqlconn_error(m->old));
		return 1;
	}
	if (m->new_failed) {
		mig_abort(m, 1);
		return 1;
	}
	return 0;
}

static void old_vars_done(struct sqlconn *c, int err, void *arg)
{
	struct migration *m = arg;
	(void)c;

	if (old_batch_ended(m, err))
		return;
	m->state_ready = 1;
	maybe_replay(m);
}

static void capture_done(struct sqlconn *c, int err, void *arg)
{
	struct migration *m = arg;
	struct session *s = m->s;
	char why[256];
	(void)c;

	if (old_batch_ended(m, err))
		return;
	int rc = mig_state_read(&m->plan, &m->capture, why, sizeof(why));
	if (rc == 0) {
		const char *st = stmt_unmovable(s->stmts, &m->plan.conv);
		if (st) {
			snprintf(why, sizeof(why), "%s", st);
			rc = 1;
		}
	}
	if (rc != 0) {
		if (rc > 0) {
			snprintf(s->sticky, sizeof(s->sticky), "%.63s", why);
			req_result(m->req, MIG_STICKY, "the session holds state that cannot move: %s", why);
		} else {
			req_result(m->req, MIG_FAILED, "cannot read the session's state: %s", why);
		}
		/* The old socket goes back to the kernel / relay as it was. */
		sqlconn_free(m->old);
		m->old = NULL;
		mig_abort(m, 1);
		return;
	}
	if (m->plan.need_vars) {
		const struct shunt_config *cfg = shunt_cfg(s->sh);
		if (mig_state_build_vars(&m->old_vars) < 0 ||
		    sqlconn_run(m->old, &m->old_vars, cfg->backend_login_timeout_ms, old_vars_done, m) < 0)
			mig_old_broken(m, "out of memory");
		else
			m->old_busy = 1;
		return;
	}
	m->state_ready = 1;
	maybe_replay(m);
}

/* The session is at a safe point and paused: read its state. */
static void at_safe_point(struct migration *m, int held)
{
	struct session *s = m->s;
	const struct shunt_config *cfg = shunt_cfg(s->sh);

	evtimer_del(m->timer);
	m->phase = MP_STATE;
	m->t_safe = clock_mono_us();
	if (held)
		m->t_held = m->t_safe;
	/* The conversation as of this point (what stmt_settle needs). */
	int rc = s->carrier->pause(s, &m->plan.conv);
	if (rc < 0) {
		req_result(m->req, MIG_FAILED, "cannot pause the %s carrier: %s", s->carrier->name,
			   strerror(-rc));
		mig_abort(m, 0);
		return;
	}
	stmt_settle(s->stmts, &m->plan.conv);
	m->old = sqlconn_adopt(s->w->base, s->bfd, s->backend_caps);
	if (!m->old || mig_state_build_capture(&m->capture) < 0 ||
	    sqlconn_run(m->old, &m->capture, cfg->backend_login_timeout_ms, capture_done, m) < 0) {
		req_result(m->req, MIG_FAILED, "out of memory reading the session's state");
		sqlconn_free(m->old);
		m->old = NULL;
		mig_abort(m, 1);
		return;
	}
	m->old_busy = 1;
}

/* ---- waiting ------------------------------------------------------------------------- */

static void poll_cb(evutil_socket_t fd, short what, void *arg)
{
	struct migration *m = arg;
	struct session *s = m->s;
	int held;
	(void)fd;
	(void)what;

	if (m->phase != MP_WAIT)
		return;
	/* Kernel mode: a command the program held for us (tunnel_client_cb
	 * normally sees it first); either mode: an idle session, if asked. */
	if (s->carrier->safe_point(s, &held) && (held || m->req->proactive)) {
		at_safe_point(m, held);
		return;
	}
	if (clock_mono_us() >= m->deadline_us) {
		struct mt_conv conv;
		req_result(m->req, MIG_TIMEOUT, "no safe point within %u ms (%s)",
			   shunt_cfg(s->sh)->migrate_timeout_ms,
			   s->carrier->conv(s, &conv) < 0 ? "the conversation cannot be read"
			   : mig_state_busy_reason(&conv));
		mig_abort(m, 0);
		return;
	}
	struct timeval tv = { 0, MIG_POLL_MS * 1000 };
	evtimer_add(m->timer, &tv);
}

/* The client sent a KILL while the migration waits for a safe point: it
 * ends (busy), and the KILL gets the session. Refused once the session is
 * paused for the move. */
static int mig_yield(struct session *s, void *ctx)
{
	struct migration *m = ctx;
	(void)s;

	if (m->phase != MP_WAIT)
		return -EBUSY;
	req_result(m->req, MIG_BUSY, "the client sent a KILL; not moved");
	mig_abort(m, 0);
	return 0;
}

/* The carrier reached a boundary while asked to stop there: take the
 * session if still waiting for one. */
static int mig_at_boundary(struct session *s, void *ctx, int held)
{
	struct migration *m = ctx;
	(void)s;

	if (m->phase != MP_WAIT)
		return 0;
	at_safe_point(m, held);
	return 1;
}

static void new_vars_done(struct sqlconn *c, int err, void *arg);

/* The new backend failed (res already says why). While a batch still runs
 * on the old socket its answers must be read first, or they would reach
 * the client: the abort then happens when that batch ends. */
static void new_side_failed(struct migration *m)
{
	if (m->old_busy) {
		m->new_failed = 1;
		return;
	}
	mig_abort(m, m->phase != MP_WAIT);
}

static void login_done(struct sqlconn *c, int err, void *arg)
{
	struct migration *m = arg;

	if (err) {
		req_result(m->req, MIG_FAILED, "cannot log in to %s: %s", m->req->res.to,
			   sqlconn_error(c));
		if (m->target)
			pool_note_failure(m->target, sqlconn_error(c));
		new_side_failed(m);
		return;
	}
	m->plan.new_thread_id = sqlconn_thread_id(c);
	memcpy(m->plan.new_scramble, sqlconn_scramble(c), sizeof(m->plan.new_scramble));
	/* What a fresh session there looks like (compared with the old one
	 * if it ran a SET), read while the migration may still be waiting. */
	if (mig_state_build_vars(&m->new_vars) < 0 ||
	    sqlconn_run(c, &m->new_vars, shunt_cfg(m->s->sh)->backend_login_timeout_ms,
			new_vars_done, m) < 0) {
		req_result(m->req, MIG_FAILED, "out of memory");
		new_side_failed(m);
	}
}

static void new_vars_done(struct sqlconn *c, int err, void *arg)
{
	struct migration *m = arg;

	if (err) {
		req_result(m->req, MIG_FAILED, "new backend %s: %s", m->req->res.to, sqlconn_error(c));
		new_side_failed(m);
		return;
	}
	m->neu_ready = 1;
	maybe_replay(m);
}

/* Starts the new backend's login with the session's credentials. */
static int start_login(struct migration *m)
{
	struct session *s = m->s;
	const struct shunt_config *cfg = shunt_cfg(s->sh);
	struct sqlconn_login l;
	struct proto_buf attrs;

	proto_buf_init(&attrs);
	if (s->attrs)
		proto_put_bytes(&attrs, s->attrs, s->attrs_len);
	login_put_proxy_attrs(s->client_addr, &attrs);
	memset(&l, 0, sizeof(l));
	l.addr = &m->target->addr;
	l.user = s->user;
	l.stage1 = s->stage1;
	l.empty_password = s->empty_password;
	l.caps = s->backend_caps;
	l.charset = s->charset;
	l.max_packet = s->max_packet;
	l.attrs = attrs.data;
	l.attrs_len = attrs.len;
	l.timeout_ms = cfg->connect_timeout_ms + cfg->backend_login_timeout_ms;
	m->neu = attrs.err ? NULL : sqlconn_connect(s->w->base, &l, login_done, m);
	proto_buf_free(&attrs);
	return m->neu ? 0 : -ENOMEM;
}

/* ---- the request on the session's worker -------------------------------------------- */

/* The session's worker (xcall run): checks the session can move and
 * starts the migration. */
static void on_target(struct xcall *x)
{
	struct mig_req *r = (struct mig_req *)x;
	struct session *s = sess_find(r->sh, r->id);
	char err[160] = "";

	if (!s || s->state != SESS_RELAY || !s->backend) {
		req_result(r, MIG_NOT_FOUND, "Unknown thread id: %u", r->id);
		req_finish(r, 0);
		return;
	}
	snprintf(r->res.from, sizeof(r->res.from), "%s", s->backend->addr.text);
	const char *cannot = s->carrier ? s->carrier->cannot_switch(s) : "not established";
	if (cannot) {
		req_result(r, MIG_FAILED, "%s", cannot);
		req_finish(r, 0);
		return;
	}
	if (sess_borrower_what(s)) {
		req_result(r, MIG_BUSY, "session %u is busy with a %s", r->id, sess_borrower_what(s));
		req_finish(r, 0);
		return;
	}
	struct backend *target;
	if (r->target[0]) {
		target = pool_take(s->backend->pool, r->target, s->backend->serial, err, sizeof(err));
	} else {
		target = pool_reserve(s->backend->pool, s->backend->serial);
		if (!target)
			snprintf(err, sizeof(err), "no other usable backend in pool %s",
				 s->backend->pool->name);
	}
	if (!target) {
		req_result(r, MIG_NO_TARGET, "%s", err);
		req_finish(r, 0);
		return;
	}
	snprintf(r->res.to, sizeof(r->res.to), "%s", target->addr.text);

	struct migration *m = calloc(1, sizeof(*m));
	if (!m) {
		pool_release(target);
		req_result(r, MIG_FAILED, "out of memory");
		req_finish(r, 0);
		return;
	}
	m->s = s;
	m->req = r;
	m->target = target;
	m->phase = MP_WAIT;
	m->t_start = clock_mono_us();
	m->deadline_us = m->t_start + (uint64_t)shunt_cfg(s->sh)->migrate_timeout_ms * 1000;
	m->timer = evtimer_new(s->w->base, poll_cb, m);
	sess_borrow(s, &mig_borrow, m);     /* free: checked above */
	if (!m->timer || start_login(m) < 0) {
		req_result(r, MIG_FAILED, "out of memory");
		mig_abort(m, 0);
		return;
	}
	if (s->carrier->stop_at_boundary(s, 1) < 0) {
		req_result(r, MIG_FAILED, "cannot ask the %s carrier to stop: %s", s->carrier->name,
			   strerror(errno));
		mig_abort(m, 0);
		return;
	}
	sess_log(s, LOG_DEBUG, "migration (%s) to %s requested", mig_trigger_names[r->why],
		 target->addr.text);
	/* The first look comes one poll later: a program run that read the
	 * control entry before PUNT_ALL was set has finished by then. */
	struct timeval tv = { 0, MIG_POLL_MS * 1000 };
	evtimer_add(m->timer, &tv);
}

struct mig_req *migrate_start(struct shunt *sh, struct event_base *reply_base, uint32_t id,
			      const char *target, enum mig_trigger why, int proactive,
			      mig_done_fn done, void *ctx)
{
	struct mig_req *r = calloc(1, sizeof(*r));
	struct worker *w = worker_of_id(sh, id);

	if (!r)
		return NULL;
	r->sh = sh;
	r->x = (struct xcall){ .reply_base = reply_base, .run = on_target, .deliver = deliver };
	r->id = id;
	if (target)
		snprintf(r->target, sizeof(r->target), "%s", target);
	r->why = why < MIG_TRIGGER__COUNT ? why : MIG_TRIGGER_MANUAL;
	r->proactive = proactive;
	r->done = done;
	r->ctx = ctx;
	if (!w) {
		req_result(r, MIG_NOT_FOUND, "Unknown thread id: %u", id);
		req_finish(r, 0);
	} else if (xcall_post(&r->x, w->base) < 0) {
		free(r);
		return NULL;
	}
	return r;
}

void migrate_cancel(struct mig_req *r)
{
	xcall_cancel(r ? &r->x : NULL);
}
