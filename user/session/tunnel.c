/* tunnel.c — established sessions carried by the kernel (the sockmap
 * carrier; carrier.h).
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
 * held for a borrower (a migration), which is not forwarded until the
 * session is given back.
 *
 * Nothing here waits. What user space writes goes through a queue per
 * socket (outq.h), flushed on EV_WRITE; while a queue is not empty the
 * client is not read and the tunnel is not re-armed, so the program keeps
 * holding the client's bytes and nothing overtakes what is queued. Before
 * held bytes are written to the backend, the kernel's own redirects must
 * have reached its send queue, and the same holds for what user space
 * writes to the client: when they have not, a timer looks again (1 ms,
 * backing off to 64 ms, for as long as it takes).
 *
 * Backpressure: when a socket's peer has more than tunnel_ctl.queue_max
 * bytes it has not delivered, the program passes that socket's bytes
 * instead of redirecting them (punt reason "backpressure"), so they stay
 * charged to its receive buffer and TCP holds the sender back. Held
 * client bytes go through the held stream below like any others; held
 * backend bytes are read one chunk at a time, only while nothing waits
 * for the client, and the backend entry is re-armed once all are out
 * (serve_backend). */
#include <errno.h>
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
#include "mysql/must_see.h"
#include "mysql/pktio.h"
#include "mysql/stmt.h"
#include "session/change_user.h"
#include "session/kill.h"
#include "session/session.h"
#include "session/tunnel.h"
#include "util/log.h"
#include "util/outq.h"

#define TUNNEL_IO_CHUNK (256 * 1024)
/* Most client bytes one read of the held stream takes (the next read
 * comes once they are with the backend, so this bounds what user space
 * keeps for bytes it streams; a command it must see whole gathers over
 * several reads, up to TUNNEL_HOLD_MAX). */
#define TUNNEL_READ_MAX (4 * TUNNEL_IO_CHUNK)
/* How long a closing session waits for the client to take its last answer. */
#define TUNNEL_CLOSE_FLUSH_MS 5000
/* Most held bytes kept while a command waits (its whole packet, or the
 * responses ahead of it); past this the client is not read, and the
 * kernel keeps its bytes in the socket, where TCP flow control holds
 * them. A command user space must see whole may not be larger. */
#define TUNNEL_HOLD_MAX MUST_SEE_HOLD_MAX
/* Looks for the boundary before a pipelined command start at 1 ms and
 * back off to this. */
#define TUNNEL_BOUNDARY_WAIT_MAX_MS 64

/* The carrier's own state (s->carrier_data). */
struct tunnel_state {
	uint64_t ccookie, bcookie;       /* socket cookies (map keys) */
	struct event *cev;               /* client readable: punt or EOF */
	struct event *bev_ev;            /* backend readable: EOF (or entry gone) */
	struct event *cwr, *bwr;         /* writable, while a queue waits */
	struct event *timer;             /* redirect wait, linger, close flush */
	struct outq to_client;           /* login OK, KILL answers, refusals */
	struct outq to_backend;          /* held client bytes */
	uint64_t passed_read;            /* passed client bytes user space has read */
	uint32_t held_gen_seen;          /* tunnel.held_gen of the last punt read */
	/* The held stream: every client byte the program passed is framed
	   here, and every command in it classified (must_see.h). */
	struct proto_buf hold;           /* read, not carried yet: starts at a packet
					    header (body_left == 0) or inside a packet
					    whose start was carried */
	uint32_t body_left;              /* bytes of the current packet to pass as they are */
	uint8_t next_cont;               /* the next packet continues a 0xFFFFFF one */
	int hold_reset;                  /* hold_gen_seen is set */
	uint32_t hold_gen_seen;          /* tunnel.hold_gen the walk starts from */
	uint64_t cmd_base;               /* tunnel.hold_cmds of that hold */
	uint64_t cmds_walked;            /* commands walked since: a held command is at
					    its boundary once resps_done reaches
					    cmd_base + cmds_walked */
	unsigned boundary_wait_ms;       /* next look for that boundary (0: not waiting) */
	struct event *boundary_timer;
	int opaque;                      /* a binlog dump went to the backend: the
					    tracker cannot tell commands apart any
					    more, so the tunnel is never re-armed */
	int kill_busy;                   /* kill.c has the client's KILL */
	uint64_t user_written;           /* bytes user space wrote to the backend socket */
	uint64_t bfd_base;               /* backend send-queue total at hand-over */
	uint64_t redirected_base;        /* client tunnel bytes when the backend socket
					    last changed (a migration) */
	unsigned redirect_wait_ms;       /* next look for the redirects to the backend */
	/* The other direction: what reaches the client socket. */
	uint64_t c_user_written;         /* bytes user space wrote to the client socket */
	uint64_t cfd_base;               /* its send-queue total at hand-over */
	uint64_t b_retired;              /* bytes earlier backend entries redirected to
					    the client (before a migration) */
	uint64_t b_passed_read;          /* passed backend bytes read (backpressure) */
	unsigned client_wait_ms;         /* next look for the redirects to the client */
	struct event *ctimer;            /* that look */
	/* statement-id translation in the kernel: the ids in stmt_xlate */
	uint32_t xl_gen_seen;            /* tunnel.xl_gen the user-space translator was set for */
	uint32_t *xl_ids;
	size_t xl_n;
	uint64_t xl_synced;              /* stmts->gen when they were written */
	int kill_answer_queued;          /* a KILL's answer waits in to_client: once it
					    is out, kill_answered() */
	uint32_t answered;               /* KILLs answered in all (tunnel_ctl.answered) */
	int closing;                     /* end the session once to_client is empty */
	int backend_waiting;             /* bev_ev is off until to_client drains */
	int lingering;                   /* the backend closed: ending shortly */
};

static inline struct tunnel_state *ts_of(const struct session *s)
{
	return s->carrier_data;
}

const char *tunnel_punt_name(unsigned reason)
{
	return reason < TUN_PUNT__COUNT ? tun_punt_names[reason] : "?";
}

/* Reads what is queued on fd into buf (appending), up to about max bytes
 * (a writer that keeps sending cannot make one call read without end).
 * Returns the number of bytes read, -ECONNRESET at EOF with nothing read,
 * or -errno. */
