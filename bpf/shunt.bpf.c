// SPDX-License-Identifier: GPL-2.0
/* shunt.bpf.c — the kernel fast path.
 *
 * One sk_skb program runs for every skb that arrives on a socket in
 * sock_map. It walks the MySQL packet headers in the skb with the shared
 * tracker (include/mysql_tracker.h, one bpf_loop step per packet), updates
 * the tunnel's counters and conversation, and redirects the skb to the
 * peer socket's egress. At a command boundary it can instead pass a
 * client command to user space (SK_PASS: the bytes land in the client
 * socket's own receive queue) — a "punt" — and then passes every client
 * byte until user space re-arms the tunnel through tunnel_ctl.
 * Backpressure: when the peer socket has more than tunnel_ctl.queue_max
 * bytes it has not delivered, the program passes instead of redirecting,
 * on either socket (the backend entry is held only for this), so the
 * bytes stay charged to the receiving socket and TCP flow control pushes
 * back on the sender; user space carries them when the peer drains.
 *
 * Modes: attached as BPF_SK_SKB_VERDICT (no stream parser, preferred), or
 * as BPF_SK_SKB_STREAM_VERDICT together with shunt_parser as the stream
 * parser. The parser returns skb->len: the program does its own framing, so
 * each skb is one "message" and the parser never has to find MySQL packet
 * boundaries (it sees offset 0 = start of the segment, so it cannot). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define MT_LOAD(ctx, off, dst, n) bpf_skb_load_bytes((ctx), (off), (dst), (n))
#include "shunt_abi.h"

char LICENSE[] SEC("license") = "GPL";

/* bpf_loop's own limit (BPF_MAX_LOOPS): two steps per 4-byte packet
 * cover a 16 MiB skb of empty packets. An skb that TCP coalesced can be
 * well past 64 KiB (the limit was 1 << 16 steps, about 128 KiB of empty
 * packets, which a client could choose to send), and bpf_loop's count
 * costs the verifier nothing. A walk that still ends short is not
 * trusted (walk_short). */
#define WALK_MAX_STEPS (1 << 23)
#define NO_START 0xffffffffu

/* tunnel.walk_marks */
#define WALK_LATER 0x1u         /* another command that may need user space starts
				   after the candidate */
#define WALK_LATE  0x2u         /* one whose header began in an earlier skb */

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, SHUNT_MAX_TUNNELS);
	__type(key, __u64);
	__type(value, __u64);
} sock_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SHUNT_MAX_TUNNELS);
	__type(key, __u64);
	__type(value, struct tunnel);
} tunnels SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SHUNT_MAX_TUNNELS);
	__type(key, __u64);
	__type(value, struct tunnel_ctl);
} tunnel_ctl SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fp_stats);
} fp_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SHUNT_MAX_TUNNELS);
	__type(key, struct stmt_xkey);
	__type(value, __u32);
} stmt_xlate SEC(".maps");

struct walk {
	struct __sk_buff *skb;
	struct fp_stats *st;        /* may be NULL */
	struct tunnel *t;           /* this socket's entry: its frame */
	struct tunnel *ct;          /* the client entry: the conversation */
	struct tunnel_ctl *ctl;     /* may be NULL */
	__u32 off;
	__u32 len;
	__u32 pkt_start;            /* offset of the current packet's header in this skb */
	__u32 cand_valid;           /* a punt candidate was seen in this skb */
	__u32 cand_off;             /* its header's offset */
	__u32 cand_len;             /* its payload length */
	__u32 cand_cmd;             /* its command byte */
	__u32 cand_movable;         /* the session could move just before it (mt_movable) */
	__u32 cand_watched;         /* an execute of a statement in tunnel_ctl.exec_watch */
	__u32 client;               /* this skb is client -> server */
	__u64 now;
};

/* The second walk over a forwarded client skb of a session with
 * translated statement ids, which rewrites them (the first walk had to
 * decide whether the skb is forwarded at all, and held bytes are
 * translated by user space; keeping the rewrite out of the first walk
 * also keeps that walk's verification within the verifier's limits). */
struct rewrite {
	struct __sk_buff *skb;
	struct tunnel *ct;          /* the client entry: its xl_frame is the framing */
	__u32 off;
	__u32 len;
	__u32 pkt_start;
	__u32 _pad;
	__u64 cookie;               /* the client socket's */
};

