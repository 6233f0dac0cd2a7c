/* migrate.c — moving a live session to another backend (migrate.h).
 *
 * The move on the session's worker, step by step:
 *
 *   request   count the session on its target; start connecting and logging
 *             in to it at once (so the client waits for as little as
 *             possible later); ask the session to stop at a safe point
 *             (TUN_CTL_PUNT_ALL in kernel mode, s->mig in the relay)
 *   safe      a command was held there (the client waits from now on), or
 *             the session sat idle and the request is proactive: borrow
 *             the old backend socket and read the session's state from it
 *   replay    once both the state and the new login are there: replay the
 *             state and re-prepare the statements on the new backend
 *   switch    the new backend socket replaces the old one (sockhash and
 *             tunnel_ctl.backend_cookie in kernel mode; the relay's events
 *             in user mode); the held command goes on to the new backend;
 *             the old connection gets COM_QUIT and is closed
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
#include "core/fastpath.h"
#include "util/log.h"
#include "migrate/migrate.h"
#include "migrate/mig_state.h"
#include "session/session.h"
#include "mysql/sqlconn.h"
#include "mysql/stmt.h"
#include "core/worker.h"

#define MIG_POLL_MS 5                 /* how often a waiting request looks again */

const char *const mig_trigger_names[MIG_TRIGGER__COUNT] = {
	"manual", "drain", "rebalance", "failover",
};
const char *const mig_outcome_names[MIG_OUTCOME__COUNT] = {
	"ok", "failed", "timeout", "sticky", "not_found", "busy", "no_target", "closed",
};

/* The request, shared by the requester's thread and the worker. */
struct mig_req {
	struct shunt *sh;
	struct event_base *reply_base;   /* NULL: nobody waits */
	uint32_t id;
	char target[CFG_ADDR_MAX];       /* "" = the pool picks */
	enum mig_trigger why;
	int proactive;
	mig_done_fn done;
	void *ctx;
	int cancelled;                   /* requester's thread only */
	struct mig_result res;
};

enum mig_phase {
	MP_WAIT,         /* for a safe point */
	MP_STATE,        /* reading the state from the old backend */
	MP_REPLAY,       /* replaying it on the new one */
};

/* A migration in progress (s->mig), owned by the session's worker. */
struct migration {
	struct session *s;
	struct mig_req *req;
	enum mig_phase phase;
	struct backend *target;          /* counted in its pool until switched or failed */
	struct event *timer;
	uint64_t t_start, t_safe, t_held;    /* sess_now_us() marks; 0 = not yet */
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

static void deliver_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mig_req *r = arg;
	(void)fd;
	(void)what;