static ssize_t read_available(int fd, struct proto_buf *buf, size_t max)
{
	static __thread uint8_t chunk[TUNNEL_IO_CHUNK];
	ssize_t total = 0;

	while ((size_t)total < max) {
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
	return total;
}

/* Changes the control entry's flags (read, modify, write: this worker is
 * its only writer). 0 or -errno. */
static int ctl_flags(struct session *s, uint32_t set, uint32_t clear)
{
	struct tunnel_ctl ctl;

	if (fp_ctl_get(ts_of(s)->ccookie, &ctl) < 0)
		return -errno;
	ctl.flags = (ctl.flags | set) & ~clear;
	return fp_ctl_set(ts_of(s)->ccookie, &ctl) < 0 ? -errno : 0;
}

/* Deletes the session's stmt_xlate entries whose id is not in keep[0..n). */
static void drop_translations(struct session *s, const uint32_t *keep, size_t n)
{
	struct tunnel_state *ts = ts_of(s);

	for (size_t i = 0; i < ts->xl_n; i++) {
		size_t j = 0;
		while (j < n && keep[j] != ts->xl_ids[i])
			j++;
		if (j == n)
			fp_xlate_del(ts->ccookie, ts->xl_ids[i]);
	}
}

/* Makes the kernel's statement-id translations (stmt_xlate) those of the
 * session's statement table, and sets or clears TUN_CTL_XLATE in *ctl,
 * which the caller writes. 0 or -errno. */
static int xlate_sync(struct session *s, struct tunnel_ctl *ctl)
{
	struct tunnel_state *ts = ts_of(s);
	const struct stmt_table *t = s->stmts;
	size_t want = stmt_translated(t), k = 0;
	uint32_t *ids = want ? malloc(want * sizeof(*ids)) : NULL;

	if (want && !ids)
		return -ENOMEM;
	for (size_t i = 0; t && i < t->n && k < want; i++) {
		if (t->v[i].bid == t->v[i].id)
			continue;
		int rc = fp_xlate_set(ts->ccookie, t->v[i].id, t->v[i].bid);
		if (rc < 0) {
			free(ids);
			return rc;
		}
		ids[k++] = t->v[i].id;
	}
	/* Entries of statements that are gone (or no longer translated). */
	drop_translations(s, ids, k);
	free(ts->xl_ids);
	ts->xl_ids = ids;
	ts->xl_n = k;
	ts->xl_synced = t ? t->gen : 0;
	if (k)
		ctl->flags |= TUN_CTL_XLATE;
	else
		ctl->flags &= ~TUN_CTL_XLATE;
	return 0;
}

/* Re-arms the tunnel if the program is holding client bytes for us: tells
 * it the held generation and how many passed bytes user space has read in
 * all. If more were passed since the read, the program stays held (and the
 * socket is readable again), so nothing overtakes them. */
static void rearm_if_held(struct session *s)
{
	struct tunnel_state *ts = ts_of(s);
	struct tunnel t;
	struct tunnel_ctl ctl;

	/* Part of a statement id is still to come: the kernel must not
	 * forward the bytes behind it yet. */
	if (stmt_xlate_pending(&s->xl))
		return;
	if (fp_tunnel_get(ts->ccookie, &t) < 0 || t.state != TUN_ST_HELD)
		return;
	if (fp_ctl_get(ts->ccookie, &ctl) < 0)
		return;
	uint64_t watch = stmt_exec_watch(s->stmts);
	/* The statements changed since the kernel's translations were
	 * written (xl_n > 0 implies a table). */
	int resync = (ts->xl_n || stmt_translated(s->stmts)) && s->stmts->gen != ts->xl_synced;
	if (ctl.rearm_gen == t.held_gen && ctl.passed_seen == ts->passed_read &&
	    ctl.exec_watch == watch && !resync)
		return;
	ctl.exec_watch = watch;
	if (resync && xlate_sync(s, &ctl) < 0)
		sess_log(s, LOG_WARN, "cannot update the statement-id translation: %s", strerror(errno));
	if (ctl.rearm_gen != t.held_gen) {
		sess_log(s, LOG_DEBUG, "punted command 0x%02x (%s) forwarded by user space; re-arming",
			 t.punt_cmd, tunnel_punt_name(t.punt_reason));
		WSTAT_ADD(s->w, punts, 1);
	}
	ctl.rearm_gen = t.held_gen;
	ctl.passed_seen = ts->passed_read;
	if (fp_ctl_set(ts->ccookie, &ctl) < 0)
		sess_log(s, LOG_ERROR, "cannot re-arm the tunnel: %s", strerror(errno));
}

/* Whether fd's connection is still established. Once the peer has closed
 * (or the socket failed), the kernel's redirects to it may never be
 * counted as sent: the ordering waits below stop asking, and the write
 * that follows fails or goes out, which ends the session either way. */
static int sock_established(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	return getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0 && ti.tcpi_state == 1 /* TCP_ESTABLISHED (netinet/tcp.h clashes with linux/tcp.h) */;
}

/* The kernel redirects client bytes to the backend socket through a
 * workqueue. Before user space writes held bytes to that socket, every
 * byte the program redirected must have reached its send queue, or the
 * held command could overtake (say) a COM_STMT_CLOSE redirected just
 * before it. Whether they all have (or the question cannot be asked). */
static int redirects_queued(struct session *s)
{
	struct tunnel_state *ts = ts_of(s);
	struct tunnel t;
	uint64_t queued;

	if (!sock_established(s->bfd) || fp_tunnel_get(ts->ccookie, &t) < 0 ||
	    fp_sock_written(s->bfd, &queued) < 0)
		return 1;
	return queued - ts->bfd_base >= ts->user_written + (t.bytes - ts->redirected_base);
}

/* The same for the client socket: every byte the backend entries
 * redirected to it is in its send queue (a KILL's answer, or backend
 * bytes user space carries, may go after them). */
static int client_redirects_queued(struct session *s)
{
	struct tunnel_state *ts = ts_of(s);
	struct tunnel bt;
	uint64_t queued;

	if (!sock_established(s->cfd) || fp_tunnel_get(ts->bcookie, &bt) < 0 ||
	    fp_sock_written(s->cfd, &queued) < 0)
		return 1;
	return queued - ts->cfd_base >= ts->c_user_written + ts->b_retired + bt.bytes;
}

/* User space wrote n bytes into the client (or backend) socket: the
 * program's backpressure count of what that socket has not delivered
 * includes them (tunnel_ctl.*_ext_written). */
static void note_written(struct session *s, int backend, uint64_t n)
{
	struct tunnel_state *ts = ts_of(s);
	struct tunnel_ctl ctl;

	if (!n)
		return;
	if (backend)
		ts->user_written += n;
	else
		ts->c_user_written += n;
	if (fp_ctl_get(ts->ccookie, &ctl) < 0)
		return;
	if (backend)
		ctl.backend_ext_written += n;
	else
		ctl.client_ext_written += n;
	if (fp_ctl_set(ts->ccookie, &ctl) < 0)
		sess_log(s, LOG_WARN, "cannot update the backpressure count: %s", strerror(errno));
}

/* The next look for redirects still on their way: 1 ms, doubling to 64
 * (a peer that does not read can keep them there for as long as it
 * likes; nothing is written behind them meanwhile). */
static struct timeval redirect_wait(struct session *s, unsigned *ms_state)
{
	unsigned ms = *ms_state ? *ms_state : 1;

	*ms_state = ms * 2 < 64 ? ms * 2 : 64;
	return (struct timeval){ 0, (suseconds_t)ms * 1000 };
}

/* Whether the client's last command was COM_QUIT: then either side closing
 * (and a write racing the close) is the normal end of the session. */
static int client_quit(struct session *s)
{
	struct tunnel t;

	return fp_tunnel_get(ts_of(s)->ccookie, &t) == 0 && t.conv.last_cmd == COM_QUIT;
}

static void tunnel_client_cb(evutil_socket_t fd, short what, void *arg);
static void serve_client(struct session *s);
static void kill_answered(struct session *s);
static void serve_backend(struct session *s);

/* ---- writing: the two queues --------------------------------------------- */

static void close_flush_timeout(struct session *s)
{
	sess_log(s, LOG_DEBUG, "client did not take its last answer in time");
	sess_free(s);
}

/* Ends the session once the client has taken what is queued for it
 * (bounded by TUNNEL_CLOSE_FLUSH_MS). May free s. */
static void close_after_flush(struct session *s)
{
	struct tunnel_state *ts = ts_of(s);

	ts->closing = 1;
	event_del(ts->cev);
	event_del(ts->bev_ev);
	if (outq_empty(&ts->to_client)) {
		sess_free(s);
		return;
	}
	sess_arm_timer(s, TUNNEL_CLOSE_FLUSH_MS, close_flush_timeout);
}

/* The client has the answer to its KILL: tell the program that user
 * space answered that command (so its conversation does not wait for a
 * backend response; tun_apply_rearm), then serve what was held behind it.
 * Nothing behind the KILL went to the backend before this. May free s. */
static void kill_answered(struct session *s)
{
	struct tunnel_state *ts = ts_of(s);
	struct tunnel_ctl ctl;

	if (fp_ctl_get(ts->ccookie, &ctl) < 0)
		goto fail;
	ctl.answered = ++ts->answered;
	if (fp_ctl_set(ts->ccookie, &ctl) < 0)
		goto fail;
	ts->kill_busy = 0;
	WSTAT_ADD(s->w, punts, 1);
	serve_client(s);
	return;
fail:
	sess_log(s, LOG_ERROR, "cannot tell the program a KILL was answered: %s", strerror(errno));
	sess_free(s);
}

/* The client's queue is empty again: what waited for that. */
static void client_flushed(struct session *s)
{
	struct tunnel_state *ts = ts_of(s);

	if (ts->closing) {
		sess_free(s);
		return;
	}
	if (ts->kill_answer_queued) {
		ts->kill_answer_queued = 0;
		kill_answered(s);
		return;
	}
	if (!ts->lingering) {
		ts->backend_waiting = 0;
		event_add(ts->bev_ev, NULL);
		serve_backend(s);
	}
}

/* Queues bytes for the client and writes what the socket takes now.
 * 1 when all went out (nothing waits), 0 when some wait for EV_WRITE,
 * -errno when the client is gone. */
/* Writes what waits for the client, once the kernel's own redirects to
 * it are all in its send queue (so nothing overtakes them). 1 when the
 * queue is empty, 0 when waiting (ctimer or EV_WRITE goes on: client_push_step),
 * -errno when the client is gone. */
static int push_client(struct session *s)
{
	struct tunnel_state *ts = ts_of(s);
	size_t sent = 0;

	if (outq_empty(&ts->to_client))
		return 1;
	if (!client_redirects_queued(s)) {
		struct timeval tv = redirect_wait(s, &ts->client_wait_ms);
		return evtimer_add(ts->ctimer, &tv) < 0 ? -ENOMEM : 0;
	}
	ts->client_wait_ms = 0;
	int rc = outq_flush(&ts->to_client, s->cfd, &sent);
	note_written(s, 0, sent);
	if (rc == 0)
		event_add(ts->cwr, NULL);
	return rc;
}

static int answer_client(struct session *s, const struct proto_buf *pkt)
{
	struct tunnel_state *ts = ts_of(s);

	if (pkt->err)
		return pkt->err;
	if (outq_append(&ts->to_client, pkt->data, pkt->len) < 0)
		return -ENOMEM;
	return push_client(s);
}

/* The client's queue went out, or the redirects ahead of it are there
 * now (a look). May free s. */
static void client_push_step(struct session *s)
{
	struct tunnel_state *ts = ts_of(s);
	int was_empty = outq_empty(&ts->to_client);
	int rc = push_client(s);

	if (rc == 0)
		return;
	event_del(ts->cwr);
	if (rc < 0) {
		sess_log(s, LOG_INFO, "client went away before taking shunt's answer: %s", strerror(-rc));
		sess_free(s);
		return;
	}
	if (was_empty) {
		serve_backend(s);       /* a look for passed backend bytes */
		return;
	}
	client_flushed(s);
}

static void client_writable_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	client_push_step(arg);
}

