/* session.c — a session's identity and lifecycle (session.h): the state
 * machine, the phase timer, the borrow slot, closing and freeing. The
 * client's login is client_login.c, the backend's backend.c, and the
 * established session belongs to its carrier. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include "core/worker.h"
#include "mysql/pktio.h"
#include "mysql/stmt.h"
#include "session/session.h"
#include "util/addr.h"
#include "util/clock.h"

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

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;
	(void)fd;
	(void)what;

	if (s->on_timeout)
		s->on_timeout(s);
	else
		sess_free(s);
}

void sess_arm_timer(struct session *s, unsigned ms, void (*on_timeout)(struct session *s))
{
	if (!ms) {
		evtimer_del(s->timer);
		return;
	}
	s->on_timeout = on_timeout;
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };
	evtimer_add(s->timer, &tv);
}

void sess_login_failed(struct session *s, enum login_fail why)
{
	STAT_ADD(s->sh, login_failed_by[why], 1);
	/* What the client got wrong counts against its address
	 * (login_failures_per_source), as MariaDB counts handshake errors
	 * towards max_connect_errors. */
	if (why == LOGIN_FAIL_ACCESS_DENIED || why == LOGIN_FAIL_PROTOCOL ||
	    why == LOGIN_FAIL_TIMEOUT)
		climit_login_failed(shunt_cfg(s->sh), &s->src, clock_mono_us() / 1000);
}

struct session *sess_new(struct listener_ctx *lc, int fd, const struct sockaddr *sa, int salen)
{
	struct shunt *sh = lc->w->sh;
	struct session *s = calloc(1, sizeof(*s));
	int one = 1;

	if (!s) {
		close(fd);
		return NULL;
	}
	s->sh = sh;
	s->w = lc->w;
	s->lc = lc;
	s->id = lc->w->next_id;
	lc->w->next_id = lc->w->next_id > UINT32_MAX - sh->n_workers ? lc->w->idx + 1
		: lc->w->next_id + sh->n_workers;
	s->started_ms = clock_wall_ms();
	s->state = SESS_GREETING;
	s->cfd = s->bfd = -1;
	TAILQ_INSERT_TAIL(&lc->w->sessions, s, link);
	addr_format(sa, s->client_addr, sizeof(s->client_addr));
	if ((size_t)salen <= sizeof(s->client_sa))
		memcpy(&s->client_sa, sa, (size_t)salen);
	atomic_fetch_add_explicit(&lc->stats->sessions_total, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&lc->stats->sessions_now, 1, memory_order_relaxed);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

	s->cbev = bufferevent_socket_new(lc->w->base, fd, BEV_OPT_CLOSE_ON_FREE);
	s->timer = evtimer_new(lc->w->base, timer_cb, s);
	if (!s->cbev || !s->timer) {
		if (!s->cbev)
			close(fd);
		sess_log(s, LOG_ERROR, "cannot set up session: out of memory");
		sess_free(s);
		return NULL;
	}
	return s;
}

void sess_free(struct session *s)
{
	if (!s)
		return;
	/* The borrower first: it may hold the backend socket. */
	if (s->borrower) {
		const struct sess_borrow_ops *b = s->borrower;
		void *ctx = s->borrower_ctx;
		s->borrower = NULL;
		s->borrower_ctx = NULL;
		if (b->gone)
			b->gone(s, ctx);
	}
	if (s->carrier)
		s->carrier->free(s);
	s->carrier = NULL;
	if (s->cfd >= 0)
		close(s->cfd);
	if (s->bfd >= 0)
		close(s->bfd);
	sess_log(s, LOG_DEBUG, "closed in state %s", state_names[s->state]);
	if (s->climit_admitted)
		climit_close(shunt_cfg(s->sh), &s->src, s->climit_user[0] ? s->climit_user : NULL,
			     clock_mono_us() / 1000);
	s->climit_admitted = 0;
	if (s->timer)
		event_free(s->timer);
	if (s->cbev)
		bufferevent_free(s->cbev);
	if (s->bbev)
		bufferevent_free(s->bbev);
	pool_release(s->backend);
	TAILQ_REMOVE(&s->w->sessions, s, link);
	atomic_fetch_sub_explicit(&s->lc->stats->sessions_now, 1, memory_order_relaxed);
	auth_wipe(s->stage1, sizeof(s->stage1));
	stmt_table_free(s->stmts);
	free(s->db);
	free(s->attrs);
	free(s);
}

