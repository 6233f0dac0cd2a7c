/* shunt_abi.h — the one ABI between the BPF program (bpf/shunt.bpf.c) and
 * user space (user/fastpath.c, tools/shuntctl.c).
 *
 * Fixed-width fields, explicit padding, no pointers. Types __u8..__u64 come
 * from the includer (vmlinux.h in BPF, <linux/types.h> in user space).
 *
 * Maps (all pinned under the pin path, default /sys/fs/bpf/shunt):
 *   sock_map    SOCKHASH  socket cookie -> socket. The verdict program is
 *                         attached here.
 *   tunnels     HASH      socket cookie -> struct tunnel. One entry per
 *                         socket of an established session. Created by
 *                         user space before the socket enters sock_map,
 *                         then written ONLY by the BPF program, in place,
 *                         until user space deletes it at close.
 *   tunnel_ctl  HASH      client socket cookie -> struct tunnel_ctl.
 *                         Written ONLY by user space (whole-value
 *                         updates, which the program sees atomically),
 *                         read by the program.
 *   stmt_xlate  HASH      {client socket cookie, client statement id} ->
 *                         the id the session's backend knows it by, for
 *                         statements a migration could not re-create
 *                         under their old ids. Written ONLY by user
 *                         space; the program rewrites the id of client
 *                         statement commands it forwards (TUN_CTL_XLATE).
 *   fp_stats    PERCPU_ARRAY  key 0 -> struct fp_stats: process-wide
 *                         counters of every tunnel, live or closed
 *                         (written by the program, summed over CPUs by
 *                         user space for /metrics).
 * Keeping one writer per map is what makes the hand-over safe: a
 * user-space update of a hash value replaces the element, so if both sides
 * wrote the same value one side's writes would be lost.
 *
 * Inside `tunnels`, the program's runs for the client socket and for the
 * backend socket hold different socket locks and may run on two CPUs at
 * once; both write the client entry's conversation. For a client that
 * waits for each answer they are ordered (the answer's last bytes were
 * tracked before they reached the client); pipelined commands can race.
 * User space reads an entry without a lock, so a copy may mix two runs.
 * docs/architecture.md ("The kernel state") states what user space decides
 * on and what the race can do. */
#ifndef SHUNT_ABI_H
#define SHUNT_ABI_H

#include "mysql_tracker.h"

#ifndef SHUNT_MAX_TUNNELS
#define SHUNT_MAX_TUNNELS 65536          /* sockets (two per session) */
#endif

#define TUN_LAT_BUCKETS 32               /* log2 buckets of microseconds */
#define TUN_KILL_SCAN   64               /* query bytes scanned for a leading KILL */

/* struct tunnel.dir */
#define TUN_DIR_CLIENT  1                /* bytes arriving here go client -> server */
#define TUN_DIR_BACKEND 2                /* bytes arriving here go server -> client */

/* struct tunnel_ctl.flags (user space -> program) */
#define TUN_CTL_PUNT_ALL      (1u << 0)  /* punt the next command at a point where the
					    session may move (mt_movable): migration */
#define TUN_CTL_BACKEND_PASS  (1u << 1)  /* backend bytes go to the backend socket's own
					    queue, untracked: user space talks to the
					    backend (a migration reading its state) */
#define TUN_CTL_XLATE         (1u << 2)  /* statement ids need translating (stmt_xlate):
					    the program rewrites them in the client
					    bytes it forwards, and never forwards an
					    skb that ends inside the first 9 bytes of a
					    client packet (it holds it instead) */


/* struct tunnel.mode */
#define TUN_MODE_VERDICT        1        /* BPF_SK_SKB_VERDICT, no stream parser */
#define TUN_MODE_STREAM_PARSER  2        /* STREAM_PARSER + STREAM_VERDICT */

/* struct tunnel.state (program-owned) */
#define TUN_ST_FORWARD  0                /* the kernel forwards */
#define TUN_ST_HELD     1                /* a command was punted (or the peer is full):
					    every byte on this socket is passed to user
					    space until it re-arms */

/* Why a command was punted (struct tunnel.punt_reason): the classifier's
 * MT_SEE_* values (mysql_tracker.h), which the relay uses too. */
