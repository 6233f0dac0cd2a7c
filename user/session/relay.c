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
#include "mysql/must_see.h"
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
/* A command the relay must see whole and cannot hold is refused. */
#define RELAY_HOLD_MAX MUST_SEE_HOLD_MAX

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

/* Command counts and latency (SHOW TUNNELS, /metrics): a command timed
 * from its first byte to the end of its response, as the kernel does. */
static void note_command(struct session *s, uint32_t ev, int to_server)
{
	struct relay *r = s->carrier_data;

	if (to_server && (ev & MT_EV_CMD_START)) {
		WSTAT_ADD(s->w, relay_commands, 1);
		if (!(ev & MT_EV_RESP_END))
			r->cmd_start_us = clock_mono_us();
	} else if (!to_server && (ev & MT_EV_RESP_END) && r->cmd_start_us && mt_idle(&r->conv)) {
		r->last_latency_us = clock_mono_us() - r->cmd_start_us;
		r->cmd_start_us = 0;
	}
}

static int serve_hold(struct session *s);

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
	serve_hold(s);          /* what the client sent behind the KILL, then read again */
}

/* ---- client bytes: framed, and classified at every command start ------
 *
 * Every client packet is framed (r->cf), and at every command start the
 * classifier (mysql_tracker.h, the kernel program's) says whether user
 * space must see it: a KILL (shunt's ids, not the backend's), a
 * COM_CHANGE_USER (verified and rewritten), and what the statement table
 * follows. Bytes before such a command are forwarded; it and everything
 * after it wait in r->hold, and the client is not read, until the
 * conversation reaches the boundary before it (a pipelined command waits
 * for the responses ahead of it) and the whole packet is in. A command
 * user space must see is never forwarded unlooked-at. */

/* Whether the conversation takes the client's next packet as a command
 * (mt_client_packet): not inside a LOCAL INFILE upload or an auth
 * exchange, and the tracker still follows it. */
static int expects_command(const struct mt_conv *c)
{
	return !(c->flags & MT_F_OPAQUE) && c->rstate != MT_R_OPAQUE && c->rstate != MT_R_INFILE &&
	       c->rstate != MT_R_AUTH_CLIENT;
}

/* At the start of a client packet (p, avail bytes from there): 1 when
 * the walk stops before it (a command user space must see, with *see
 * its class, or one these bytes cannot classify yet, *see MT_SEE_NONE),
 * 0 to go on, -1 when it is a possible such command after one the
 * tracker cannot follow past (a binlog dump): then commands can no
 * longer be told from data, and the session cannot be carried safely. */
static int stop_at_packet(const struct session *s, const uint8_t *p, size_t avail, uint32_t *see)
{
	const struct relay *r = s->carrier_data;
	uint32_t cls;
	int known;

	if (r->cf.next_cont)
		return 0;                       /* the rest of a 16 MB+ packet */
	if (expects_command(&r->conv)) {
		known = must_see_classify(s->stmts, p, avail, &cls);
		*see = known ? cls : MT_SEE_NONE;
		return !known || cls != MT_SEE_NONE;
	}
	if (!(r->conv.flags & MT_F_OPAQUE) || avail < MYSQL_HDR_LEN || p[3] != 0)
		return 0;                       /* file or auth data; not a command start */
	known = must_see_classify(s->stmts, p, avail, &cls);
	return !known || (cls != MT_SEE_NONE && cls != MT_SEE_OPAQUE) ? -1 : 0;
}

/* Frames and tracks client bytes data[0..len) from the relay's client
 * state, up to the first packet the walk stops at (stop_at_packet).
 * Returns how many bytes lie before it (len: none), with *ev the OR of
 * their MT_EV_* events and *see as stop_at_packet sets it; -1 as
 * stop_at_packet. */
static ssize_t walk_client(struct session *s, const uint8_t *data, size_t len, uint32_t *ev,
			   uint32_t *see)
{
	struct relay *r = s->carrier_data;
	size_t off = 0;

	*ev = 0;
	*see = MT_SEE_NONE;
	while (off < len) {
		if (r->cf.hdr_have == 0) {
			int stop = stop_at_packet(s, data + off, len - off, see);
			if (stop)
				return stop < 0 ? -1 : (ssize_t)off;
		}
		int pkt = 0;
		int n = mt_frame_step(&r->cf, (void *)data, (__u32)off, (__u32)len, &pkt);
		if (n < 0)
			break;
		off = (size_t)n;
		if (pkt)
			*ev |= mt_client_packet(&r->conv, &r->cf);
	}
	return (ssize_t)len;
}