/* State of the KILL scan (one bpf_loop step per query byte, so the
 * verifier checks one step instead of every path through 64 bytes); the
 * scan itself is the classifier's (mysql_tracker.h). */
struct kill_scan {
	__u8 buf[TUN_KILL_SCAN];
	__u32 n;                    /* bytes in buf */
	struct mt_kill_scan scan;
};

static long kill_step(__u32 i, void *data)
{
	struct kill_scan *k = data;
	__u64 idx = i;

	if (i >= k->n)
		return 1;
	/* the mask must survive the compiler, which knows i < n <= 64 */
	barrier_var(idx);
	return mt_kill_step(&k->scan, k->buf[idx & (TUN_KILL_SCAN - 1)]);
}

/* Whether the COM_QUERY text at off (n bytes of it in this skb; whole:
 * that is all of it) is or may be a KILL: the first TUN_KILL_SCAN bytes
 * are scanned, and a scan they do not decide counts as a KILL (user space
 * reads the whole text). */
static __always_inline int query_is_kill(struct __sk_buff *skb, __u32 off, __u64 n, int whole)
{
	struct kill_scan k = {};

	if (n > TUN_KILL_SCAN) {
		n = TUN_KILL_SCAN;
		whole = 0;
	}
	/* Keep the clamped value in its register so the verifier sees the
	 * same bounds the C code checked. */
	barrier_var(n);
	if (n > TUN_KILL_SCAN)
		return 1;
	if (n > 0 && bpf_skb_load_bytes(skb, off, k.buf, n))
		return 1;
	k.n = (__u32)n;
	bpf_loop(TUN_KILL_SCAN, kill_step, &k, 0);
	return mt_kill_verdict(&k.scan, whole) != MT_KILL_NO;
}

/* Whether user space watches the statement of this COM_STMT_EXECUTE. */
static __always_inline int exec_watched(struct walk *w)
{
	return w->ctl && (w->ctl->exec_watch & (1ull << (mt_pfx_stmt_id(&w->t->frame) & 63)));
}

/* Statement tracking serves migration, which stream-parser mode does not
 * do (docs/migration.md): no statement punts there. */
static __always_inline int stmt_tracking(struct walk *w)
{
	return w->ct->mode != TUN_MODE_STREAM_PARSER;
}

/* Whether a command byte could be punted (cheap, inside the walk). */
static __always_inline int may_punt(struct walk *w, __u8 cmd)
{
	__u32 see;

	if (w->ctl && (w->ctl->flags & TUN_CTL_PUNT_ALL))
		return 1;
	see = mt_see_command(cmd, stmt_tracking(w), cmd == COM_STMT_EXECUTE && exec_watched(w));
	return see != MT_SEE_NONE;
}

/* Decides whether the walk's candidate command goes to user space.
 * Returns TUN_PUNT_* (NONE to forward). */
static __always_inline __u32 punt_reason(struct walk *w)
{
	__u32 see;

	if (!w->cand_valid)
		return TUN_PUNT_NONE;
	/* The conversation was updated through the candidate: the state
	 * before it is what the walk saw when it was idle (was_movable). */
	if (w->ctl && (w->ctl->flags & TUN_CTL_PUNT_ALL) && w->cand_movable)
		return TUN_PUNT_ALL;
	see = mt_see_command((__u8)w->cand_cmd, stmt_tracking(w), w->cand_watched);
	if (see == MT_SEE_QUERY_TEXT) {
		__u32 text = w->cand_off + MYSQL_HDR_LEN + 1;
		__u64 avail = w->len > text ? w->len - text : 0;
		__u64 qlen = w->cand_len ? w->cand_len - 1 : 0;
		int whole = avail >= qlen;

		if (avail > qlen)
			avail = qlen;
		return query_is_kill(w->skb, text, avail, whole) ? TUN_PUNT_KILL_QUERY : TUN_PUNT_NONE;
	}
	/* MT_SEE_OPAQUE too: the tracker follows no command after a binlog
	 * dump, so user space takes every client byte after it */
	return see;
}

/* log2 bucket of a latency in nanoseconds, by microseconds. */
static __always_inline __u32 lat_bucket(__u64 ns)
{
	__u64 us = ns / 1000;
	__u32 b = 0;

	for (int i = 0; i < TUN_LAT_BUCKETS - 1; i++) {
		if (us < 2)
			break;
		us >>= 1;
		b++;
	}
	return b;
}