#define TUN_PUNT_NONE         MT_SEE_NONE
#define TUN_PUNT_CHANGE_USER  MT_SEE_CHANGE_USER  /* COM_CHANGE_USER */
#define TUN_PUNT_KILL_CMD     MT_SEE_KILL_CMD     /* COM_PROCESS_KILL */
#define TUN_PUNT_KILL_QUERY   MT_SEE_KILL_QUERY   /* COM_QUERY that is or may be a KILL */
#define TUN_PUNT_PREPARE      MT_SEE_PREPARE      /* COM_STMT_PREPARE */
#define TUN_PUNT_ALL          MT_SEE_ALL          /* TUN_CTL_PUNT_ALL was set */
#define TUN_PUNT_STMT         MT_SEE_STMT         /* COM_STMT_CLOSE, COM_RESET_CONNECTION:
						     the statements user space knows of change */
#define TUN_PUNT_EXECUTE      MT_SEE_EXECUTE      /* COM_STMT_EXECUTE of a watched statement
						     (tunnel_ctl.exec_watch) */
#define TUN_PUNT_XLATE        MT_SEE_XLATE        /* the skb ended inside the id of a
						     statement command that may need
						     translating: user space translates
						     from tunnel.hold_start on */
#define TUN_PUNT_OPAQUE       MT_SEE_OPAQUE       /* COM_BINLOG_DUMP and the like: the
						     tracker cannot tell commands apart
						     after it, so user space takes every
						     later client byte */
/* Reasons of the program's own, past the classifier's. */
#define TUN_PUNT_PIPELINED    10  /* a command that may need user space came behind
				     another one in the skb (the first one decides
				     nothing about the rest): user space frames them */
#define TUN_PUNT_SPLIT        11  /* the skb ended inside a command's header or
				     prefix: what it is cannot be told yet */
