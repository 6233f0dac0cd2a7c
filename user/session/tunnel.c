/* tunnel.c — established sessions carried by the kernel.
 *
 * After the backend login, tunnel_start() puts both sockets into the
 * sockhash and sends the client its login OK; from then on the sk_skb
 * program moves the bytes. User space only watches the two sockets:
 *  - the client socket becomes readable when the program punts a command
 *    (SK_PASS: the bytes land in its own receive queue) or at EOF;
 *  - the backend socket becomes readable only at EOF (every byte from the
 *    backend is redirected), or if the tunnel entry vanished.
 * A punted command is read, forwarded to the backend by user space, and
 * the tunnel re-armed (tunnel_ctl.rearm_gen = held_gen). On the way,
 * user space keeps what it must know: KILLs it carries out itself
 * (kill.c), COM_CHANGE_USER rewritten for the backend (change_user.c),
 * prepared statements and their parameter types (stmt.c), and a command
 * held for a migration (migrate.c), which is not forwarded until the
 * session has moved. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/sockios.h>
#include <linux/tcp.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include "core/fastpath.h"
#include "session/kill.h"
#include "util/log.h"
#include "migrate/migrate.h"
#include "session/session.h"
#include "mysql/stmt.h"

#define TUNNEL_IO_CHUNK (256 * 1024)

const char *tunnel_punt_name(unsigned reason)
{
	return reason < TUN_PUNT__COUNT ? tun_punt_names[reason] : "?";
}

/* Reads everything queued on fd into buf (appending). Returns the number
 * of bytes read, -ECONNRESET at EOF with nothing read, or -errno. */
static ssize_t read_available(int fd, struct proto_buf *buf)
{
	static __thread uint8_t chunk[TUNNEL_IO_CHUNK];
	ssize_t total = 0;

	for (;;) {
		ssize_t n = recv(fd, chunk, sizeof(chunk), MSG_DONTWAIT);
		if (n > 0) {
			proto_put_bytes(buf, chunk, (size_t)n);
			if (buf->err)
				return buf->err;
			total += n;
			continue;
		}
		if (n == 0)
			return total ? total : -ECONNRESET;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return total;
		return -errno;
	}
}

/* Reads everything queued on `from` and writes it to `to`. Returns the
 * number of bytes moved, or -ECONNRESET at EOF, or -errno. */
static ssize_t move_available(int from, int to)
{
	struct proto_buf buf;
	ssize_t n;

	proto_buf_init(&buf);
	n = read_available(from, &buf);
	if (n > 0) {
		int rc = sess_write_all(to, buf.data, buf.len);
		if (rc < 0)
			n = rc;
	}
	proto_buf_free(&buf);
	return n;
}

/* Re-arms the tunnel if the program is holding client bytes for us: tells
 * it the held generation and how many passed bytes user space has read in
 * all. If more were passed since the read, the program stays held (and the
 * socket is readable again), so nothing overtakes them. */
static void rearm_if_held(struct session *s)
{
	struct tunnel t;
	struct tunnel_ctl ctl;

	/* Part of a statement id is still to come: the kernel must not
	 * forward the bytes behind it yet. */
	if (stmt_xlate_pending(&s->xl))
		return;
	if (fp_tunnel_get(s->ccookie, &t) < 0 || t.state != TUN_ST_HELD)
		return;
	if (fp_ctl_get(s->ccookie, &ctl) < 0)
		return;
	uint64_t watch = stmt_exec_watch(s->stmts);
	/* The statements changed since the kernel's translations were
	 * written (xl_n > 0 implies a table). */
	int resync = (s->xl_n || stmt_translated(s->stmts)) && s->stmts->gen != s->xl_synced;
	if (ctl.rearm_gen == t.held_gen && ctl.passed_seen == s->passed_read && ctl.exec_watch == watch &&
	    !resync)
		return;
	ctl.exec_watch = watch;
	if (resync && tunnel_xlate_sync(s, &ctl) < 0)
		sess_log(s, LOG_WARN, "cannot update the statement-id translation: %s", strerror(errno));
	if (ctl.rearm_gen != t.held_gen) {
		sess_log(s, LOG_DEBUG, "punted command 0x%02x (%s) forwarded by user space; re-arming",
			 t.punt_cmd, tunnel_punt_name(t.punt_reason));
		STAT_ADD(s->sh, punts, 1);
	}
	ctl.rearm_gen = t.held_gen;
	ctl.passed_seen = s->passed_read;
	if (fp_ctl_set(s->ccookie, &ctl) < 0)
		sess_log(s, LOG_ERROR, "cannot re-arm the tunnel: %s", strerror(errno));
}