/* Ends a session whose client sent what may be a command after one the
 * tracker cannot follow past (walk_client returned -1). Returns -1. */
static int cannot_follow(struct session *s)
{
	sess_log(s, LOG_WARN, "client sent a possible command after one shunt cannot follow "
		 "past (a binlog dump); closing");
	sess_free(s);
	return -1;
}

/* Forwards tracked client bytes (ev: their events) to the backend,
 * translating statement ids last, so everything above sees the client's.
 * 0, 1 when the backend did not take them all (the client is not read
 * until it has), or -1 when the session ended. */
static int forward_client(struct session *s, const uint8_t *data, size_t len, uint32_t ev)
{
	struct relay *r = s->carrier_data;
	struct proto_buf xo;

	if (len == 0)
		return 0;
	if (ev & MT_EV_UNEXPECTED)
		sess_log(s, LOG_DEBUG, "tracker: unexpected client packet (state %u)", r->conv.rstate);
	if (ev & (MT_EV_CMD_START | MT_EV_RESP_END))
		note_command(s, ev, 1);
	r->bytes_c2s += len;
	WSTAT_ADD(s->w, relay_bytes_c2s, len);
	proto_buf_init(&xo);
	if (!(data = stmt_xlate_pass(&s->xl, s->stmts, data, &len, &xo))) {
		proto_buf_free(&xo);
		sess_log(s, LOG_WARN, "out of memory translating statement ids");
		sess_free(s);
		return -1;
	}
	int rc = send_or_keep(s->bfd, data, len, &r->c2s, r->crd, r->bwr);
	proto_buf_free(&xo);
	if (rc < 0) {
		relay_end(s, 0, "failed");
		return -1;
	}
	return outq_empty(&r->c2s) ? 0 : 1;
}

/* Tracks and forwards bytes user space built or checked (a rewritten
 * change-user, a noted statement command). As forward_client. */
static int forward_built(struct session *s, const uint8_t *data, size_t len)
{
	uint32_t ev = relay_track(s->carrier_data, 1, data, len);

	return forward_client(s, data, len, ev);
}

/* Drops the first n held bytes. */
static void hold_consume(struct relay *r, size_t n)
{
	memmove(r->hold.data, r->hold.data + n, r->hold.len - n);
	r->hold.len -= n;
}

/* Refuses the session's change-user (err: the ERR payload): the client
 * gets the ERR, then the session ends. */
static void refuse_change_user(struct session *s, struct proto_buf *err)
{
	struct proto_buf pkt;

	proto_buf_init(&pkt);
	change_user_refusal(err, &pkt);
	if (relay_answer_client(s, &pkt) < 0)
		sess_free(s);
	else
		relay_close_after_flush(s);
	proto_buf_free(&pkt);
}

/* Carries out the held command user space must see (see: its class),
 * whose whole packet (wire bytes) starts r->hold, at a command boundary.
 * Returns 0 when it was forwarded (as it is or rewritten), 1 when shunt
 * answers it itself (a KILL: the client is read again then), -1 when the
 * session ended or is closing. The packet is dropped from the hold. */
static int carry_held(struct session *s, uint32_t see, size_t wire, size_t plen)
{
	struct relay *r = s->carrier_data;
	const uint8_t *pkt = r->hold.data;
	struct proto_buf out, err;
	int rc;

	if ((see == MT_SEE_KILL_CMD || see == MT_SEE_KILL_QUERY) &&
	    kill_from_client(s, pkt, wire, relay_kill_resume)) {
		hold_consume(r, wire);
		event_del(r->crd);
		return 1;
	}
	proto_buf_init(&out);
	proto_buf_init(&err);
	if (see == MT_SEE_CHANGE_USER) {
		stmt_on_client_command(s->stmts, pkt + MYSQL_HDR_LEN, plen);
		if (sess_split_change_users(s, pkt, wire, &out, &err) < 0) {
			proto_buf_free(&out);
			refuse_change_user(s, &err);
			proto_buf_free(&err);
			return -1;
		}
	} else if (see == MT_SEE_PREPARE || see == MT_SEE_STMT || see == MT_SEE_EXECUTE) {
		if (!stmt_note_commands(&s->stmts, &r->conv, pkt, 0, wire, &out))
			proto_put_bytes(&out, pkt, wire);
	} else {
		proto_put_bytes(&out, pkt, wire);       /* not a KILL shunt takes, a binlog dump */
	}
	proto_buf_free(&err);
	if (out.err) {
		proto_buf_free(&out);
		sess_log(s, LOG_WARN, "out of memory forwarding a held command");
		sess_free(s);
		return -1;
	}
	hold_consume(r, wire);
	rc = forward_built(s, out.data, out.len);
	proto_buf_free(&out);
	return rc < 0 ? -1 : 0;
}