	if (!r->cancelled && r->done)
		r->done(r->ctx, &r->res);
	free(r);
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
	if (!r->reply_base ||
	    event_base_once(r->reply_base, -1, EV_TIMEOUT, deliver_cb, r, NULL) < 0)
		free(r);
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

/* Kernel mode: changes the control entry's flags (read, modify, write:
 * this worker is its only writer). */
static int ctl_flags(struct session *s, uint32_t set, uint32_t clear)
{
	struct tunnel_ctl ctl;

	if (fp_ctl_get(s->ccookie, &ctl) < 0)
		return -errno;
	ctl.flags = (ctl.flags | set) & ~clear;
	return fp_ctl_set(s->ccookie, &ctl) < 0 ? -errno : 0;
}

/* Whether the session is at a safe point now. *held: a client command
 * waits in user space (kernel: the program held it for the migration;
 * user: the client socket has bytes). */
static int safe_now(struct session *s, int *held)
{
	*held = 0;
	if (s->kernel) {
		struct tunnel t;
		if (fp_tunnel_get(s->ccookie, &t) < 0)
			return 0;
		if (t.state == TUN_ST_HELD && t.punt_reason == TUN_PUNT_ALL &&
		    t.passed_bytes > s->passed_read) {
			*held = 1;
			return 1;
		}
		return t.state == TUN_ST_FORWARD && t.passed_bytes == s->passed_read &&
		       mt_movable(&t.conv);
	}
	return relay_movable(s);
}

/* Stops everything that reads the session's sockets (the migration owns
 * them until it ends). */
static void pause_session(struct session *s)
{
	if (s->kernel) {
		event_del(s->cev);
		event_del(s->bev_ev);
	} else {
		relay_pause(s);
	}
}

/* Lets the session run again and serves whatever waited meanwhile. */
static void resume_session(struct session *s)
{
	if (s->kernel)
		tunnel_resume(s);
	else
		relay_resume(s);
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
	uint64_t now = sess_now_us();

	s->mig = NULL;
	if (s->kernel && ctl_flags(s, 0, TUN_CTL_PUNT_ALL | TUN_CTL_BACKEND_PASS) < 0)
		sess_log(s, LOG_WARN, "migration: cannot clear the tunnel's flags: %s", strerror(errno));
	r->res.wait_us = m->t_safe ? m->t_safe - m->t_start : now - m->t_start;
	r->res.held_us = m->t_held ? now - m->t_held : 0;
	sess_log(s, r->res.outcome == MIG_STICKY || r->res.outcome == MIG_TIMEOUT ? LOG_INFO : LOG_WARN,
		 "migration (%s) to %s: %s after %.1f ms: %s", mig_trigger_names[r->why],
		 r->res.to[0] ? r->res.to : "-", mig_outcome_names[r->res.outcome],
		 (double)(now - m->t_start) / 1000.0, r->res.msg);
	req_finish(r, now - m->t_start);
	mig_free(m);
	if (paused)
		resume_session(s);
}

/* The migration failed in a way the session cannot survive (res says
 * why): it ends, and the session with it. */
static void mig_close_session(struct migration *m)
{
	struct session *s = m->s;

	s->mig = NULL;
	sess_log(s, LOG_WARN, "migration: %s; closing the session", m->req->res.msg);
	req_finish(m->req, sess_now_us() - m->t_start);
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

void migrate_session_gone(struct session *s)
{
	struct migration *m = s->mig;

	if (!m)
		return;
	s->mig = NULL;
	if (m->req) {
		req_result(m->req, MIG_CLOSED, "the session ended during the migration");
		req_finish(m->req, sess_now_us() - m->t_start);
	}
	mig_free(m);
}

/* ---- the switch -------------------------------------------------------------------- */

/* Sends COM_QUIT to the old backend and closes it (best effort). */
static void quit_and_close(int fd)
{
	static const uint8_t quit[] = { 1, 0, 0, 0, COM_QUIT };

	if (send(fd, quit, sizeof(quit), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		(void)0;    /* it is going away either way */
	close(fd);
}

/* Replaces the old backend connection by the new one. Returns 0; -EPIPE
 * when the session cannot go on (res says why; the caller closes it);
 * other -errno before anything changed (the session stays on the old
 * one). */
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

static int switch_backend(struct migration *m)
{
	struct session *s = m->s;
	int nfd, ofd = s->bfd;
	uint64_t ncookie = 0, old_cookie = s->bcookie;
	char why[200];

	nfd = sqlconn_take_fd(m->neu);
	m->neu = NULL;
	if (nfd < 0) {
		req_result(m->req, MIG_FAILED, "the new backend connection had unread bytes");
		return -EPROTO;
	}
	if (s->kernel) {
		struct fp_tunnel_spec spec;
		struct tunnel t;
		if (fp_sock_cookie(nfd, &ncookie) < 0 || fp_tunnel_get(s->ccookie, &t) < 0) {
			close(nfd);
			req_result(m->req, MIG_FAILED, "cannot read the tunnel: %s", strerror(errno));
			return -EIO;
		}
		memset(&spec, 0, sizeof(spec));
		spec.ccookie = s->ccookie;
		spec.bfd = nfd;
		spec.bcookie = ncookie;
		spec.conn_id = s->id;
		spec.backend_id = (uint32_t)m->target->serial;
		spec.caps = s->backend_caps;
		spec.status = t.conv.status;
		spec.backend_sa = (const struct sockaddr *)&m->target->addr.sa;
		if (fp_tunnel_add_backend(&spec, why, sizeof(why)) < 0) {
			close(nfd);
			req_result(m->req, MIG_FAILED, "%s", why);
			return -EIO;
		}
		struct tunnel_ctl ctl;
		if (fp_ctl_get(s->ccookie, &ctl) < 0) {
			fp_tunnel_drop_backend(ncookie);
			close(nfd);
			req_result(m->req, MIG_FAILED, "cannot read the tunnel's control entry");
			return -EIO;
		}
		/* From here on client bytes the kernel forwards go to the new
		 * backend, with statement ids as it knows them; the held ones
		 * are forwarded by tunnel_resume(). */
		ctl.backend_cookie = ncookie;
		ctl.flags &= ~(TUN_CTL_PUNT_ALL | TUN_CTL_BACKEND_PASS);
		if (set_backend_ids(m, 1) < 0 || tunnel_xlate_sync(s, &ctl) < 0 ||
		    fp_ctl_set(s->ccookie, &ctl) < 0) {
			set_backend_ids(m, 0);
			struct tunnel_ctl ignored = ctl;
			tunnel_xlate_sync(s, &ignored);
			fp_tunnel_drop_backend(ncookie);
			close(nfd);
			req_result(m->req, MIG_FAILED, "cannot point the tunnel at the new backend");
			return -EIO;
		}
		fp_tunnel_drop_backend(old_cookie);
		s->bcookie = ncookie;
		s->redirected_base = t.bytes;
		s->user_written = 0;
		s->bfd_base = 0;
		s->bfd = nfd;
		if (tunnel_backend_changed(s, nfd) < 0) {
			/* switched, but the new socket cannot be watched */
			s->bfd = ofd;   /* closed with the session; nfd below */
			close(nfd);
			req_result(m->req, MIG_FAILED, "out of memory after the switch; session closed");
			return -EPIPE;
		}
	} else if (set_backend_ids(m, 1) < 0 || relay_backend_changed(s, nfd) < 0) {
		set_backend_ids(m, 0);
		close(nfd);
		req_result(m->req, MIG_FAILED, "out of memory");
		return -ENOMEM;         /* nothing changed yet */
	} else {
		/* The relay stopped at a command boundary. */
		stmt_xlate_reset(&s->xl, 0, 0);
	}
	s->bfd = nfd;
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
	struct backend *old = s->backend;
	uint32_t old_thread = s->backend_thread_id;

	s->backend_thread_id = m->plan.new_thread_id;
	memcpy(s->backend_scramble, m->plan.new_scramble, sizeof(s->backend_scramble));
	int rc = switch_backend(m);
	if (rc == -EPIPE) {
		mig_close_session(m);
		return;
	}
	if (rc < 0) {
		s->backend_thread_id = old_thread;
		mig_abort(m, 1);
		return;
	}
	s->backend = m->target;
	m->target = NULL;
	pool_note_arrival(s->backend);
	pool_release(old);
	s->migrations++;
	s->sticky[0] = '\0';
	stmt_moved(s->stmts);
	/* The first execute of each statement must come to user space now,
	 * to get its parameter types back. */
	if (s->kernel) {
		struct tunnel_ctl ctl;
		if (fp_ctl_get(s->ccookie, &ctl) == 0) {
			ctl.exec_watch = stmt_exec_watch(s->stmts);
			if (fp_ctl_set(s->ccookie, &ctl) < 0)
				sess_log(s, LOG_WARN, "migration: cannot ask for executes: %s", strerror(errno));
		}
	}
	s->mig = NULL;
	uint64_t now = sess_now_us();
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
	resume_session(s);
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
	m->t_safe = sess_now_us();
	if (held)
		m->t_held = m->t_safe;
	pause_session(s);
	/* The conversation as of this point (what stmt_settle needs). */
	if (s->kernel) {
		struct tunnel t;
		if (fp_tunnel_get(s->ccookie, &t) < 0 ||
		    ctl_flags(s, TUN_CTL_BACKEND_PASS, 0) < 0) {
			req_result(m->req, MIG_FAILED, "cannot read or change the tunnel: %s", strerror(errno));
			mig_abort(m, 1);
			return;
		}
		m->plan.conv = t.conv;
	} else {
		m->plan.conv = s->relay.conv;
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
	if (safe_now(s, &held) && (held || m->req->proactive)) {
		at_safe_point(m, held);
		return;
	}
	if (sess_now_us() >= m->deadline_us) {
		req_result(m->req, MIG_TIMEOUT, "no safe point within %u ms (%s)",
			   shunt_cfg(s->sh)->migrate_timeout_ms, mig_state_busy_reason(s));
		mig_abort(m, 0);
		return;
	}
	struct timeval tv = { 0, MIG_POLL_MS * 1000 };
	evtimer_add(m->timer, &tv);
}

int migrate_at_boundary(struct session *s, int held)
{
	struct migration *m = s->mig;

	if (!m || m->phase != MP_WAIT)
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
	backend_put_proxy_attrs(s, &attrs);
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

static void on_target_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mig_req *r = arg;
	struct session *s = worker_find_session(r->sh, r->id);
	char err[160] = "";
	(void)fd;
	(void)what;

	if (!s || s->state != SESS_RELAY || !s->backend) {
		req_result(r, MIG_NOT_FOUND, "Unknown thread id: %u", r->id);
		req_finish(r, 0);
		return;
	}
	snprintf(r->res.from, sizeof(r->res.from), "%s", s->backend->addr.text);
	/* In stream-parser mode the strparser of the old backend socket does
	 * not hand shunt's own answers back reliably (seen: a capture that
	 * never arrived, a client stalled after a refused move). Until that
	 * is understood, such sessions are not moved rather than risked. */
	if (s->kernel && strcmp(fp_mode_name(), "stream_parser") == 0) {
		req_result(r, MIG_FAILED, "migration is not supported in stream-parser mode");
		req_finish(r, 0);
		return;
	}
	if (s->mig || s->kill_pending) {
		req_result(r, MIG_BUSY, "session %u is busy with a %s", r->id,
			   s->mig ? "migration" : "KILL");
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
	m->t_start = sess_now_us();
	m->deadline_us = m->t_start + (uint64_t)shunt_cfg(s->sh)->migrate_timeout_ms * 1000;
	m->timer = evtimer_new(s->w->base, poll_cb, m);
	s->mig = m;
	if (!m->timer || start_login(m) < 0) {
		req_result(r, MIG_FAILED, "out of memory");
		mig_abort(m, 0);
		return;
	}
	if (s->kernel && ctl_flags(s, TUN_CTL_PUNT_ALL, 0) < 0) {
		req_result(r, MIG_FAILED, "cannot set the tunnel's flags: %s", strerror(errno));
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
	r->reply_base = reply_base;
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
	} else if (event_base_once(w->base, -1, EV_TIMEOUT, on_target_cb, r, NULL) < 0) {
		free(r);
		return NULL;
	}
	return r;
}

void migrate_cancel(struct mig_req *r)
{
	if (r)
		r->cancelled = 1;
}