/* Bytes the backend socket has taken into its send queue since the
 * tunnel started: acknowledged + still queued (SIOCOUTQ). */
static int backend_bytes_queued(int fd, uint64_t *out)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	int outq = 0;

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0 || ioctl(fd, SIOCOUTQ, &outq) < 0)
		return -errno;
	*out = ti.tcpi_bytes_acked + (uint64_t)outq;
	return 0;
}

/* The kernel redirects client bytes to the backend socket through a
 * workqueue. Before user space writes held bytes to that socket, every
 * byte the program redirected must have reached its send queue, or the
 * held command could overtake (say) a COM_STMT_CLOSE redirected just
 * before it. Waits (bounded: a redirect that was dropped never arrives)
 * until the queue has taken all of them. */
static void wait_redirects_queued(struct session *s)
{
	struct tunnel t;
	uint64_t queued;

	for (int i = 0; i < 200; i++) {
		if (fp_tunnel_get(s->ccookie, &t) < 0 || backend_bytes_queued(s->bfd, &queued) < 0)
			return;
		if (queued - s->bfd_base >= s->user_written + (t.bytes - s->redirected_base))
			return;
		usleep(100);
	}
	sess_log(s, LOG_DEBUG, "kernel redirects to the backend not all queued after 20 ms");
}

/* Whether the client's last command was COM_QUIT: then either side closing
 * (and a write racing the close) is the normal end of the session. */
static int client_quit(struct session *s)
{
	struct tunnel t;

	return fp_tunnel_get(s->ccookie, &t) == 0 && t.conv.last_cmd == COM_QUIT;
}

static int take_punted_kill(struct session *s, const struct tunnel *t, const struct proto_buf *in);

/* Deletes the session's stmt_xlate entries whose id is not in keep[0..n). */
static void drop_translations(struct session *s, const uint32_t *keep, size_t n)
{
	for (size_t i = 0; i < s->xl_n; i++) {
		size_t j = 0;
		while (j < n && keep[j] != s->xl_ids[i])
			j++;
		if (j == n)
			fp_xlate_del(s->ccookie, s->xl_ids[i]);
	}
}

int tunnel_xlate_sync(struct session *s, struct tunnel_ctl *ctl)
{
	const struct stmt_table *t = s->stmts;
	size_t want = stmt_translated(t), k = 0;
	uint32_t *ids = want ? malloc(want * sizeof(*ids)) : NULL;

	if (want && !ids)
		return -ENOMEM;
	for (size_t i = 0; t && i < t->n && k < want; i++) {
		if (t->v[i].bid == t->v[i].id)
			continue;
		int rc = fp_xlate_set(s->ccookie, t->v[i].id, t->v[i].bid);
		if (rc < 0) {
			free(ids);
			return rc;
		}
		ids[k++] = t->v[i].id;
	}
	/* Entries of statements that are gone (or no longer translated). */
	drop_translations(s, ids, k);
	free(s->xl_ids);
	s->xl_ids = ids;
	s->xl_n = k;
	s->xl_synced = t ? t->gen : 0;
	if (k)
		ctl->flags |= TUN_CTL_XLATE;
	else
		ctl->flags &= ~TUN_CTL_XLATE;
	return 0;
}


/* Forwards held client bytes to the backend: as they are, except that a
 * COM_CHANGE_USER gets a token for the backend's scramble (change_user.c)
 * and an execute may get its parameter types back (stmt.c).
 * Returns the bytes taken from the client, or -errno (the session ends;
 * a refused change-user has been answered). */