/* One framing step over the skb; returns 1 with *pkt set when a packet's
 * prefix is ready, -1 on error, 0 otherwise. Records where a packet header
 * begins in this skb (a command can only be punted from its first byte). */
static __always_inline int walk_frame(struct walk *w, int *pkt)
{
	struct tunnel *t = w->t;
	int r;

	if (t->frame.hdr_have == 0)
		w->pkt_start = w->off;
	r = mt_frame_step(&t->frame, w->skb, w->off, w->len, pkt);
	if (r < 0)
		return -1;
	w->off = r;
	return 0;
}

/* Called by a walk step that returns "go on": when it is the last step
 * bpf_loop will make, the walk ends short of the skb's end, and the
 * framing cannot be trusted from here on. Counted in punt_missed (user
 * space ends the session), and the skb is passed, not forwarded: a
 * client skb is held (WALK_LATE), a backend one held for the session's
 * end (its entry's state). Done here, in the step the verifier checks
 * once, rather than by a branch after the loop, which made it go through
 * everything after the walk twice (-E2BIG). */
static __always_inline long walk_short(struct walk *w)
{
	w->ct->punt_missed++;
	if (w->client)
		w->t->walk_marks |= WALK_LATE;
	else
		w->t->state = TUN_ST_HELD;
	return 1;
}

static __always_inline long walk_go_on(struct walk *w, __u32 i)
{
	if (w->off >= w->len)
		return 1;
	if (i >= WALK_MAX_STEPS - 1)
		return walk_short(w);
	return 0;
}

/* bpf_loop step for client -> server bytes. */
static long walk_client(__u32 i, void *data)
{
	struct walk *w = data;
	struct tunnel *ct = w->ct;
	int pkt = 0, was_idle, was_movable;
	__u32 ev;

	if (walk_frame(w, &pkt) < 0)
		return walk_short(w);
	if (!pkt)
		return walk_go_on(w, i);
	was_idle = mt_idle(&ct->conv);
	was_movable = mt_movable(&ct->conv);
	ev = mt_client_packet(&ct->conv, &w->t->frame);
	if ((ev & MT_EV_CMD_START) && was_idle && !(ev & MT_EV_RESP_END))
		ct->cmd_start_ns = w->now;
	/* Remember the first command that starts in this skb and could need
	 * user space; the decision (which may scan the query text) is made
	 * once, after the walk. Any such command behind it, pipelined, makes
	 * the program hold the skb too: user space frames every held packet
	 * (a KILL or a change-user must never be forwarded unlooked-at). */
	if ((ev & MT_EV_CMD_START) && may_punt(w, w->t->frame.pfx[0])) {
		if (w->pkt_start == NO_START) {
			w->t->walk_marks |= WALK_LATE;
		} else if (!w->cand_valid) {
			w->cand_valid = 1;
			w->cand_off = w->pkt_start;
			w->cand_cmd = w->t->frame.pfx[0];
			w->cand_len = w->t->frame.payload_len;
			w->cand_movable = was_movable;
			w->cand_watched = w->t->frame.pfx[0] == COM_STMT_EXECUTE && exec_watched(w);
		} else {
			w->t->walk_marks |= WALK_LATER;
		}
	}
	if (w->t->frame.hdr_have == 0)
		w->pkt_start = NO_START;
	return walk_go_on(w, i);
}

/* bpf_loop step for server -> client bytes. */
static long walk_server(__u32 i, void *data)
{
	struct walk *w = data;
	struct tunnel *ct = w->ct;
	int pkt = 0;
	__u32 ev;

	if (walk_frame(w, &pkt) < 0)
		return walk_short(w);
	if (!pkt)
		return walk_go_on(w, i);
	ev = mt_server_packet(&ct->conv, &w->t->frame);
	if ((ev & MT_EV_RESP_END) && mt_idle(&ct->conv) && ct->cmd_start_ns) {
		__u64 lat = w->now - ct->cmd_start_ns;
		__u32 b = lat_bucket(lat);

		ct->last_latency_ns = lat;
		ct->cmd_start_ns = 0;
		if (b < TUN_LAT_BUCKETS)
			ct->lat_hist[b]++;
		if (w->st && b < TUN_LAT_BUCKETS) {
			w->st->lat_hist[b]++;
			w->st->lat_sum_ns += lat;
		}
	}
	return walk_go_on(w, i);
}