#define TUN_PUNT_BACKPRESSURE 12  /* the peer has more than tunnel_ctl.queue_max
				     bytes it has not delivered (its send queue and
				     the kernel's redirect queue): the bytes stay in
				     this socket, charged to its receive buffer, so
				     TCP flow control holds the sender back until
				     user space has carried them (either entry) */
#define TUN_PUNT__COUNT       13

/* Default bound on what one socket of a tunnel may have queued and not
 * delivered before the program stops redirecting to it. */
#define TUN_QUEUE_MAX_DEFAULT (1u << 20)

#ifndef __bpf__
/* The words the daemon's log, shuntctl and the docs use for them. */
static const char *const tun_punt_names[TUN_PUNT__COUNT] __attribute__((unused)) = {
	[TUN_PUNT_NONE] = "none",
	[TUN_PUNT_CHANGE_USER] = "change-user",
	[TUN_PUNT_KILL_CMD] = "kill-command",
	[TUN_PUNT_KILL_QUERY] = "kill-query",
	[TUN_PUNT_PREPARE] = "prepare",
	[TUN_PUNT_ALL] = "migration",
	[TUN_PUNT_STMT] = "statement",
	[TUN_PUNT_EXECUTE] = "execute",
	[TUN_PUNT_XLATE] = "statement-id",
	[TUN_PUNT_OPAQUE] = "opaque",
	[TUN_PUNT_PIPELINED] = "pipelined",
	[TUN_PUNT_SPLIT] = "split",
	[TUN_PUNT_BACKPRESSURE] = "backpressure",
};
#endif

/* One socket of an established session (value of `tunnels`). */
struct tunnel {
	__u64 peer_cookie;       /* the session's other socket */
	__u32 conn_id;           /* shunt's connection id (what clients KILL) */
	__u32 backend_id;        /* user space's backend number */
	__u8 dir;                /* TUN_DIR_* */
	__u8 state;              /* TUN_ST_* (client entry) */
	__u8 punt_reason;        /* TUN_PUNT_* of the last punt (client entry) */
	__u8 punt_cmd;           /* command byte of the last punt */
	__u32 held_gen;          /* incremented at each punt; user space echoes it
				    in tunnel_ctl.rearm_gen to re-arm */
	__u32 punt_missed;       /* commands that may need user space and were
				    forwarded (their header went out in an skb the
				    program forwarded), or skbs the walk did not
				    frame to their end (then passed, not forwarded).
				    Never happens by design: user space ends a
				    session whose count moves */
	__u32 mode;              /* TUN_MODE_*: how the program is attached */
	__u8 addr[16];           /* this socket's peer: the client (client entry) or
				    the backend (backend entry); IPv4 in the first 4 */
	__u16 port;              /* its port, host order */
	__u16 family;            /* AF_INET or AF_INET6 */
	__u32 answered_seen;     /* tunnel_ctl.answered the program has applied
				    (client entry) */
	struct mt_frame frame;   /* framing of the bytes arriving on this socket */
	__u64 packets;           /* MySQL packets that arrived on this socket */
	__u64 bytes;             /* bytes redirected to the peer by the kernel */
	__u64 passed_bytes;      /* bytes handed to user space instead */
	__u64 drops;             /* redirects that failed (peer gone) */
	__u64 punts;             /* commands punted (client entry) */
	/* The conversation lives in the client entry only. */
	struct mt_conv conv;
	__u64 cmd_start_ns;      /* ktime when the current command started */
	__u64 last_latency_ns;   /* command start -> response end, last command */
	__u64 lat_hist[TUN_LAT_BUCKETS]; /* bucket i: latency in [2^i, 2^(i+1)) us
					    (bucket 0 also holds < 1 us) */
	/* Where a hold begins in the passed bytes (client entry), set when the
	 * program stops forwarding at punt generation hold_gen: the program
	 * passed the bytes of the skb that began the hold from hold_start on
	 * (a position counted like passed_bytes), a packet header being there
	 * (a continuation one when hold_cont); the bytes before it are the
	 * rest of a packet whose start was forwarded. hold_cmds is
	 * conv.cmds_started before that header: user space frames the held
	 * stream from there, finds every command in it, and knows which
	 * response each one waits for (resps_done). Statement ids in held
	 * bytes are translated by user space too (nothing in a held skb is
	 * rewritten by the program). */
	__u64 hold_start;
	__u32 hold_gen;
	__u16 xl_missed;         /* statement ids the program could not rewrite
				    (the packet began in an skb forwarded before
				    TUN_CTL_XLATE was set) */
	__u8 hold_cont;
	__u8 walk_marks;         /* program scratch: WALK_* marks of the skb being
				    walked (kept in the map, not on the stack, so
				    the verifier does not walk each combination) */
	__u64 xl_rewrites;       /* statement ids the program rewrote (client entry) */
	struct mt_frame xl_frame; /* program scratch: this socket's framing as the
				    skb being handled began (a per-socket place, as
				    skbs of one socket are handled one at a time) */
	__u64 hold_cmds;         /* see hold_start */
};

/* A statement id translation (key of `stmt_xlate`). */
struct stmt_xkey {
	__u64 cookie;            /* the client socket's cookie */
	__u32 id;                /* the statement id the client uses */
	__u32 _pad;
};

/* What user space tells the program about a session (value of `tunnel_ctl`,
 * keyed by the client socket's cookie).
 *
 * The program tracks every byte, held or forwarded, so the conversation in
 * `tunnels` is always complete and user space never writes it: re-arming
 * is only "rearm_gen = held_gen, passed_seen = what I read" once user space
 * has read (and forwarded) the held bytes. */
struct tunnel_ctl {
	__u32 flags;             /* TUN_CTL_* */
	__u32 rearm_gen;         /* == tunnel.held_gen: forward again ... */
	__u64 passed_seen;       /* ... once user space has read this many passed
				    bytes in all (== tunnel.passed_bytes): bytes
				    passed after its last read keep the tunnel held,
				    so nothing can overtake them */
	__u32 answered;          /* commands user space answered itself (KILLs)
				    instead of forwarding them, in all: at its
				    next run the program ends a response for each
				    one since tunnel.answered_seen (tun_apply_rearm) */
	__u32 _pad;
	__u64 backend_cookie;    /* where client bytes go: the session's backend
				    socket (0: tunnel.peer_cookie). A migration
				    points the session at its new backend here,
				    since the tunnel entries are the program's */
	__u64 exec_watch;        /* bit (stmt_id % 64): punt a COM_STMT_EXECUTE of
				    that statement, so user space learns (or puts
				    back, after a migration) its parameter types */
	/* Backpressure. What a socket has queued and not delivered is what
	 * was written into it less what its peer acknowledged
	 * (tcp_sock.bytes_acked): the program's redirects to it (the other
	 * entry's `bytes`) plus these, which user space keeps: the socket's
	 * total at hand-over, plus what user space wrote into it since, less
	 * the redirect count at hand-over (u64 arithmetic, may wrap). */
	__u64 client_ext_written;
	__u64 backend_ext_written;   /* of the current backend socket */
	__u32 queue_max;         /* bound on it (0: TUN_QUEUE_MAX_DEFAULT) */
	__u32 b_rearm_gen;       /* the backend entry's re-arm (its held_gen), as
				    rearm_gen and passed_seen for the client's */
	__u64 b_passed_seen;
};

/* Applies what user space told the program in the control entry to a
 * client entry:
 *  - each command user space answered itself (KILLs: tunnel_ctl.answered
 *    - answered_seen) gets its response ended, since none will come from
 *    the backend. User space answers one only when every response ahead
 *    of it has ended, and forwards nothing behind it before it has
 *    written the new count, so the answered command is the one the
 *    conversation waits on whenever the program applies this;
 *  - when user space names the held generation (rearm_gen == held_gen)
 *    and has read every passed byte (passed_seen == passed_bytes), the
 *    tunnel forwards again.
 *
 * The program calls this on the live entry at the start of every run, on
 * either socket. Until such a run (a KILL answered by shunt is followed by
 * no backend bytes, and the client may stay quiet), the entry still shows
 * the answered command open and the tunnel held; user space and shuntctl
 * call this on their copy of the entry, with the control entry read after
 * it, to see the session as the program will at its next run (a control
 * entry read after the tunnel entry is never older than what that copy
 * reflects). Returns 1 when it changed *ct. Needs the tracker's code
 * (MT_LOAD: the BPF program, or user/mysql/tracker_host.h). */
#ifdef MT_LOAD
MT_INLINE int tun_apply_rearm(struct tunnel *ct, const struct tunnel_ctl *ctl)
{
	int changed = 0;

	if (!ctl)
		return 0;
	__u32 owed = ctl->answered - ct->answered_seen;
	if (owed) {
		for (__u32 i = 0; i < MT_RING_LEN; i++) {
			if (i >= owed || mt_idle(&ct->conv))
				break;
			mt_resp_end(&ct->conv);
			ct->cmd_start_ns = 0;
		}
		ct->answered_seen = ctl->answered;
		changed = 1;
	}
	if (ct->state == TUN_ST_HELD && ctl->rearm_gen == ct->held_gen &&
	    ctl->passed_seen == ct->passed_bytes) {
		ct->state = TUN_ST_FORWARD;
		changed = 1;
	}
	return changed;
}

/* The same for the backend entry bt, which is held only for backpressure:
 * it forwards again once user space names its held generation and has
 * read every byte passed on the backend socket. Returns 1 when it
 * changed *bt. */
MT_INLINE int tun_apply_rearm_backend(struct tunnel *bt, const struct tunnel_ctl *ctl)
{
	if (ctl && bt->state == TUN_ST_HELD && ctl->b_rearm_gen == bt->held_gen &&
	    ctl->b_passed_seen == bt->passed_bytes) {
		bt->state = TUN_ST_FORWARD;
		return 1;
	}
	return 0;
}
#endif

/* Process-wide fast-path counters (value of `fp_stats`, per CPU). */
struct fp_stats {
	__u64 commands;          /* client commands started in kernel-carried sessions */
	__u64 bytes_c2s;         /* bytes redirected client -> backend */
	__u64 bytes_s2c;         /* bytes redirected backend -> client */
	__u64 passed_bytes;      /* client bytes handed to user space (punts) */
	__u64 drops;             /* redirects that failed */
	__u64 punts[TUN_PUNT__COUNT]; /* commands punted, by TUN_PUNT_* */
	__u64 lat_sum_ns;
	__u64 lat_hist[TUN_LAT_BUCKETS];
	__u64 stmt_id_rewrites;  /* statement ids rewritten in forwarded client bytes */
	__u64 passed_bytes_s2c;  /* backend bytes handed to user space (backpressure) */
};

#ifndef __bpf__
_Static_assert(sizeof(struct tunnel) == 600, "struct tunnel is map ABI");
_Static_assert(TUN_PUNT_PIPELINED == MT_SEE_OPAQUE + 1,
	       "the punt reasons are the classifier's MT_SEE_* values, then the program's own");
_Static_assert(sizeof(struct tunnel_ctl) == 72, "struct tunnel_ctl is map ABI");
#endif

#endif