static ssize_t forward_held(struct session *s, int fd)
{
	struct proto_buf in, out, err;
	ssize_t n;
	struct tunnel t;

	struct proto_buf xo;
	uint64_t before = s->passed_read;
	size_t skip0 = 0;

	proto_buf_init(&in);
	proto_buf_init(&out);
	proto_buf_init(&err);
	proto_buf_init(&xo);
	n = read_available(fd, &in);
	/* The punt these bytes belong to: the entry stays HELD (same reason)
	 * until this function's caller re-arms, so one read serves both.
	 * The first read after a punt starts with the punted command, or
	 * with the rest of a packet the kernel forwarded the start of
	 * (tunnel.xl_start says where the next header is). */
	int held = n > 0 && fp_tunnel_get(s->ccookie, &t) == 0 && t.state == TUN_ST_HELD;
	int at_punt = held && s->held_gen_seen != t.held_gen;
	int rewritten = 0;
	if (held && t.xl_gen != s->xl_gen_seen) {
		uint64_t skip = t.xl_start > before ? t.xl_start - before : 0;
		s->xl_gen_seen = t.xl_gen;
		stmt_xlate_reset(&s->xl, skip, t.xl_cont);
		skip0 = skip < (uint64_t)n ? (size_t)skip : (size_t)n;
	}
	if (n > 0) {
		s->passed_read += (uint64_t)n;
		if (held)
			s->held_gen_seen = t.held_gen;
		if (at_punt && take_punted_kill(s, &t, &in)) {
			proto_buf_free(&in);
			return -EINPROGRESS;
		}
		if (at_punt)
			rewritten = stmt_note_commands(&s->stmts, &t.conv, in.data, skip0, in.len, &out);
		wait_redirects_queued(s);
	}
	if (at_punt && in.len > MYSQL_HDR_LEN && in.data[MYSQL_HDR_LEN] == COM_CHANGE_USER) {
		proto_buf_reset(&out);
		int rc = sess_split_change_users(s, in.data, in.len, &out, &err);
		if (rc < 0) {
			sess_change_user_refuse(s, &err);
			n = rc;
		} else {
			n = sess_write_all(s->bfd, out.data, out.len) < 0 ? -EPIPE : n;
			s->user_written += out.len;
		}
	} else if (n > 0) {
		const struct proto_buf *w = rewritten ? &out : &in;
		size_t wlen = w->len;
		const uint8_t *wdata = stmt_xlate_pass(&s->xl, s->stmts, w->data, &wlen, &xo);
		if (!wdata)
			n = -ENOMEM;
		else if (sess_write_all(s->bfd, wdata, wlen) < 0)
			n = -EPIPE;
		else
			s->user_written += wlen;
	}
	proto_buf_free(&in);
	proto_buf_free(&out);
	proto_buf_free(&err);
	proto_buf_free(&xo);
	return n;
}

static void tunnel_client_cb(evutil_socket_t fd, short what, void *arg);

/* kill.c is done with the client's punted KILL: answer it on the client
 * socket, tell the program the held command was answered by user space
 * (so its conversation does not wait for a backend response) and
 * re-arm, then read the client again. */
static void tunnel_kill_resume(struct session *s, const struct kill_result *res)
{
	struct tunnel t;
	struct tunnel_ctl ctl;

	if (fp_tunnel_get(s->ccookie, &t) < 0 || fp_ctl_get(s->ccookie, &ctl) < 0) {
		sess_log(s, LOG_WARN, "tunnel entry gone while answering a KILL; closing");
		sess_free(s);
		return;
	}
	if (kill_answer_client(s, res, t.conv.caps, t.conv.status) < 0)
		return;
	STAT_ADD(s->sh, punts, 1);
	ctl.answered_gen = t.held_gen;
	ctl.rearm_gen = t.held_gen;
	ctl.passed_seen = s->passed_read;
	if (fp_ctl_set(s->ccookie, &ctl) < 0) {
		sess_log(s, LOG_ERROR, "cannot re-arm the tunnel after a KILL: %s", strerror(errno));
		sess_free(s);
		return;
	}
	event_add(s->cev, NULL);
	/* Bytes passed while the KILL ran (or the strparser's nudge). */
	tunnel_client_cb(s->cfd, EV_READ, s);
}

/* The held bytes (t: the held client entry, read after them) are
 * exactly one KILL that shunt handles: take them.
 * Returns 1 when kill.c took it (the client socket is not watched until
 * the answer), 0 to forward them as they are. */
