/* relay.c — the user-space relay of an established session (see relay.h).
 *
 * Why not bufferevents, as for the handshake? Measured under sysbench
 * point_select at 8 threads, libevent's bufferevents spent about 5.5
 * system calls per forwarded message (readv, an ioctl(FIONREAD) before
 * each read, writev deferred to the next loop turn, two epoll_ctl to arm
 * and disarm write-readiness) against HAProxy's 2.8, and the relay came
 * out at 0.89 of HAProxy. This is the hot path of the fallback, so it is
 * written by hand: recv, track, send, and EV_WRITE only while a peer is
 * full. */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <event2/event.h>
#include "mysql/pktio.h"
#include "mysql/stmt.h"
#include "session/change_user.h"
#include "session/kill.h"
#include "session/relay.h"
#include "session/session.h"
#include "util/clock.h"
#include "util/log.h"

/* Reads per readiness event before going back to the loop: enough to
 * stream a large result in big steps, few enough to stay fair. */
#define RELAY_READS_PER_EVENT 4
/* A COM_CHANGE_USER larger than this is refused. */
#define RELAY_HOLD_MAX (1 << 20)

uint32_t relay_track(struct relay *r, int to_server, const uint8_t *p, size_t len)
{
	struct mt_frame *f = to_server ? &r->cf : &r->sf;
	uint32_t ev = 0;
	int off = 0;

	while ((size_t)off < len) {
		int pkt = 0;
		off = mt_frame_step(f, (void *)p, (__u32)off, (__u32)len, &pkt);
		if (off < 0)
			break;
		if (pkt)
			ev |= to_server ? mt_client_packet(&r->conv, f) : mt_server_packet(&r->conv, f);
	}
	return ev;
}

static size_t relay_chunk(const struct session *s)
{
	size_t c = shunt_cfg(s->sh)->relay_buffer;
	return c < RELAY_CHUNK_MAX ? c : RELAY_CHUNK_MAX;
}

/* Ends the session, logging whether a response was cut short. */
static void relay_end(struct session *s, int from_client, const char *how)
{
	if (!mt_idle(&((struct relay *)s->carrier_data)->conv))
		sess_log(s, LOG_INFO, "%s %s mid-response (command 0x%02x)",
			 from_client ? "client" : "backend", how, ((struct relay *)s->carrier_data)->conv.cmd);
	else
		sess_log(s, LOG_DEBUG, "%s %s", from_client ? "client" : "backend", how);
	sess_free(s);
}

/* Sends data to fd; what fd does not take now is queued in q, and the
 * relay switches from reading the source (src_rd) to waiting for fd to be
 * writable (dst_wr). 0, or -errno when the destination failed. */
static int send_or_keep(int fd, const uint8_t *data, size_t len, struct outq *q,
			struct event *src_rd, struct event *dst_wr)
{
	int rc = outq_send(q, fd, data, len, NULL);

	if (rc < 0)
		return rc;
	if (rc == 0) {
		event_del(src_rd);
		event_add(dst_wr, NULL);
	}
	return 0;
}

/* Queues bytes shunt itself answers the client with (a KILL's answer, a
 * refused change-user's ERR) behind whatever the client has not taken
 * yet, and has them written on EV_WRITE. 0 or -ENOMEM. */
static int relay_answer_client(struct session *s, const struct proto_buf *pkt)
{
	struct relay *r = s->carrier_data;

	if (pkt->err || outq_append(&r->s2c, pkt->data, pkt->len) < 0)
		return -ENOMEM;
	event_del(r->brd);      /* resumed once the queue is empty */
	event_add(r->cwr, NULL);
	return 0;
}

static void relay_closing_timeout(struct session *s)
{
	sess_log(s, LOG_DEBUG, "client did not take its last answer in time");
	sess_free(s);
}

/* Ends the session once the client has taken what is queued for it
 * (bounded by a 5 s timer). */
static void relay_close_after_flush(struct session *s)
{
	struct relay *r = s->carrier_data;

	r->closing = 1;
	event_del(r->crd);
	event_del(r->brd);
	sess_arm_timer(s, 5000, relay_closing_timeout);
	if (outq_empty(&r->s2c))
		sess_free(s);
}