static void client_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	client_push_step(arg);
}

/* Writes the held bytes queued for the backend, once the kernel's own
 * redirects are there. 1 when the queue is empty, 0 when waiting (a
 * timer or EV_WRITE will call backend_push_step), -errno when the backend
 * socket failed. */
static int push_backend(struct session *s)
{
	struct tunnel_state *ts = ts_of(s);
	size_t sent;

	if (outq_empty(&ts->to_backend))
		return 1;
	if (!redirects_queued(s)) {
		struct timeval tv = redirect_wait(s, &ts->redirect_wait_ms);
		event_del(ts->cev);
		return evtimer_add(ts->timer, &tv) < 0 ? -ENOMEM : 0;
	}
	ts->redirect_wait_ms = 0;
	sent = 0;
	int rc = outq_flush(&ts->to_backend, s->bfd, &sent);
	note_written(s, 1, sent);
	if (rc == 0) {
		event_del(ts->cev);
		event_add(ts->bwr, NULL);
	}
	return rc;
}

/* The held bytes are all with the backend now (after a wait): re-arm and
 * serve what the client sent meanwhile. */
static void backend_push_step(struct session *s)
{
	struct tunnel_state *ts = ts_of(s);
	int rc = push_backend(s);

	if (rc == 0)
		return;
	event_del(ts->bwr);
	if (rc < 0) {
		sess_log(s, LOG_INFO, "backend side ended while shunt wrote to it: %s", strerror(-rc));
		sess_free(s);
		return;
	}
	rearm_if_held(s);
	serve_client(s);
}

static void backend_writable_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	backend_push_step(arg);
}