static int take_punted_kill(struct session *s, const struct tunnel *t, const struct proto_buf *in)
{
	if ((t->punt_reason != TUN_PUNT_KILL_QUERY && t->punt_reason != TUN_PUNT_KILL_CMD &&
	     t->punt_reason != TUN_PUNT_ALL) ||
	    t->passed_bytes != s->passed_read ||
	    !kill_from_client(s, in->data, in->len, tunnel_kill_resume))
		return 0;
	event_del(s->cev);
	return 1;
}

static void tunnel_client_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;
	(void)what;

	/* Forward what the program passed (a punted command and whatever
	 * followed it while held), re-arm, and read again until nothing is
	 * left. Bytes passed after a read keep the tunnel held (passed_seen),
	 * so the next round takes them in order. The read after the re-arm
	 * matters in stream-parser mode too: a recv() on the socket is what
	 * lets the kernel's strparser go on with a segment that arrived while
	 * the tunnel was held (measured; verdict mode does not need it). */
	ssize_t n;
	if (s->mig) {
		/* A command held for the migration waits in the socket until
		 * the session has moved (migrate.c resumes it). */
		struct tunnel t;
		if (fp_tunnel_get(s->ccookie, &t) == 0 && t.state == TUN_ST_HELD &&
		    t.punt_reason == TUN_PUNT_ALL && t.held_gen != s->held_gen_seen &&
		    t.passed_bytes > s->passed_read && migrate_at_boundary(s, 1))
			return;
	}
	for (int round = 0; round < 64; round++) {
		n = forward_held(s, fd);
		if (n == -EINPROGRESS)
			return;         /* a KILL shunt carries out; resumed after */
		if (n < 0)
			break;
		STAT_ADD(s->sh, punted_bytes, (uint64_t)n);
		rearm_if_held(s);
		if (n == 0)
			return;
	}
	if (n >= 0)
		return;         /* still busy after 64 rounds: the event fires again */
	if (n == -ECONNRESET || client_quit(s))
		sess_log(s, LOG_DEBUG, "client closed (%s)", strerror((int)-n));
	else
		sess_log(s, LOG_INFO, "client side ended: %s", strerror((int)-n));
	sess_free(s);
}

static void linger_done_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	sess_free(arg);
}

static void tunnel_backend_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;
	(void)what;

	ssize_t n = move_available(fd, s->cfd);
	if (n > 0) {
		/* The program passed backend bytes: the tunnel entry is gone. */
		sess_log(s, LOG_WARN, "%zd backend bytes reached user space; forwarded", n);
		STAT_ADD(s->sh, relay_bytes_s2c, (uint64_t)n);
		return;
	}
	if (n == 0)
		return;
	if (client_quit(s))
		sess_log(s, LOG_DEBUG, "backend closed after COM_QUIT");
	else
		sess_log(s, n == -ECONNRESET ? LOG_INFO : LOG_WARN, "backend %s; closing the client",
			 n == -ECONNRESET ? "closed the connection" : "failed");
	/* FIN is not forwarded by the kernel. Give the kernel's redirect queue
	 * a moment to deliver the backend's last bytes (an ERR, typically),
	 * then close. */
	event_del(s->bev_ev);
	event_del(s->cev);
	event_free(s->timer);
	s->timer = evtimer_new(s->w->base, linger_done_cb, s);
	struct timeval tv = { 0, 50 * 1000 };
	if (!s->timer || evtimer_add(s->timer, &tv) < 0)
		sess_free(s);
}