/* Whether the client's next byte starts a command: no response pending
 * and no client packet half-read. */
static int at_boundary(const struct relay *r)
{
	return mt_idle(&r->conv) && r->cf.hdr_have == 0 && r->cf.remaining == 0;
}

/* Commands user space must see whole (relay.h): a COM_CHANGE_USER to
 * rewrite, and what the statement table follows (payload: at least the
 * command byte and, for an execute, its statement id). */
static int held_command(const struct session *s, const uint8_t *payload, size_t len)
{
	uint8_t cmd = payload[0];

	if (cmd == COM_STMT_EXECUTE)
		return len >= 5 && stmt_watches(s->stmts, (uint32_t)payload[1] | (uint32_t)payload[2] << 8 |
						(uint32_t)payload[3] << 16 | (uint32_t)payload[4] << 24);
	return cmd == COM_CHANGE_USER || cmd == COM_STMT_PREPARE || cmd == COM_STMT_CLOSE ||
	       cmd == COM_RESET_CONNECTION;
}

/* Client bytes at a command boundary that start a command user space
 * must see whole (held_command) are collected in r->hold until its first
 * packet is complete; then a COM_CHANGE_USER is rewritten for the backend
 * (change_user.c) and statements are noted (stmt.c). Returns 0 with data
 * and len set to what to forward (possibly pointing into out), 1 when
 * the bytes were kept, -1 when the session was refused (freed, or
 * closing once the client has its ERR). */
static int filter_command(struct session *s, const uint8_t **data, size_t *len,
			  struct proto_buf *out)
{
	struct relay *r = s->carrier_data;
	struct proto_buf err;
	size_t wire, plen;
	uint8_t seq, last;

	if (r->hold.len == 0 &&
	    !(at_boundary(r) && *len > MYSQL_HDR_LEN && (*data)[3] == 0 &&
	      held_command(s, *data + MYSQL_HDR_LEN, *len - MYSQL_HDR_LEN)))
		return 0;
	proto_put_bytes(&r->hold, *data, *len);
	if (r->hold.err || r->hold.len > RELAY_HOLD_MAX) {
		sess_log(s, LOG_WARN, "command too large to hold, or out of memory");
		sess_free(s);
		return -1;
	}
	if (proto_frame_logical(r->hold.data, r->hold.len, &wire, &plen, &seq, &last) < 0)
		return 1;
	if (r->hold.data[MYSQL_HDR_LEN] == COM_CHANGE_USER) {
		proto_buf_init(&err);
		stmt_on_client_command(s->stmts, r->hold.data + MYSQL_HDR_LEN, plen);
		int rc = sess_split_change_users(s, r->hold.data, r->hold.len, out, &err);
		proto_buf_reset(&r->hold);
		if (rc < 0) {
			struct proto_buf pkt;
			proto_buf_init(&pkt);
			change_user_refusal(&err, &pkt);
			proto_buf_free(&err);
			if (relay_answer_client(s, &pkt) < 0)
				sess_free(s);
			else
				relay_close_after_flush(s);
			proto_buf_free(&pkt);
			return -1;
		}
		proto_buf_free(&err);
	} else {
		if (!stmt_note_commands(&s->stmts, &r->conv, r->hold.data, 0, r->hold.len, out))
			proto_put_bytes(out, r->hold.data, r->hold.len);
		proto_buf_reset(&r->hold);
	}
	*data = out->data;
	*len = out->len;
	return 0;
}

/* Command counts and latency (SHOW TUNNELS, /metrics): a command timed
 * from its first byte to the end of its response, as the kernel does. */
static void note_command(struct session *s, uint32_t ev, int to_server)
{
	struct relay *r = s->carrier_data;

	if (to_server && (ev & MT_EV_CMD_START)) {
		STAT_ADD(s->sh, relay_commands, 1);
		if (!(ev & MT_EV_RESP_END))
			r->cmd_start_us = clock_mono_us();
	} else if (!to_server && (ev & MT_EV_RESP_END) && r->cmd_start_us && mt_idle(&r->conv)) {
		r->last_latency_us = clock_mono_us() - r->cmd_start_us;
		r->cmd_start_us = 0;
	}
}