/* ---- held client bytes ------------------------------------------------- *
 *
 * What the program passes is the held stream: the client's bytes from the
 * packet header where a hold began (tunnel.hold_start) on, until user
 * space re-arms. User space frames all of it, classifies every command
 * start (must_see.h: a packet with sequence id 0, which is the only kind
 * the server takes as a command), and carries each one:
 *  - what needs no look is queued for the backend as it is (streamed:
 *    only its header must be here);
 *  - a command user space must see waits until its whole packet is here
 *    and every response ahead of it has ended (the kernel's conversation:
 *    resps_done reaches cmd_base + cmds_walked), and then goes as
 *    rewritten (a change-user), noted (statements), or is answered by
 *    shunt (a KILL);
 *  - after a binlog dump (opaque), commands cannot be told from data
 *    any more: the tunnel stays held for good, and a possible command the
 *    client sends after it ends the session, as in the relay.
 * The tunnel is re-armed only when nothing held is left unwalked, so
 * nothing the kernel forwards later can overtake it. */

/* walk_held() results besides -errno */
#define HW_DONE     0   /* every held byte carried (or streaming a packet's body) */
#define HW_MORE     1   /* the packet at the front must be complete first: read more */
#define HW_AGAIN    2   /* bytes before a held command must reach the backend first */
#define HW_WAIT     3   /* the held command waits for the responses ahead of it */
#define HW_KILL     4   /* kill.c took a KILL; resumed by tunnel_kill_resume */
#define HW_CLOSING  5   /* the session is closing (a refused change-user) */

/* Reads what the program passed into ts->hold. A new hold (a generation
 * the walk was not reset for) restarts the walk where the program says it
 * begins. Returns the bytes read, -ECONNRESET at EOF with nothing read,
 * -EPROTO when the kernel forwarded a command it had to hold (it never
 * should), or -errno. */
static ssize_t read_held(struct session *s)
{
	struct tunnel_state *ts = ts_of(s);
	struct tunnel t;
	uint64_t before = ts->passed_read;

	if (ts->hold.len >= TUNNEL_HOLD_MAX)
		return 0;               /* the walk takes some first */
	ssize_t n = read_available(s->cfd, &ts->hold, TUNNEL_READ_MAX);
	if (n <= 0)
		return n;
	ts->passed_read += (uint64_t)n;
	if (fp_tunnel_get(ts->ccookie, &t) < 0)
		return -errno;
	if (t.punt_missed) {
		sess_log(s, LOG_ERROR, "the kernel forwarded %u command start(s) shunt must look at; "
			 "closing", t.punt_missed);
		return -EPROTO;
	}
	if (t.state == TUN_ST_HELD)
		ts->held_gen_seen = t.held_gen;
	if (!ts->hold_reset || t.hold_gen != ts->hold_gen_seen) {
		if (ts->hold.len != (size_t)n) {
			sess_log(s, LOG_ERROR, "a new hold began while %zu held bytes were unwalked; closing",
				 ts->hold.len - (size_t)n);
			return -EPROTO;
		}
		uint64_t skip = t.hold_start > before ? t.hold_start - before : 0;
		ts->hold_reset = 1;
		ts->hold_gen_seen = t.hold_gen;
		ts->body_left = skip > UINT32_MAX ? UINT32_MAX : (uint32_t)skip;
		ts->next_cont = t.hold_cont;
		ts->cmd_base = t.hold_cmds;
		ts->cmds_walked = 0;
		stmt_xlate_reset(&s->xl, skip, t.hold_cont);
	}
	return n;
}

/* Whether every response ahead of the held command at the front of the
 * walk has ended (the kernel's conversation, as the program will see it
 * at its next run). Fills *conv. 1, 0, or -errno. */
static int held_at_boundary(struct session *s, struct mt_conv *conv)
{
	struct tunnel_state *ts = ts_of(s);
	struct tunnel t;

	struct tunnel bt;

	if (fp_tunnel_get_current(ts->ccookie, &t) < 0 || fp_tunnel_get(ts->bcookie, &bt) < 0)
		return -errno;
	*conv = t.conv;
	/* The responses' last bytes may still wait on the backend socket
	 * (backpressure), or in to_client: those go to the client first. */
	if (bt.passed_bytes != ts->b_passed_read || !outq_empty(&ts->to_client))
		return 0;
	return t.conv.resps_done >= ts->cmd_base + ts->cmds_walked;
}

static void tunnel_kill_resume(struct session *s, const struct kill_result *res);

/* Carries out the held command user space must see (see: its class),
 * whose whole packet is p[0..wire), at its boundary (conv: the
 * conversation there). Appends what goes to the backend to out. Returns
 * HW_DONE, HW_KILL or HW_CLOSING. */
static int carry_held(struct session *s, uint32_t see, const uint8_t *p, size_t wire,
		      const struct mt_conv *conv, struct proto_buf *out)
{
	struct tunnel_state *ts = ts_of(s);
	struct proto_buf err;

	if ((see == MT_SEE_KILL_CMD || see == MT_SEE_KILL_QUERY) &&
	    kill_from_client(s, p, wire, tunnel_kill_resume)) {
		ts->kill_busy = 1;
		return HW_KILL;
	}
	if (see == MT_SEE_CHANGE_USER) {
		stmt_on_client_command(s->stmts, p + MYSQL_HDR_LEN, wire - MYSQL_HDR_LEN);
		proto_buf_init(&err);
		if (sess_split_change_users(s, p, wire, out, &err) < 0) {
			struct proto_buf pkt;
			proto_buf_init(&pkt);
			change_user_refusal(&err, &pkt);
			answer_client(s, &pkt);
			proto_buf_free(&pkt);
			proto_buf_free(&err);
			return HW_CLOSING;
		}
		proto_buf_free(&err);
		return HW_DONE;
	}
	if (see == MT_SEE_PREPARE || see == MT_SEE_STMT || see == MT_SEE_EXECUTE) {
		if (!stmt_note_commands(&s->stmts, conv, p, 0, wire, out))
			proto_put_bytes(out, p, wire);
		return HW_DONE;
	}
	if (see == MT_SEE_OPAQUE) {
		sess_log(s, LOG_INFO, "command 0x%02x: the kernel cannot follow the conversation past "
			 "it; user space takes every client byte from here on", p[MYSQL_HDR_LEN]);
		ts->opaque = 1;
	}
	proto_put_bytes(out, p, wire);  /* a KILL shunt does not take, a binlog dump */
	return HW_DONE;
}

/* Walks ts->hold from the front: queues for the backend what may go, up
 * to the first packet that must wait (HW_MORE, HW_AGAIN, HW_WAIT) or a
 * command shunt carries out otherwise (HW_KILL, HW_CLOSING). Returns
 * HW_* or -errno (the session ends). */