/* bpf_loop step of the rewrite walk: frames as walk_client did and puts
 * the backend's id into every statement command whose prefix lies in
 * this skb and that has a translation. */
static long rewrite_step(__u32 i, void *data)
{
	struct rewrite *r = data;
	struct stmt_xkey key = {};
	__u32 *to;
	int pkt = 0, n;

	struct mt_frame *f = &r->ct->xl_frame;

	if (f->hdr_have == 0)
		r->pkt_start = r->off;
	n = mt_frame_step(f, r->skb, r->off, r->len, &pkt);
	if (n < 0)
		return 1;
	r->off = n;
	if (pkt && !f->cont && f->payload_len >= 5 && MYSQL_STMT_ID_CMD(f->pfx[0]) &&
	    r->pkt_start == NO_START) {
		r->ct->xl_missed++;     /* its id went out in an earlier skb */
	} else if (pkt && !f->cont && f->payload_len >= 5 && MYSQL_STMT_ID_CMD(f->pfx[0])) {
		key.cookie = r->cookie;
		key.id = (__u32)f->pfx[1] | (__u32)f->pfx[2] << 8 | (__u32)f->pfx[3] << 16 |
			 (__u32)f->pfx[4] << 24;
		to = bpf_map_lookup_elem(&stmt_xlate, &key);
		if (to) {
			__u32 v = *to;

			if (bpf_skb_store_bytes(r->skb, r->pkt_start + MYSQL_HDR_LEN + 1, &v, 4, 0) == 0)
				r->ct->xl_rewrites++;
		}
	}
	if (f->hdr_have == 0)
		r->pkt_start = NO_START;
	return r->off >= r->len;
}

/* Whether framing f stopped inside the first MYSQL_STMT_ID_PREFIX bytes
 * of a packet that may carry a statement id. */
static __always_inline int inside_id_prefix(const struct mt_frame *f)
{
	if (f->hdr_have > 0 && f->hdr_have < MYSQL_HDR_LEN)
		return 1;
	return f->hdr_have == MYSQL_HDR_LEN && !f->cont && f->pfx_have < f->pfx_need &&
	       f->pfx_have < 5 && (f->pfx_have == 0 || MYSQL_STMT_ID_CMD(f->pfx[0]));
}

/* Whether client framing f stopped where what comes next cannot be told
 * yet: inside a packet header (unless the packet continues a 16 MB+
 * one), or inside the prefix of a packet that
 * starts a command (sequence id 0; the server refuses a command with any
 * other). Forwarding such an skb would send the start of a command user
 * space may have to see. */
static __always_inline int inside_command_start(const struct mt_frame *f)
{
	if (f->hdr_have > 0 && f->hdr_have < MYSQL_HDR_LEN)
		return !f->next_cont;   /* not the header of a 16 MB+ packet's next part */
	return f->hdr_have == MYSQL_HDR_LEN && !f->cont && f->seq == 0 && f->pfx_have < f->pfx_need;
}

/* A hold begins (the tunnel forwarded until this skb): records where user
 * space starts translating statement ids, from the framing as the skb
 * began (start): nothing in a held skb is rewritten by the program. */
static __always_inline void note_hold_start(struct tunnel *ct, const struct mt_frame *start,
					    struct walk *w, __u64 cmds_before)
{
	__u64 at = 0;
	__u8 cont = start->next_cont;

	if (start->hdr_have == MYSQL_HDR_LEN && start->pfx_have >= start->pfx_need) {
		at = start->remaining;          /* the rest of a packet, then a header */
	} else if (start->hdr_have != 0) {
		/* Inside a header or prefix (only when no translation was on):
		 * start at the punted command. */
		at = w->cand_valid ? w->cand_off : 0;
		cont = 0;
		if (!w->cand_valid)
			ct->xl_missed++;
	}
	ct->hold_start = ct->passed_bytes + at;
	ct->hold_gen = ct->held_gen;
	ct->hold_cont = cont;
	ct->hold_cmds = cmds_before;
}

/* What the socket `cookie` has queued and not delivered: ext (what others
 * wrote into it, from user space's base; tunnel_ctl) plus redirected (the
 * program's redirects to it) less what its peer acknowledged. 0 when the
 * socket cannot be looked at, or the sum is negative (a base not written
 * yet). */