/* Answers the client's KILL (kill.c is done) behind whatever the client
 * has not taken yet, and reads the client again; 1927 (the client killed
 * its own connection) ends the session once the answer is out. */
static void relay_kill_resume(struct session *s, const struct kill_result *res)
{
	struct relay *r = s->carrier_data;
	struct proto_buf pkt;

	proto_buf_init(&pkt);
	kill_build_answer(res, r->conv.caps, r->conv.status, &pkt);
	int rc = relay_answer_client(s, &pkt);
	proto_buf_free(&pkt);
	if (rc < 0) {
		sess_log(s, LOG_WARN, "out of memory answering a KILL");
		sess_free(s);
		return;
	}
	if (res->code == ER_CONNECTION_KILLED) {
		sess_log(s, LOG_INFO, "the client killed its own connection");
		relay_close_after_flush(s);
		return;
	}
	event_add(r->crd, NULL);
}

/* A KILL at a command boundary that arrived whole, alone in this read,
 * is carried out by shunt (kill.c) rather than by the backend, which
 * knows nothing of shunt's connection ids. Returns 1 when taken (the
 * client is not read until it is answered), 0 to forward the bytes. */
static int filter_kill(struct session *s, const uint8_t *data, size_t len)
{
	struct relay *r = s->carrier_data;

	if (!at_boundary(r) || !kill_from_client(s, data, len, relay_kill_resume))
		return 0;
	event_del(r->crd);
	return 1;
}

static int relay_movable(struct session *s);

/* One direction is readable: read, track, send, until the source is empty,
 * the destination is full, or RELAY_READS_PER_EVENT reads were made. */
static void relay_readable(struct session *s, int to_server)
{
	static __thread uint8_t scratch[RELAY_CHUNK_MAX];
	struct relay *r = s->carrier_data;
	int from = to_server ? s->cfd : s->bfd;
	int to = to_server ? s->bfd : s->cfd;
	struct outq *p = to_server ? &r->c2s : &r->s2c;
	struct event *src_rd = to_server ? r->crd : r->brd;
	struct event *dst_wr = to_server ? r->bwr : r->cwr;
	size_t chunk = relay_chunk(s);

	/* A borrower (a migration) waits for this boundary: the client's
	 * command stays in the socket until it gives the session back. */
	if (to_server && s->borrower && relay_movable(s) && sess_at_boundary(s, 1))
		return;
	for (int i = 0; i < RELAY_READS_PER_EVENT && outq_empty(p); i++) {
		ssize_t n = recv(from, scratch, chunk, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			relay_end(s, to_server, "failed");
			return;
		}
		if (n == 0) {
			relay_end(s, to_server, "closed");
			return;
		}
		const uint8_t *data = scratch;
		size_t len = (size_t)n;
		struct proto_buf out;
		proto_buf_init(&out);
		if (to_server) {
			int rc = filter_command(s, &data, &len, &out);
			if (rc < 0) {
				proto_buf_free(&out);
				return;         /* the session is gone */
			}
			if (rc > 0) {
				proto_buf_free(&out);
				continue;       /* collecting a command */
			}
			if (filter_kill(s, data, len)) {
				proto_buf_free(&out);
				return;         /* shunt answers it; reading resumes then */
			}
		}
		uint32_t ev = relay_track(r, to_server, data, len);
		if (ev & MT_EV_UNEXPECTED)
			sess_log(s, LOG_DEBUG, "tracker: unexpected %s packet (state %u)",
				 to_server ? "client" : "server", r->conv.rstate);
		if (ev & (MT_EV_CMD_START | MT_EV_RESP_END))
			note_command(s, ev, to_server);
		if (to_server) {
			r->bytes_c2s += len;
			STAT_ADD(s->sh, relay_bytes_c2s, len);
		} else {
			r->bytes_s2c += len;
			STAT_ADD(s->sh, relay_bytes_s2c, len);
		}
		/* Statement ids the new backend knows under others (a move):
		 * translated last, so everything above sees the client's. */
		struct proto_buf xo;
		proto_buf_init(&xo);
		if (to_server && !(data = stmt_xlate_pass(&s->xl, s->stmts, data, &len, &xo))) {
			proto_buf_free(&out);
			proto_buf_free(&xo);
			sess_log(s, LOG_WARN, "out of memory translating statement ids");
			sess_free(s);
			return;
		}
		int rc = send_or_keep(to, data, len, p, src_rd, dst_wr);
		proto_buf_free(&out);
		proto_buf_free(&xo);
		if (rc < 0) {
			relay_end(s, !to_server, "failed");
			return;
		}
		if ((size_t)n < chunk)
			return;                 /* the socket is very likely empty */
	}
}