static int walk_held(struct session *s)
{
	struct tunnel_state *ts = ts_of(s);
	struct proto_buf out, xo;
	size_t off = 0;
	int rc = HW_DONE;

	proto_buf_init(&out);
	while (off < ts->hold.len && rc == HW_DONE) {
		const uint8_t *p = ts->hold.data + off;
		size_t avail = ts->hold.len - off;

		if (ts->body_left) {
			size_t n = avail < ts->body_left ? avail : ts->body_left;
			proto_put_bytes(&out, p, n);
			ts->body_left -= (uint32_t)n;
			off += n;
			continue;
		}
		if (avail < MYSQL_HDR_LEN) {
			rc = HW_MORE;
			break;
		}
		uint32_t plen = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
		int is_cmd = !ts->next_cont && p[3] == 0 && plen > 0;
		uint32_t see = MT_SEE_NONE;
		if (is_cmd && !must_see_classify(s->stmts, p, avail, &see)) {
			rc = avail >= TUNNEL_HOLD_MAX ? -EMSGSIZE : HW_MORE;
			break;
		}
		if (ts->opaque && is_cmd && see != MT_SEE_NONE && see != MT_SEE_OPAQUE) {
			sess_log(s, LOG_WARN, "client sent a possible command after one shunt cannot "
				 "follow past (a binlog dump); closing");
			rc = -EPROTO;
			break;
		}
		size_t wire = MYSQL_HDR_LEN + (size_t)plen;
		int whole_needed = is_cmd && see != MT_SEE_NONE && see != MT_SEE_ALL && !ts->opaque;
		/* A prepare or execute too large to hold goes as it is: the
		 * statement table then counts the prepare as unaccounted
		 * (the session cannot migrate), and an execute's types are
		 * not learnt from it. */
		if (whole_needed && (plen == MYSQL_MAX_PAYLOAD || wire > TUNNEL_HOLD_MAX) &&
		    (see == MT_SEE_PREPARE || see == MT_SEE_EXECUTE)) {
			sess_log(s, LOG_INFO, "command 0x%02x of %u bytes goes to the backend unlooked-at",
				 p[MYSQL_HDR_LEN], plen);
			whole_needed = 0;
		}
		if (!whole_needed) {
			proto_put_bytes(&out, p, MYSQL_HDR_LEN);
			ts->next_cont = plen == MYSQL_MAX_PAYLOAD;
			ts->body_left = plen;
			ts->cmds_walked += is_cmd;
			off += MYSQL_HDR_LEN;
			continue;
		}
		if (plen == MYSQL_MAX_PAYLOAD || wire > TUNNEL_HOLD_MAX) {
			sess_log(s, LOG_WARN, "a command shunt must look at (0x%02x) is larger than %d "
				 "bytes; closing", p[MYSQL_HDR_LEN], TUNNEL_HOLD_MAX);
			rc = -EMSGSIZE;
			break;
		}
		if (avail < wire) {
			rc = HW_MORE;
			break;
		}
		if (out.len) {
			rc = HW_AGAIN;          /* what is before it goes first */
			break;
		}
		struct mt_conv conv;
		int at = held_at_boundary(s, &conv);
		if (at <= 0) {
			rc = at < 0 ? at : HW_WAIT;
			break;
		}
		rc = carry_held(s, see, p, wire, &conv, &out);
		if (rc == HW_CLOSING)
			break;
		ts->cmds_walked++;
		off += wire;
	}
	if (off) {              /* (hold.data is NULL while nothing was ever held) */
		memmove(ts->hold.data, ts->hold.data + off, ts->hold.len - off);
		ts->hold.len -= off;
	}
	if (out.len && rc >= 0 && rc != HW_CLOSING) {
		size_t wlen = out.len;
		proto_buf_init(&xo);
		const uint8_t *wdata = stmt_xlate_pass(&s->xl, s->stmts, out.data, &wlen, &xo);
		if (out.err || !wdata || outq_append(&ts->to_backend, wdata, wlen) < 0)
			rc = -ENOMEM;
		proto_buf_free(&xo);
	}
	proto_buf_free(&out);
	return rc;
}

/* kill.c is done with the client's held KILL: answer it on the client
 * socket; once the answer is out, tell the program that user space
 * answered that command (kill_answered) and walk on. */
static void tunnel_kill_resume(struct session *s, const struct kill_result *res)
{
	struct tunnel_state *ts = ts_of(s);
	struct tunnel t;
	struct proto_buf pkt;

	if (fp_tunnel_get(ts->ccookie, &t) < 0) {
		sess_log(s, LOG_WARN, "tunnel entry gone while answering a KILL; closing");
		sess_free(s);
		return;
	}
	proto_buf_init(&pkt);
	kill_build_answer(res, t.conv.caps, t.conv.status, &pkt);
	int rc = answer_client(s, &pkt);
	proto_buf_free(&pkt);
	if (rc < 0) {
		sess_log(s, LOG_INFO, "client went away before its KILL was answered");
		sess_free(s);
		return;
	}
	if (res->code == ER_CONNECTION_KILLED) {
		sess_log(s, LOG_INFO, "the client killed its own connection");
		close_after_flush(s);
		return;
	}
	if (rc == 1)
		kill_answered(s);
	else
		ts->kill_answer_queued = 1;     /* client_flushed() goes on */
}

static void boundary_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;
	(void)fd;
	(void)what;
	serve_client(s);
}

/* A held command waits for the responses ahead of it: look again soon
 * (1 ms, backing off to TUNNEL_BOUNDARY_WAIT_MAX_MS). */
static int wait_for_boundary(struct session *s)
{
	struct tunnel_state *ts = ts_of(s);
	unsigned ms = ts->boundary_wait_ms ? ts->boundary_wait_ms : 1;
	struct timeval tv = { 0, (suseconds_t)ms * 1000 };

	ts->boundary_wait_ms = ms * 2 < TUNNEL_BOUNDARY_WAIT_MAX_MS ? ms * 2 : TUNNEL_BOUNDARY_WAIT_MAX_MS;
	return evtimer_add(ts->boundary_timer, &tv);
}

/* Reads and walks what the program passed (a held command and whatever
 * followed it), queues it for the backend, re-arms once nothing held is
 * left, and goes on until the socket is empty. Bytes passed after a read
 * keep the tunnel held (passed_seen), so the next round takes them in
 * order. The read after the re-arm matters in stream-parser mode too: a
 * recv() on the socket is what lets the kernel's strparser go on with a
 * segment that arrived while the tunnel was held (measured; verdict mode
 * does not need it). May free s. */