int tunnel_start(struct session *s, const uint8_t *ok, size_t oklen, uint16_t status,
		 char *why, size_t whylen)
{
	struct fp_tunnel_spec spec;
	struct proto_buf pkt;
	int cfd = bufferevent_getfd(s->cbev), bfd = bufferevent_getfd(s->bbev);

	if (evbuffer_get_length(bufferevent_get_input(s->cbev)) ||
	    evbuffer_get_length(bufferevent_get_output(s->cbev)) ||
	    evbuffer_get_length(bufferevent_get_input(s->bbev)) ||
	    evbuffer_get_length(bufferevent_get_output(s->bbev))) {
		snprintf(why, whylen, "bytes still queued in user space at hand-over");
		return -EBUSY;
	}
	memset(&spec, 0, sizeof(spec));
	spec.cfd = cfd;
	spec.bfd = bfd;
	spec.conn_id = s->id;
	spec.backend_id = (uint32_t)s->backend->serial;
	spec.caps = s->backend_caps;
	spec.status = status;
	spec.client_sa = (const struct sockaddr *)&s->client_sa;
	spec.backend_sa = (const struct sockaddr *)&s->backend->addr.sa;
	if (fp_sock_cookie(cfd, &spec.ccookie) < 0 || fp_sock_cookie(bfd, &spec.bcookie) < 0) {
		snprintf(why, whylen, "cannot read socket cookies: %s", strerror(errno));
		return -errno;
	}
	int rc = fp_tunnel_open(&spec, why, whylen);
	if (rc < 0)
		return rc;

	/* The client socket is in the map; now it may get its OK. */
	proto_buf_init(&pkt);
	proto_put_packet(&pkt, &s->client_seq, ok, oklen);
	rc = pkt.err ? pkt.err : sess_write_all(cfd, pkt.data, pkt.len);
	proto_buf_free(&pkt);
	if (rc < 0) {
		fp_tunnel_close(spec.ccookie, spec.bcookie);
		snprintf(why, whylen, "cannot send the login OK: %s", strerror(-rc));
		return -EPIPE;  /* fatal: the client may have part of a packet */
	}
	s->ccookie = spec.ccookie;
	s->bcookie = spec.bcookie;
	if (backend_bytes_queued(bfd, &s->bfd_base) < 0)
		s->bfd_base = 0;
	s->cfd = sess_steal_fd(&s->cbev);
	s->bfd = sess_steal_fd(&s->bbev);
	s->kernel = 1;
	s->cev = event_new(s->w->base, s->cfd, EV_READ | EV_PERSIST, tunnel_client_cb, s);
	s->bev_ev = event_new(s->w->base, s->bfd, EV_READ | EV_PERSIST, tunnel_backend_cb, s);
	if (!s->cev || !s->bev_ev || event_add(s->cev, NULL) < 0 || event_add(s->bev_ev, NULL) < 0) {
		snprintf(why, whylen, "out of memory");
		return -EPIPE;
	}
	return 0;
}

int tunnel_backend_changed(struct session *s, int fd)
{
	struct event *ev = event_new(s->w->base, fd, EV_READ | EV_PERSIST, tunnel_backend_cb, s);

	if (!ev)
		return -ENOMEM;
	event_free(s->bev_ev);
	s->bev_ev = ev;
	return 0;
}

void tunnel_resume(struct session *s)
{
	if (event_add(s->cev, NULL) < 0 || event_add(s->bev_ev, NULL) < 0) {
		sess_log(s, LOG_ERROR, "cannot watch the session's sockets again; closing");
		sess_free(s);
		return;
	}
	/* What the client sent meanwhile (the held command, first). */
	tunnel_client_cb(s->cfd, EV_READ, s);
}

void tunnel_free(struct session *s)
{
	if (!s->kernel)
		return;
	if (s->cev)
		event_free(s->cev);
	if (s->bev_ev)
		event_free(s->bev_ev);
	s->cev = s->bev_ev = NULL;
	/* Read the counters one last time for the log. */
	struct tunnel ct, bt;
	if (fp_tunnel_get(s->ccookie, &ct) == 0 && fp_tunnel_get(s->bcookie, &bt) == 0) {
		s->kernel_bytes_c2s = ct.bytes;
		s->kernel_bytes_s2c = bt.bytes;
		STAT_ADD(s->sh, kernel_bytes_c2s, ct.bytes);
		STAT_ADD(s->sh, kernel_bytes_s2c, bt.bytes);
	}
	drop_translations(s, NULL, 0);
	free(s->xl_ids);
	s->xl_ids = NULL;
	s->xl_n = 0;
	/* Closing the sockets takes them out of the sockhash (and drops any
	 * unread passed bytes with them); then the entries go. */
	if (s->cfd >= 0)
		close(s->cfd);
	if (s->bfd >= 0)
		close(s->bfd);
	s->cfd = s->bfd = -1;
	fp_tunnel_close(s->ccookie, s->bcookie);
	s->kernel = 0;
}