struct session *sess_find(struct shunt *sh, uint32_t id)
{
	struct worker *w = worker_of_id(sh, id);
	struct session *s;

	if (!w)
		return NULL;
	TAILQ_FOREACH(s, &w->sessions, link)
		if (s->id == id && s->state != SESS_CLOSING)
			return s;
	return NULL;
}

void sess_close_all(struct worker *w)
{
	struct session *s;

	while ((s = TAILQ_FIRST(&w->sessions)) != NULL)
		sess_free(s);
}

/* ---- the borrow slot ---- */

int sess_borrow(struct session *s, const struct sess_borrow_ops *ops, void *ctx)
{
	if (s->borrower)
		return -EBUSY;
	s->borrower = ops;
	s->borrower_ctx = ctx;
	return 0;
}

int sess_borrow_over(struct session *s, const struct sess_borrow_ops *ops, void *ctx)
{
	if (s->borrower && (!s->borrower->yield || s->borrower->yield(s, s->borrower_ctx) < 0 ||
			    s->borrower))
		return -EBUSY;
	return sess_borrow(s, ops, ctx);
}

void sess_unborrow(struct session *s, void *ctx)
{
	if (s->borrower_ctx != ctx) {
		sess_log(s, LOG_ERROR, "internal: returned by someone who did not borrow it");
		return;
	}
	s->borrower = NULL;
	s->borrower_ctx = NULL;
}

const char *sess_borrower_what(const struct session *s)
{
	return s->borrower ? s->borrower->what : NULL;
}

void *sess_borrowed_by(const struct session *s, const struct sess_borrow_ops *ops)
{
	return s->borrower == ops ? s->borrower_ctx : NULL;
}

int sess_at_boundary(struct session *s, int held)
{
	if (!s->borrower || !s->borrower->at_boundary)
		return 0;
	return s->borrower->at_boundary(s, s->borrower_ctx, held);
}

/* ---- the client ---- */

int sess_send_client(struct session *s, const struct proto_buf *payload)
{
	return pktio_send(s->cbev, &s->client_seq, payload);
}

void sess_client_host(const struct session *s, char *out, size_t n)
{
	snprintf(out, n, "%s", s->client_addr);
	char *colon = strrchr(out, ':');
	if (colon)
		*colon = '\0';
}

void sess_access_denied_msg(const struct session *s, const char *user, size_t user_len,
			    int used_password, char *out, size_t n)
{
	char host[64];

	sess_client_host(s, host, sizeof(host));
	snprintf(out, n, "Access denied for user '%.*s'@'%s' (using password: %s)",
		 (int)(user_len < 64 ? user_len : 64), user, host, used_password ? "YES" : "NO");
}

int sess_set_identity(struct session *s, const uint8_t *user, size_t user_len,
		      const uint8_t stage1[AUTH_SHA1_LEN], int empty_password,
		      const uint8_t *db, size_t db_len)
{
	char *ndb = NULL;

	if (user_len >= sizeof(s->user))
		return -EINVAL;
	if (db_len && !(ndb = strndup((const char *)db, db_len)))
		return -ENOMEM;
	memcpy(s->user, user, user_len);
	s->user[user_len] = '\0';
	memcpy(s->stage1, stage1, AUTH_SHA1_LEN);
	s->empty_password = empty_password;
	free(s->db);
	s->db = ndb;
	return 0;
}

void sess_client_wait(struct session *s, bufferevent_event_cb on_event)
{
	bufferevent_setcb(s->cbev, NULL, NULL, on_event, s);
	bufferevent_disable(s->cbev, EV_READ);
}

/* ---- closing during the login ---- */

/* Closes the session once the client's output queue is flushed. */
static void closing_write_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	sess_free(arg);
}

static void closing_event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	(void)what;
	sess_free(arg);
}

static void closing_timeout(struct session *s)
{
	sess_log(s, LOG_DEBUG, "client did not take the final packet in time");
	sess_free(s);
}

void sess_close_after_flush(struct session *s)
{
	if (sess_set_state(s, SESS_CLOSING) < 0 || !s->cbev) {
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
	sess_arm_timer(s, 5000, closing_timeout);
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