static void serve_client(struct session *s)
{
	struct tunnel_state *ts = ts_of(s);
	ssize_t n = 0;

	if (ts->closing || !outq_empty(&ts->to_backend) || ts->kill_busy)
		return;         /* resumed when the queue is empty or the KILL answered */
	if (evtimer_pending(ts->boundary_timer, NULL))
		return;         /* boundary_timer_cb() goes on */
	if (s->borrower && ts->hold.len == 0 && ts->body_left == 0) {
		/* A command held for a borrower (a migration) waits in the
		 * socket until it gives the session back. */
		struct tunnel t;
		if (fp_tunnel_get(ts->ccookie, &t) == 0 && t.state == TUN_ST_HELD &&
		    t.punt_reason == TUN_PUNT_ALL && t.held_gen != ts->held_gen_seen &&
		    t.passed_bytes > ts->passed_read && sess_at_boundary(s, 1))
			return;
	}
	for (int round = 0; round < 64; round++) {
		n = read_held(s);
		if (n < 0 && n != -ECONNRESET)
			break;
		int eof = n == -ECONNRESET;
		int rc = walk_held(s);
		if (rc < 0) {
			n = rc;
			break;
		}
		if (rc == HW_KILL) {
			event_del(ts->cev);
			return;
		}
		if (rc == HW_CLOSING) {
			close_after_flush(s);
			return;
		}
		WSTAT_ADD(s->w, punted_bytes, n > 0 ? (uint64_t)n : 0);
		int pushed = push_backend(s);
		if (pushed == 0)
			return;         /* backend_push_step() goes on */
		if (pushed < 0) {
			n = pushed;
			break;
		}
		if (eof) {
			n = -ECONNRESET;
			break;
		}
		if (rc == HW_AGAIN)
			continue;
		if (rc == HW_WAIT) {
			/* Read on meanwhile, up to TUNNEL_HOLD_MAX (read_held). */
			if (ts->hold.len >= TUNNEL_HOLD_MAX)
				event_del(ts->cev);
			else if (event_add(ts->cev, NULL) < 0)
				n = -ENOMEM;
			if (n >= 0 && wait_for_boundary(s) == 0)
				return;
			n = -ENOMEM;
			break;
		}
		ts->boundary_wait_ms = 0;
		if (rc == HW_DONE && !ts->opaque)
			rearm_if_held(s);
		if (event_add(ts->cev, NULL) < 0) {
			n = -ENOMEM;
			break;
		}
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

static void tunnel_client_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	serve_client(arg);
}

/* ---- the backend socket ---------------------------------------------------- */

static void linger_done(struct session *s)
{
	sess_free(s);
}

/* The backend closed or failed (n: read_available's -errno). Gives the
 * kernel's redirect queue a moment to deliver the backend's last bytes,
 * then closes (FIN is not forwarded by the kernel). */
static void backend_ended(struct session *s, ssize_t n)
{
	struct tunnel_state *ts = ts_of(s);

	if (client_quit(s))
		sess_log(s, LOG_DEBUG, "backend closed after COM_QUIT");
	else
		sess_log(s, n == -ECONNRESET ? LOG_INFO : LOG_WARN, "backend %s; closing the client",
			 n == -ECONNRESET ? "closed the connection" : "failed");
	ts->lingering = 1;
	event_del(ts->bev_ev);
	event_del(ts->cev);
	sess_arm_timer(s, 50, linger_done);
}

/* Re-arms the backend entry once every byte it passed has been read and
 * written to the client (nothing waits in to_client), so the kernel's
 * redirects after it cannot overtake them. */
static void rearm_backend_if_done(struct session *s)
{
	struct tunnel_state *ts = ts_of(s);
	struct tunnel bt;
	struct tunnel_ctl ctl;

	if (!outq_empty(&ts->to_client) || fp_tunnel_get(ts->bcookie, &bt) < 0 ||
	    bt.state != TUN_ST_HELD || bt.passed_bytes != ts->b_passed_read ||
	    fp_ctl_get(ts->ccookie, &ctl) < 0)
		return;
	if (ctl.b_rearm_gen == bt.held_gen && ctl.b_passed_seen == ts->b_passed_read)
		return;
	ctl.b_rearm_gen = bt.held_gen;
	ctl.b_passed_seen = ts->b_passed_read;
	if (fp_ctl_set(ts->ccookie, &ctl) < 0)
		sess_log(s, LOG_ERROR, "cannot re-arm the backend side: %s", strerror(errno));
}

/* Carries backend bytes that reached user space to the client: those the
 * program passed for backpressure, or any after the tunnel entry went.
 * One chunk at a time, only while nothing else waits for the client and
 * the kernel's redirects to it are all there; the backend socket is not
 * read meanwhile (its bytes wait in its receive queue, where TCP holds
 * the backend back). Then re-arms the backend entry. EOF or an error
 * ends the session. May free s. */
static void serve_backend(struct session *s)
{
	static __thread uint8_t chunk[TUNNEL_IO_CHUNK];
	struct tunnel_state *ts = ts_of(s);
	struct proto_buf buf;

	if (ts->closing || ts->lingering || ts->backend_waiting)
		return;
	if (!outq_empty(&ts->to_client)) {
		/* client_flushed() goes on */
		ts->backend_waiting = 1;
		event_del(ts->bev_ev);
		return;
	}
	ssize_t n = recv(s->bfd, chunk, sizeof(chunk), MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
		rearm_backend_if_done(s);
		return;
	}
	if (n <= 0) {
		backend_ended(s, n == 0 ? -ECONNRESET : -errno);
		return;
	}
	ts->b_passed_read += (uint64_t)n;
	struct tunnel ct, bt;
	if (fp_tunnel_get(ts->ccookie, &ct) == 0 && ct.punt_missed) {
		sess_log(s, LOG_ERROR, "the kernel could not frame the session's bytes (%u times); closing",
			 ct.punt_missed);
		sess_free(s);
		return;
	}
	if (fp_tunnel_get(ts->bcookie, &bt) < 0 || bt.state != TUN_ST_HELD)
		sess_log(s, LOG_WARN, "%zd backend bytes reached user space (no hold); forwarded", n);
	WSTAT_ADD(s->w, held_bytes_s2c, (uint64_t)n);
	proto_buf_init(&buf);
	proto_put_bytes(&buf, chunk, (size_t)n);
	int rc = answer_client(s, &buf);
	proto_buf_free(&buf);
	if (rc < 0) {
		sess_log(s, LOG_INFO, "client side ended while shunt wrote to it: %s", strerror(-rc));
		sess_free(s);
		return;
	}
	if (rc == 0) {
		ts->backend_waiting = 1;
		event_del(ts->bev_ev);  /* client_flushed() goes on */
		return;
	}
	rearm_backend_if_done(s);
}

static void tunnel_backend_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	serve_backend(arg);
}

/* The carrier's one timer: a redirect wait is over (the session's own
 * timer serves lingering and closing). */
static void tunnel_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	backend_push_step(arg);
}

/* ---- the carrier interface -------------------------------------------------- */

static int tunnel_conv(struct session *s, struct mt_conv *out)
{
	struct tunnel t;

	if (fp_tunnel_get_current(ts_of(s)->ccookie, &t) < 0)
		return -errno;
	*out = t.conv;
	return 0;
}