/* A full destination became writable: send what it kept, then read again. */
static void relay_writable(struct session *s, int to_server)
{
	struct relay *r = s->carrier_data;
	struct outq *p = to_server ? &r->c2s : &r->s2c;
	int to = to_server ? s->bfd : s->cfd;

	int rc = outq_flush(p, to, NULL);
	if (rc == 0)
		return;
	if (rc < 0) {
		relay_end(s, !to_server, "failed");
		return;
	}
	event_del(to_server ? r->bwr : r->cwr);
	if (r->closing) {
		if (!to_server)
			sess_free(s);
		return;
	}
	event_add(to_server ? r->crd : r->brd, NULL);
	relay_readable(s, to_server);
}

static void client_readable_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	relay_readable(arg, 1);
}

static void backend_readable_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	relay_readable(arg, 0);
}

static void backend_writable_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	relay_writable(arg, 1);
}

static void client_writable_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	relay_writable(arg, 0);
}

/* ---- the carrier interface ---------------------------------------------- */

/* Whether the session may move now: a movable conversation and nothing
 * half-read or unsent either way. */
static int relay_movable(struct session *s)
{
	const struct relay *r = s->carrier_data;

	return mt_movable(&r->conv) && at_boundary(r) && r->sf.hdr_have == 0 &&
	       r->sf.remaining == 0 && outq_empty(&r->c2s) && outq_empty(&r->s2c) &&
	       r->hold.len == 0 && !r->closing && !stmt_xlate_pending(&s->xl);
}

static int relay_conv(struct session *s, struct mt_conv *out)
{
	*out = ((struct relay *)s->carrier_data)->conv;
	return 0;
}

static int relay_safe_point(struct session *s, int *held)
{
	*held = 0;
	return relay_movable(s);
}

static const char *relay_cannot_switch(struct session *s)
{
	(void)s;
	return NULL;
}

/* The relay looks at the borrow slot at every client read: nothing to arm. */
static int relay_stop_at_boundary(struct session *s, int on)
{
	(void)s;
	(void)on;
	return 0;
}

static int relay_pause(struct session *s, struct mt_conv *conv)
{
	struct relay *r = s->carrier_data;

	event_del(r->crd);
	event_del(r->brd);
	event_del(r->cwr);
	event_del(r->bwr);
	*conv = r->conv;
	return 0;
}

static int relay_switch_backend(struct session *s, int fd, const struct backend *to, int *old_fd)
{
	struct relay *r = s->carrier_data;
	struct event *rd = event_new(s->w->base, fd, EV_READ | EV_PERSIST, backend_readable_cb, s);
	struct event *wr = event_new(s->w->base, fd, EV_WRITE | EV_PERSIST, backend_writable_cb, s);
	(void)to;

	if (!rd || !wr) {
		if (rd)
			event_free(rd);
		if (wr)
			event_free(wr);
		close(fd);
		return -ENOMEM;
	}
	event_free(r->brd);
	event_free(r->bwr);
	r->brd = rd;
	r->bwr = wr;
	mt_frame_init(&r->sf);          /* a new stream, at a boundary */
	/* The relay stopped at a command boundary: translation starts there. */
	stmt_xlate_reset(&s->xl, 0, 0);
	*old_fd = s->bfd;
	s->bfd = fd;
	return 0;
}

/* The relay reads the statement table at every forwarded command. */
static void relay_stmts_changed(struct session *s)
{
	(void)s;
}

static void relay_resume(struct session *s)
{
	struct relay *r = s->carrier_data;

	if (event_add(r->crd, NULL) < 0 || event_add(r->brd, NULL) < 0) {
		sess_log(s, LOG_ERROR, "cannot watch the session's sockets again; closing");
		sess_free(s);
		return;
	}
	relay_readable(s, 1);
}