/* Works through r->hold: forwards what needs no look, carries out each
 * command user space must see once the conversation is at the boundary
 * before it. Returns 0 when the client may be read (the hold is empty,
 * or waits for more of its first packet), 1 when reading the client
 * waits (for a response, for the backend to take bytes, for a KILL's
 * answer), -1 when the session ended or is closing. */
static int serve_hold(struct session *s)
{
	struct relay *r = s->carrier_data;

	while (r->hold.len) {
		uint32_t see, ev;
		size_t wire, plen;
		uint8_t seq, last;

		if (!outq_empty(&r->c2s) || r->closing) {
			event_del(r->crd);
			return 1;
		}
		ssize_t n = walk_client(s, r->hold.data, r->hold.len, &ev, &see);
		if (n < 0)
			return cannot_follow(s);
		if (n > 0) {                    /* commands that need no look */
			if (forward_client(s, r->hold.data, (size_t)n, ev) < 0)
				return -1;
			hold_consume(r, (size_t)n);
			continue;
		}
		if (see == MT_SEE_NONE)
			goto need_more;         /* not classifiable yet */
		if (!at_boundary(r)) {
			event_del(r->crd);      /* the response ahead of it ends first */
			return 1;
		}
		if (proto_frame_logical(r->hold.data, r->hold.len, &wire, &plen, &seq, &last) < 0)
			goto need_more;
		int rc = carry_held(s, see, wire, plen);
		if (rc != 0)
			return rc;
	}
	if (!r->closing)
		event_add(r->crd, NULL);
	return 0;
need_more:
	if (r->hold.len > RELAY_HOLD_MAX) {
		sess_log(s, LOG_WARN, "a command shunt must look at is larger than %d bytes; closing",
			 RELAY_HOLD_MAX);
		sess_free(s);
		return -1;
	}
	event_add(r->crd, NULL);
	return 0;
}

/* Client bytes just read (data: the scratch buffer): forwarded up to the
 * first command user space must see, the rest held (serve_hold). As
 * serve_hold. */
static int client_bytes(struct session *s, const uint8_t *data, size_t len)
{
	struct relay *r = s->carrier_data;
	uint32_t ev, see;
	ssize_t n;

	if (r->hold.len == 0) {
		n = walk_client(s, data, len, &ev, &see);
		if (n < 0)
			return cannot_follow(s);
		int rc = forward_client(s, data, (size_t)n, ev);
		if (rc < 0)
			return -1;
		data += n;
		len -= (size_t)n;
		if (len == 0)
			return rc;
	}
	proto_put_bytes(&r->hold, data, len);
	if (r->hold.err) {
		sess_log(s, LOG_WARN, "out of memory holding a command");
		sess_free(s);
		return -1;
	}
	return serve_hold(s);
}

/* One non-blocking read from the session's client (from_client) or
 * backend socket into buf. Returns the bytes read; 0 when the socket is
 * empty; -1 when the session ended (closed or failed; it is freed). */
static ssize_t relay_recv(struct session *s, int from_client, uint8_t *buf, size_t chunk)
{
	for (;;) {
		ssize_t n = recv(from_client ? s->cfd : s->bfd, buf, chunk, MSG_DONTWAIT);
		if (n > 0)
			return n;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		relay_end(s, from_client, n == 0 ? "closed" : "failed");
		return -1;
	}
}

static int relay_movable(struct session *s);

/* The client socket is readable: read and pass on (client_bytes) until
 * the socket is empty, the backend is full, a command waits in the hold,
 * or RELAY_READS_PER_EVENT reads were made. */