static int tunnel_safe_point(struct session *s, int *held)
{
	struct tunnel_state *ts = ts_of(s);
	struct tunnel t;

	*held = 0;
	if (!outq_empty(&ts->to_client) || !outq_empty(&ts->to_backend) || ts->kill_busy ||
	    ts->hold.len || ts->body_left || evtimer_pending(ts->boundary_timer, NULL) || ts->closing || ts->lingering || fp_tunnel_get_current(ts->ccookie, &t) < 0)
		return 0;
	struct tunnel bt;
	if (fp_tunnel_get(ts->bcookie, &bt) < 0 || bt.state != TUN_ST_FORWARD ||
	    bt.passed_bytes != ts->b_passed_read)
		return 0;
	if (t.state == TUN_ST_HELD && t.punt_reason == TUN_PUNT_ALL &&
	    t.passed_bytes > ts->passed_read) {
		*held = 1;
		return 1;
	}
	return t.state == TUN_ST_FORWARD && t.passed_bytes == ts->passed_read && mt_movable(&t.conv);
}

static const char *tunnel_cannot_switch(struct session *s)
{
	(void)s;
	/* In stream-parser mode the strparser of the old backend socket does
	 * not hand shunt's own answers back reliably (seen: a capture that
	 * never arrived, a client stalled after a refused move). Until that
	 * is understood, such sessions are not moved rather than risked. */
	return fp_stream_parser() ? "migration is not supported in stream-parser mode" : NULL;
}

static int tunnel_stop_at_boundary(struct session *s, int on)
{
	return on ? ctl_flags(s, TUN_CTL_PUNT_ALL, 0) : ctl_flags(s, 0, TUN_CTL_PUNT_ALL);
}

static int tunnel_pause(struct session *s, struct mt_conv *conv)
{
	struct tunnel_state *ts = ts_of(s);
	struct tunnel t;

	if (fp_tunnel_get_current(ts->ccookie, &t) < 0)
		return -errno;
	int rc = ctl_flags(s, TUN_CTL_BACKEND_PASS, 0);
	if (rc < 0)
		return rc;
	event_del(ts->cev);
	event_del(ts->bev_ev);
	*conv = t.conv;
	return 0;
}

static int tunnel_switch_backend(struct session *s, int nfd, const struct backend *to, int *old_fd)
{
	struct tunnel_state *ts = ts_of(s);
	struct fp_tunnel_spec spec;
	struct tunnel t;
	struct tunnel_ctl ctl;
	uint64_t ncookie = 0, old_cookie = ts->bcookie;
	char why[200];

	if (fp_sock_cookie(nfd, &ncookie) < 0 || fp_tunnel_get(ts->ccookie, &t) < 0) {
		sess_log(s, LOG_WARN, "switch: cannot read the tunnel: %s", strerror(errno));
		close(nfd);
		return -EIO;
	}
	memset(&spec, 0, sizeof(spec));
	spec.ccookie = ts->ccookie;
	spec.bfd = nfd;
	spec.bcookie = ncookie;
	spec.conn_id = s->id;
	spec.backend_id = (uint32_t)to->serial;
	spec.caps = s->backend_caps;
	spec.status = t.conv.status;
	spec.backend_sa = (const struct sockaddr *)&to->addr.sa;
	if (fp_tunnel_add_backend(&spec, why, sizeof(why)) < 0) {
		sess_log(s, LOG_WARN, "switch: %s", why);
		close(nfd);
		return -EIO;
	}
	struct event *ev = event_new(s->w->base, nfd, EV_READ | EV_PERSIST, tunnel_backend_cb, s);
	struct event *wr = event_new(s->w->base, nfd, EV_WRITE | EV_PERSIST, backend_writable_cb, s);
	if (!ev || !wr || fp_ctl_get(ts->ccookie, &ctl) < 0) {
		if (ev)
			event_free(ev);
		if (wr)
			event_free(wr);
		fp_tunnel_drop_backend(ncookie);
		close(nfd);
		return -ENOMEM;
	}
	/* From here on client bytes the kernel forwards go to the new
	 * backend, with statement ids as it knows them; the held ones are
	 * forwarded when the carrier resumes. */
	ctl.backend_cookie = ncookie;
	ctl.flags &= ~(TUN_CTL_PUNT_ALL | TUN_CTL_BACKEND_PASS);
	/* Backpressure and ordering counts start again on the new socket
	 * (the client entry's bytes so far went to the old one). */
	uint64_t nbase = 0;
	struct tunnel old_bt;
	if (fp_sock_written(nfd, &nbase) < 0)
		nbase = 0;
	ctl.backend_ext_written = nbase - t.bytes;
	ctl.b_rearm_gen = 0;
	ctl.b_passed_seen = 0;
	ctl.exec_watch = stmt_exec_watch(s->stmts);
	if (xlate_sync(s, &ctl) < 0 || fp_ctl_set(ts->ccookie, &ctl) < 0) {
		event_free(ev);
		event_free(wr);
		fp_tunnel_drop_backend(ncookie);
		close(nfd);
		sess_log(s, LOG_WARN, "switch: cannot point the tunnel at the new backend");
		return -EIO;
	}
	if (fp_tunnel_get(old_cookie, &old_bt) == 0)
		ts->b_retired += old_bt.bytes;
	fp_tunnel_drop_backend(old_cookie);
	ts->b_passed_read = 0;
	ts->backend_waiting = 0;
	event_free(ts->bev_ev);
	event_free(ts->bwr);
	ts->bev_ev = ev;
	ts->bwr = wr;
	ts->bcookie = ncookie;
	ts->redirected_base = t.bytes;
	ts->user_written = 0;
	ts->bfd_base = nbase;
	*old_fd = s->bfd;
	s->bfd = nfd;
	return 0;
}

/* The statement table changed: the kernel's translations and the
 * executes it must hand over follow. */
static void tunnel_stmts_changed(struct session *s)
{
	struct tunnel_ctl ctl;

	if (fp_ctl_get(ts_of(s)->ccookie, &ctl) < 0) {
		sess_log(s, LOG_WARN, "cannot read the tunnel's control entry: %s", strerror(errno));
		return;
	}
	ctl.exec_watch = stmt_exec_watch(s->stmts);
	if (xlate_sync(s, &ctl) < 0 || fp_ctl_set(ts_of(s)->ccookie, &ctl) < 0)
		sess_log(s, LOG_WARN, "cannot update the kernel's statement ids: %s", strerror(errno));
}

static void tunnel_resume(struct session *s)
{
	struct tunnel_state *ts = ts_of(s);

	if (ctl_flags(s, 0, TUN_CTL_BACKEND_PASS) < 0 || event_add(ts->bev_ev, NULL) < 0) {
		sess_log(s, LOG_ERROR, "cannot give the session back to the kernel; closing");
		sess_free(s);
		return;
	}
	/* What the client sent meanwhile (the held command, first). */
	serve_client(s);
}

/* Control thread: the kernel's counters for a view (map reads stay off
 * the workers). */