static void relay_view(struct session *s, struct carrier_view *v)
{
	const struct relay *r = s->carrier_data;

	v->mode = "user";
	snprintf(v->why, sizeof(v->why), "%s", r->why);
	v->in_tx = !!(r->conv.status & SERVER_STATUS_IN_TRANS);
	v->commands = r->conv.cmds_started;
	v->bytes_c2s = r->bytes_c2s;
	v->bytes_s2c = r->bytes_s2c;
	v->last_latency_us = r->last_latency_us;
	v->idle = mt_idle(&r->conv);
}

static void relay_free(struct session *s)
{
	struct relay *r = s->carrier_data;
	struct event **evs[] = { &r->crd, &r->cwr, &r->brd, &r->bwr };

	sess_log(s, LOG_DEBUG, "relay done: c2s=%llu s2c=%llu bytes",
		 (unsigned long long)r->bytes_c2s, (unsigned long long)r->bytes_s2c);
	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++) {
		if (*evs[i])
			event_free(*evs[i]);
		*evs[i] = NULL;
	}
	outq_free(&r->c2s);
	outq_free(&r->s2c);
	proto_buf_free(&r->hold);
	if (s->cfd >= 0)
		close(s->cfd);
	if (s->bfd >= 0)
		close(s->bfd);
	s->cfd = s->bfd = -1;
	STAT_SUB(s->sh, user_now, 1);
	free(r);
	s->carrier_data = NULL;
}

static const struct carrier_ops relay_ops = {
	.name = "relay",
	.conv = relay_conv,
	.safe_point = relay_safe_point,
	.cannot_switch = relay_cannot_switch,
	.stop_at_boundary = relay_stop_at_boundary,
	.pause = relay_pause,
	.switch_backend = relay_switch_backend,
	.stmts_changed = relay_stmts_changed,
	.resume = relay_resume,
	.view = relay_view,
	.free = relay_free,
};

int relay_start(struct session *s, const uint8_t *ok, size_t oklen, uint16_t status,
		const char *why)
{
	struct relay *r = calloc(1, sizeof(*r));
	struct event_base *base = s->w->base;
	struct proto_buf first;

	if (!r)
		return -ENOMEM;
	mt_frame_init(&r->cf);
	mt_frame_init(&r->sf);
	mt_conv_init(&r->conv, s->backend_caps, status);
	proto_buf_init(&r->hold);
	snprintf(r->why, sizeof(r->why), "%s", why ? why : "");
	s->carrier = &relay_ops;
	s->carrier_data = r;
	STAT_ADD(s->sh, user_now, 1);
	/* What the login left queued for the client, then the OK: the first
	 * bytes the client gets from the relay. */
	proto_buf_init(&first);
	s->cfd = pktio_steal_fd(&s->cbev, &first);
	s->bfd = pktio_steal_fd(&s->bbev, NULL);
	proto_put_packet(&first, &s->client_seq, ok, oklen);
	int rc = (s->cfd < 0 || s->bfd < 0 || first.err) ? -ENOMEM
		: outq_append(&r->s2c, first.data, first.len);
	proto_buf_free(&first);
	if (rc < 0)
		return rc;
	r->crd = event_new(base, s->cfd, EV_READ | EV_PERSIST, client_readable_cb, s);
	r->brd = event_new(base, s->bfd, EV_READ | EV_PERSIST, backend_readable_cb, s);
	r->cwr = event_new(base, s->cfd, EV_WRITE | EV_PERSIST, client_writable_cb, s);
	r->bwr = event_new(base, s->bfd, EV_WRITE | EV_PERSIST, backend_writable_cb, s);
	if (!r->crd || !r->brd || !r->cwr || !r->bwr || event_add(r->crd, NULL) < 0)
		return -ENOMEM;
	/* The backend is read once the client has its OK (else relay_writable
	 * sends the rest first). */
	rc = outq_flush(&r->s2c, s->cfd, NULL);
	if (rc < 0)
		return rc;
	return event_add(rc ? r->brd : r->cwr, NULL) < 0 ? -ENOMEM : 0;
}