static __always_inline __u64 peer_undelivered(__u64 cookie, __u64 ext, __u64 redirected)
{
	struct bpf_sock *sk = bpf_map_lookup_elem(&sock_map, &cookie);
	struct tcp_sock *tp;
	__u64 acked;

	if (!sk)
		return 0;
	tp = bpf_skc_to_tcp_sock(sk);
	if (!tp) {
		bpf_sk_release(sk);
		return 0;
	}
	acked = tp->bytes_acked;
	bpf_sk_release(sk);
	__s64 q = (__s64)(ext + redirected - acked);
	return q > 0 ? (__u64)q : 0;
}

/* The bound on peer_undelivered() (tunnel_ctl.queue_max). */
static __always_inline __u64 queue_max(const struct tunnel_ctl *ctl)
{
	return ctl->queue_max ? ctl->queue_max : TUN_QUEUE_MAX_DEFAULT;
}

SEC("sk_skb")
int shunt_verdict(struct __sk_buff *skb)
{
	__u64 cookie = bpf_get_socket_cookie(skb);
	struct tunnel *t, *ct;
	struct tunnel_ctl *ctl;
	__u64 ccookie;
	struct walk w = {};
	long rc;

	t = bpf_map_lookup_elem(&tunnels, &cookie);
	if (!t)
		return SK_PASS;         /* not (or no longer) a tunnel: user space reads it */
	if (t->dir == TUN_DIR_CLIENT) {
		ct = t;
		ccookie = cookie;
	} else {
		ccookie = t->peer_cookie;
		ct = bpf_map_lookup_elem(&tunnels, &ccookie);
		if (!ct)
			return SK_PASS;
	}
	ctl = bpf_map_lookup_elem(&tunnel_ctl, &ccookie);
	/* User space is talking to this backend itself (a migration reads the
	 * session's state): its answers are user space's, not the client's. */
	if (ctl && (ctl->flags & TUN_CTL_BACKEND_PASS) && t->dir == TUN_DIR_BACKEND)
		return SK_PASS;
	/* Forward again if user space has taken every held byte (a byte
	 * passed after its last read keeps the tunnel held, so later bytes
	 * cannot overtake it). */
	tun_apply_rearm(ct, ctl);
	if (t->dir == TUN_DIR_BACKEND)
		tun_apply_rearm_backend(t, ctl);

	/* Client bytes go to the session's current backend, which a
	 * migration may have changed (tunnel_ctl.backend_cookie). */
	__u64 to = t->peer_cookie;
	if (t->dir == TUN_DIR_CLIENT && ctl && ctl->backend_cookie)
		to = ctl->backend_cookie;
	/* Backpressure: the peer has more than queue_max bytes it has not
	 * delivered. Redirected bytes wait in the peer's psock queue, outside
	 * any socket's memory accounting; passed ones stay charged to this
	 * socket's receive buffer, and TCP's window closes. */
	int peer_full = ctl && peer_undelivered(to, t->dir == TUN_DIR_CLIENT ?
						ctl->backend_ext_written : ctl->client_ext_written,
						t->bytes) > queue_max(ctl);

	__u32 zero = 0;
	__u64 cmds_before = ct->conv.cmds_started;
	/* The client framing as this skb begins, for note_hold_start() and
	 * the rewrite walk. Kept in the entry (map memory), and nothing that
	 * differs between paths is kept on the stack across the walks: the
	 * verifier would go through a walk once more for each such value. */
	if (t->dir == TUN_DIR_CLIENT) {
		t->xl_frame = t->frame;
		t->walk_marks = 0;
	}
	w.st = bpf_map_lookup_elem(&fp_stats, &zero);
	w.skb = skb;
	w.t = t;
	w.ct = ct;
	w.ctl = ctl;
	w.len = skb->len;
	w.pkt_start = NO_START;
	w.client = t->dir == TUN_DIR_CLIENT;
	w.now = bpf_ktime_get_ns();
	if (!w.client) {
		/* Backend bytes: held only for backpressure, and counted before
		 * the walk, so user space never sees a response end (conv) whose
		 * bytes it cannot account for yet. */
		if (t->state != TUN_ST_HELD && peer_full) {
			t->state = TUN_ST_HELD;
			t->held_gen++;
			t->punt_reason = TUN_PUNT_BACKPRESSURE;
			t->punts++;
			if (w.st)
				w.st->punts[TUN_PUNT_BACKPRESSURE]++;
		}
		if (t->state == TUN_ST_HELD) {
			t->passed_bytes += skb->len;
			if (w.st)
				w.st->passed_bytes_s2c += skb->len;
		} else {
			t->bytes += skb->len;
			if (w.st)
				w.st->bytes_s2c += skb->len;
		}
		bpf_loop(WALK_MAX_STEPS, walk_server, &w, 0);
		t->packets = t->frame.packets;

		if (t->state == TUN_ST_HELD)
			return SK_PASS;
		rc = bpf_sk_redirect_hash(skb, &sock_map, &to, 0);
		if (rc != SK_PASS) {
			t->bytes -= skb->len;
			t->drops++;
			if (w.st)
				w.st->drops++;
		}
		return rc;
	}
	bpf_loop(WALK_MAX_STEPS, walk_client, &w, 0);

	t->packets = t->frame.packets;
	/* The walk does not change the tunnel's state: as the skb arrived. */
	int forwarding = ct->state == TUN_ST_FORWARD;

	/* Statement ids are translated in this skb: TUN_CTL_XLATE, and the
	 * tunnel was forwarding when it arrived (held bytes are user space's). */
	int xlate = w.client && forwarding && ctl && (ctl->flags & TUN_CTL_XLATE);
	if (w.client) {
		__u32 why = punt_reason(&w);

		__u8 marks = t->walk_marks;

		if (why == TUN_PUNT_NONE && (marks & WALK_LATER))
			why = TUN_PUNT_PIPELINED;
		/* Cannot happen while forwarding (an skb that ends inside a
		 * command's start is held): counted, and user space ends the
		 * session. */
		if ((marks & WALK_LATE) && forwarding) {
			ct->punt_missed++;
			if (why == TUN_PUNT_NONE)
				why = TUN_PUNT_SPLIT;
		}
		/* An id cut in two by the skb's end could not be rewritten:
		 * user space takes the bytes from there. */
		if (why == TUN_PUNT_NONE && xlate && inside_id_prefix(&t->frame))
			why = TUN_PUNT_XLATE;
		if (why == TUN_PUNT_NONE && forwarding && inside_command_start(&t->frame))
			why = TUN_PUNT_SPLIT;
		if (why == TUN_PUNT_NONE && forwarding && peer_full)
			why = TUN_PUNT_BACKPRESSURE;
		if (why != TUN_PUNT_NONE) {
			ct->state = TUN_ST_HELD;
			ct->held_gen++;
			if (forwarding)
				note_hold_start(ct, &ct->xl_frame, &w, cmds_before);
			ct->punt_reason = (__u8)why;
			ct->punt_cmd = (__u8)w.cand_cmd;
			ct->punts++;
			if (w.st && why < TUN_PUNT__COUNT)
				w.st->punts[why]++;
		}
		if (w.st)
			w.st->commands += ct->conv.cmds_started - cmds_before;
	}
	if (w.client && ct->state == TUN_ST_HELD) {
		t->passed_bytes += skb->len;
		if (w.st)
			w.st->passed_bytes += skb->len;
		return SK_PASS;
	}
	if (xlate) {
		struct rewrite r = {};
		__u64 before = ct->xl_rewrites;

		r.skb = skb;
		r.ct = ct;
		r.len = skb->len;
		r.pkt_start = NO_START;
		r.cookie = ccookie;
		bpf_loop(WALK_MAX_STEPS, rewrite_step, &r, 0);
		if (w.st)
			w.st->stmt_id_rewrites += ct->xl_rewrites - before;
	}
	t->bytes += skb->len;
	if (w.st)
		w.st->bytes_c2s += skb->len;
	rc = bpf_sk_redirect_hash(skb, &sock_map, &to, 0);
	if (rc != SK_PASS) {
		t->bytes -= skb->len;   /* not queued to the peer after all */
		t->drops++;
		if (w.st)
			w.st->drops++;
	}
	return rc;
}

/* Stream-parser mode: every skb is one message (see the file comment). */
SEC("sk_skb/stream_parser")
int shunt_parser(struct __sk_buff *skb)
{
	return skb->len;
}