static void tunnel_view_late(struct carrier_view *v)
{
	struct tunnel ct, bt;

	if (fp_tunnel_get_current(v->key[0], &ct) < 0)
		return;
	v->in_tx = !!(ct.conv.status & SERVER_STATUS_IN_TRANS);
	v->commands = ct.conv.cmds_started;
	v->bytes_c2s = ct.bytes + ct.passed_bytes;
	/* The session's current backend socket: a migration changes it,
	 * while the client entry keeps naming the first one. */
	if (fp_tunnel_get(v->key[1], &bt) == 0)
		v->bytes_s2c = bt.bytes;
	v->punts = ct.punts;
	v->last_latency_us = ct.last_latency_ns / 1000;
	v->idle = mt_idle(&ct.conv);
}

static void tunnel_view(struct session *s, struct carrier_view *v)
{
	v->mode = "kernel";
	v->key[0] = ts_of(s)->ccookie;
	v->key[1] = ts_of(s)->bcookie;
	v->fill_late = tunnel_view_late;
}

static void tunnel_free(struct session *s)
{
	struct tunnel_state *ts = ts_of(s);
	struct event **evs[] = { &ts->cev, &ts->bev_ev, &ts->cwr, &ts->bwr, &ts->timer,
				 &ts->boundary_timer, &ts->ctimer };
	uint64_t c2s = 0, s2c = 0;

	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++) {
		if (*evs[i])
			event_free(*evs[i]);
		*evs[i] = NULL;
	}
	/* Read the counters one last time for the log. */
	struct tunnel ct, bt;
	if (fp_tunnel_get(ts->ccookie, &ct) == 0 && fp_tunnel_get(ts->bcookie, &bt) == 0) {
		c2s = ct.bytes;
		s2c = bt.bytes;
		STAT_ADD(s->sh, kernel_bytes_c2s, ct.bytes);
		STAT_ADD(s->sh, kernel_bytes_s2c, bt.bytes);
	}
	sess_log(s, LOG_DEBUG, "tunnel done: kernel c2s=%llu s2c=%llu, punted %llu bytes",
		 (unsigned long long)c2s, (unsigned long long)s2c,
		 (unsigned long long)ts->passed_read);
	drop_translations(s, NULL, 0);
	free(ts->xl_ids);
	outq_free(&ts->to_client);
	outq_free(&ts->to_backend);
	proto_buf_free(&ts->hold);
	/* Closing the sockets takes them out of the sockhash (and drops any
	 * unread passed bytes with them); then the entries go. */
	if (s->cfd >= 0)
		close(s->cfd);
	if (s->bfd >= 0)
		close(s->bfd);
	s->cfd = s->bfd = -1;
	fp_tunnel_close(ts->ccookie, ts->bcookie);
	STAT_SUB(s->sh, kernel_now, 1);
	free(ts);
	s->carrier_data = NULL;
}

static const struct carrier_ops tunnel_ops = {
	.name = "kernel",
	.conv = tunnel_conv,
	.safe_point = tunnel_safe_point,
	.cannot_switch = tunnel_cannot_switch,
	.stop_at_boundary = tunnel_stop_at_boundary,
	.pause = tunnel_pause,
	.switch_backend = tunnel_switch_backend,
	.stmts_changed = tunnel_stmts_changed,
	.resume = tunnel_resume,
	.view = tunnel_view,
	.free = tunnel_free,
};

int tunnel_start(struct session *s, const uint8_t *ok, size_t oklen, uint16_t status,
		 char *why, size_t whylen)
{
	struct fp_tunnel_spec spec;
	struct proto_buf pkt;
	struct tunnel_state *ts;
	int cfd = bufferevent_getfd(s->cbev), bfd = bufferevent_getfd(s->bbev);

	if (evbuffer_get_length(bufferevent_get_input(s->cbev)) ||
	    evbuffer_get_length(bufferevent_get_output(s->cbev)) ||
	    evbuffer_get_length(bufferevent_get_input(s->bbev)) ||
	    evbuffer_get_length(bufferevent_get_output(s->bbev))) {
		snprintf(why, whylen, "bytes still queued in user space at hand-over");
		return -EBUSY;
	}
	ts = calloc(1, sizeof(*ts));
	if (!ts) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
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
		int err = -errno;
		snprintf(why, whylen, "cannot read socket cookies: %s", strerror(errno));
		free(ts);
		return err;
	}
	/* The bound on what either socket may have undelivered before the
	 * program holds (stream-parser mode: not enforced, docs/fastpath.md). */
	spec.queue_max = fp_stream_parser() ? UINT32_MAX : TUN_QUEUE_MAX_DEFAULT;
	if (fp_sock_written(cfd, &ts->cfd_base) < 0 || fp_sock_written(bfd, &ts->bfd_base) < 0) {
		int err = -errno;
		snprintf(why, whylen, "cannot read the sockets' TCP counters: %s", strerror(errno));
		free(ts);
		return err;
	}
	int rc = fp_tunnel_open(&spec, why, whylen);
	if (rc < 0) {
		free(ts);
		return rc;
	}
	/* From here on the session is the kernel's (freeing it closes the
	 * entries). */
	ts->ccookie = spec.ccookie;
	ts->bcookie = spec.bcookie;
	s->carrier = &tunnel_ops;
	s->carrier_data = ts;
	STAT_ADD(s->sh, kernel_now, 1);
	s->cfd = pktio_steal_fd(&s->cbev, NULL, NULL);  /* checked empty above */
	s->bfd = pktio_steal_fd(&s->bbev, NULL, NULL);
	ts->cev = event_new(s->w->base, s->cfd, EV_READ | EV_PERSIST, tunnel_client_cb, s);
	ts->bev_ev = event_new(s->w->base, s->bfd, EV_READ | EV_PERSIST, tunnel_backend_cb, s);
	ts->cwr = event_new(s->w->base, s->cfd, EV_WRITE | EV_PERSIST, client_writable_cb, s);
	ts->bwr = event_new(s->w->base, s->bfd, EV_WRITE | EV_PERSIST, backend_writable_cb, s);
	ts->timer = evtimer_new(s->w->base, tunnel_timer_cb, s);
	ts->boundary_timer = evtimer_new(s->w->base, boundary_timer_cb, s);
	ts->ctimer = evtimer_new(s->w->base, client_timer_cb, s);
	proto_buf_init(&ts->hold);
	if (!ts->cev || !ts->bev_ev || !ts->cwr || !ts->bwr || !ts->timer || !ts->boundary_timer ||
	    !ts->ctimer ||
	    event_add(ts->cev, NULL) < 0 || event_add(ts->bev_ev, NULL) < 0) {
		snprintf(why, whylen, "out of memory");
		return -EPIPE;
	}
	/* The client socket is in the map; now it may get its OK (queued if
	 * the socket is full: the client sends nothing before it). */
	proto_buf_init(&pkt);
	proto_put_packet(&pkt, &s->client_seq, ok, oklen);
	rc = answer_client(s, &pkt);
	proto_buf_free(&pkt);
	if (rc < 0) {
		snprintf(why, whylen, "cannot send the login OK: %s", strerror(-rc));
		return -EPIPE;
	}
	return 0;
}