static void relay_client_readable(struct session *s)
{
	static __thread uint8_t scratch[RELAY_CHUNK_MAX];
	struct relay *r = s->carrier_data;
	size_t chunk = relay_chunk(s);

	/* A borrower (a migration) waits for this boundary: the client's
	 * command stays in the socket until it gives the session back. */
	if (s->borrower && relay_movable(s) && sess_at_boundary(s, 1))
		return;
	if (r->hold.len && serve_hold(s) != 0)
		return;
	for (int i = 0; i < RELAY_READS_PER_EVENT && outq_empty(&r->c2s); i++) {
		ssize_t n = relay_recv(s, 1, scratch, chunk);
		if (n <= 0)
			return;
		if (client_bytes(s, scratch, (size_t)n) != 0)
			return;
		if ((size_t)n < chunk)
			return;                 /* the socket is very likely empty */
	}
}

/* The backend socket is readable: read, track, send to the client,
 * until the socket is empty, the client is full, or
 * RELAY_READS_PER_EVENT reads were made. A response that ends lets a
 * held client command go on (serve_hold). */
static void relay_backend_readable(struct session *s)
{
	static __thread uint8_t scratch[RELAY_CHUNK_MAX];
	struct relay *r = s->carrier_data;
	size_t chunk = relay_chunk(s);

	for (int i = 0; i < RELAY_READS_PER_EVENT && outq_empty(&r->s2c); i++) {
		ssize_t n = relay_recv(s, 0, scratch, chunk);
		if (n <= 0)
			return;
		uint32_t ev = relay_track(r, 0, scratch, (size_t)n);
		if (ev & MT_EV_UNEXPECTED)
			sess_log(s, LOG_DEBUG, "tracker: unexpected server packet (state %u)",
				 r->conv.rstate);
		if (ev & (MT_EV_CMD_START | MT_EV_RESP_END))
			note_command(s, ev, 0);
		r->bytes_s2c += (size_t)n;
		WSTAT_ADD(s->w, relay_bytes_s2c, (size_t)n);
		if (send_or_keep(s->cfd, scratch, (size_t)n, &r->s2c, r->brd, r->cwr) < 0) {
			relay_end(s, 1, "failed");
			return;
		}
		if ((ev & MT_EV_RESP_END) && r->hold.len && at_boundary(r) && serve_hold(s) < 0)
			return;                 /* the session ended */
		if ((size_t)n < chunk)
			return;                 /* the socket is very likely empty */
	}
}

static void relay_readable(struct session *s, int to_server)
{
	if (to_server)
		relay_client_readable(s);
	else
		relay_backend_readable(s);
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
	 * bytes the client gets from the relay. What the client sent after
	 * its login packet (pipelined before the OK, read with it) is its
	 * first command: it goes into the hold, which serve_hold works
	 * through as if just read. */
	proto_buf_init(&first);
	s->cfd = pktio_steal_fd(&s->cbev, &first, &r->hold);
	s->bfd = pktio_steal_fd(&s->bbev, NULL, NULL);
	if (s->bfd == -EBUSY) {
		sess_log(s, LOG_WARN, "the backend sent bytes after its login OK, before any command");
		proto_buf_free(&first);
		return -EPROTO;
	}
	proto_put_packet(&first, &s->client_seq, ok, oklen);
	int rc = (s->cfd < 0 || s->bfd < 0 || first.err) ? -ENOMEM
		: outq_append(&r->s2c, first.data, first.len);
	proto_buf_free(&first);
	if (rc < 0)
		return rc;
	if (r->hold.len)
		sess_log(s, LOG_DEBUG, "%zu bytes the client sent right after its login go first",
			 r->hold.len);
	r->crd = event_new(base, s->cfd, EV_READ | EV_PERSIST, client_readable_cb, s);
	r->brd = event_new(base, s->bfd, EV_READ | EV_PERSIST, backend_readable_cb, s);
	r->cwr = event_new(base, s->cfd, EV_WRITE | EV_PERSIST, client_writable_cb, s);
	r->bwr = event_new(base, s->bfd, EV_WRITE | EV_PERSIST, backend_writable_cb, s);
	if (!r->crd || !r->brd || !r->cwr || !r->bwr || event_add(r->crd, NULL) < 0)
		return -ENOMEM;
	if (r->hold.len)
		event_active(r->crd, EV_READ, 1);       /* serve_hold takes them first */
	/* The backend is read once the client has its OK (else relay_writable
	 * sends the rest first). */
	rc = outq_flush(&r->s2c, s->cfd, NULL);
	if (rc < 0)
		return rc;
	return event_add(rc ? r->brd : r->cwr, NULL) < 0 ? -ENOMEM : 0;
}
