/* mysql_tracker.h — the MySQL conversation tracker.
 *
 * Plain C with no kernel or libc dependencies: the same code is compiled
 * into the BPF object (bpf/) and into the daemon and host unit tests
 * (user/, tests/unit/). Everything is static inline; loops are bounded.
 *
 * Two layers:
 *  1. Framing (struct mt_frame, one per direction) walks packet headers in
 *     a byte stream that arrives in arbitrary chunks, keeping partial
 *     headers across chunk boundaries, and collects the first MT_PFX_LEN
 *     bytes of each payload (the "prefix"). When a packet's prefix is
 *     complete, mt_frame_step() reports it so the caller can hand it to the
 *     conversation layer. Bytes are read through the macro
 *     MT_LOAD(ctx, off, dst, n), which the includer defines: memcpy in user
 *     space, bpf_skb_load_bytes in BPF (must evaluate to 0 on success).
 *  2. The conversation (struct mt_conv, one per session) sees client
 *     packets (mt_client_packet) and server packets (mt_server_packet) and
 *     follows commands and responses: command starts, response ends, the
 *     last server status flags, pipelined commands.
 *
 * Types: the includer provides __u8/__u16/__u32/__u64 (vmlinux.h in BPF,
 * <linux/types.h> in user space). */
#ifndef SHUNT_MYSQL_TRACKER_H
#define SHUNT_MYSQL_TRACKER_H

#include "mysql_defs.h"

#ifndef MT_LOAD
#error "define MT_LOAD(ctx, off, dst, n) before including mysql_tracker.h"
#endif

#ifndef MT_INLINE
#define MT_INLINE static inline __attribute__((always_inline))
#endif

#define MT_PFX_LEN   24     /* payload prefix kept per packet: enough for an OK
			       packet's status (1+9+9+2) and a prepare OK (12) */
#define MT_RING_LEN  8      /* pipelined commands waiting for their response */

/* Framing state of one direction of a connection. */
struct mt_frame {
	__u32 payload_len;      /* length field of the current packet */
	__u32 remaining;        /* payload bytes of the current packet still to skip */
	__u8 hdr[4];            /* header bytes collected so far */
	__u8 hdr_have;          /* 0..4: header bytes in hdr[] */
	__u8 pfx_have;          /* prefix bytes collected */
	__u8 pfx_need;          /* prefix bytes wanted: min(payload_len, MT_PFX_LEN) */
	__u8 seq;               /* sequence id of the current packet */
	__u8 cont;              /* current packet continues a 0xFFFFFF one: its
				   prefix is payload data, not a header */
	__u8 next_cont;         /* the packet after this one is a continuation */
	__u8 _pad[2];
	__u8 pfx[MT_PFX_LEN];   /* first bytes of the current payload */
	__u64 packets;          /* packets completed in this direction */
};

/* Response parser states (struct mt_conv.rstate). */
enum mt_rstate {
	MT_R_IDLE = 0,          /* no response expected */
	MT_R_FIRST,             /* first packet of a (next) result */
	MT_R_COLDEFS,           /* column definitions: cols_left to go */
	MT_R_META_EOF,          /* classic EOF after column definitions */
	MT_R_ROWS,              /* rows until a terminator */
	MT_R_PREP_PARAMS,       /* prepare OK: parameter definitions */
	MT_R_PREP_PARAMS_EOF,
	MT_R_PREP_COLS,         /* prepare OK: column definitions */
	MT_R_PREP_COLS_EOF,
	MT_R_INFILE,            /* LOCAL INFILE: client is sending file data */
	MT_R_AUTH,              /* COM_CHANGE_USER: server auth packet expected */
	MT_R_AUTH_CLIENT,       /* COM_CHANGE_USER: client auth packet expected */
	MT_R_OPAQUE,            /* a command we do not follow (binlog dump): stop */
};

/* Events returned by the mt_*_packet functions (a bitmask). */
#define MT_EV_CMD_START   0x01u  /* a client command started (mt_conv.last_cmd) */
#define MT_EV_RESP_END    0x02u  /* the response to a command ended */
#define MT_EV_STATUS      0x04u  /* mt_conv.status was updated from an OK/EOF */
#define MT_EV_ERR         0x08u  /* the response ended with an ERR packet */
#define MT_EV_UNEXPECTED  0x10u  /* a packet that does not fit the state (counted) */

/* mt_conv.flags */
#define MT_F_OPAQUE       0x01u  /* tracking stopped (unfollowable command) */
#define MT_F_RING_FULL    0x02u  /* more pipelined commands than MT_RING_LEN */

/* One session's conversation. */
struct mt_conv {
	__u32 caps;             /* negotiated capability flags (CLIENT_*) */
	__u16 status;           /* last server status flags (SERVER_*) */
	__u8 rstate;            /* enum mt_rstate */
	__u8 cmd;               /* command whose response is being parsed */
	__u8 cmd_flags;         /* MT_CMDF_* of that command */
	__u8 last_cmd;          /* most recent client command byte */
	__u8 ring_head;         /* index of the oldest queued command */
	__u8 ring_len;          /* queued commands */
	__u8 ring_cmd[MT_RING_LEN];   /* pipelined commands awaiting their turn */
	__u8 ring_flags[MT_RING_LEN];
	__u32 cols_left;        /* definitions left in the current block */
	__u16 prep_cols;        /* prepare OK: column count, after the params */
	__u16 flags;            /* MT_F_* */
	__u64 cmds_started;     /* commands seen from the client */
	__u64 resps_done;       /* responses completed (incl. no-response commands) */
	__u64 unexpected;       /* packets that did not fit the state */
};

#define MT_CMDF_CURSOR    0x01u  /* COM_STMT_EXECUTE asked for a cursor */

/* Initialises a conversation after login; status is the login OK's. */
MT_INLINE void mt_conv_init(struct mt_conv *c, __u32 caps, __u16 status);
MT_INLINE void mt_frame_init(struct mt_frame *f);

/* Advances f over the chunk bytes [off, len) of ctx, stopping as soon as a
 * packet's prefix is complete. Returns the new offset. Sets *pkt to 1 when a
 * packet is ready for mt_client_packet()/mt_server_packet() (then
 * f->payload_len, f->seq, f->cont and f->pfx[0..pfx_have) describe it),
 * else 0. Returns -1 if MT_LOAD fails. One call does a bounded amount of
 * work, so callers loop (bpf_loop in BPF) until the offset reaches len. */
MT_INLINE int mt_frame_step(struct mt_frame *f, void *ctx, __u32 off, __u32 len, int *pkt);

/* Feeds one client->server packet (its prefix is complete). Returns MT_EV_*. */
MT_INLINE __u32 mt_client_packet(struct mt_conv *c, const struct mt_frame *f);
/* Feeds one server->client packet. Returns MT_EV_*. */
MT_INLINE __u32 mt_server_packet(struct mt_conv *c, const struct mt_frame *f);

/* Whether the conversation is at a command boundary: no response pending,
 * nothing queued, not inside LOCAL INFILE or an auth exchange. */
MT_INLINE int mt_idle(const struct mt_conv *c);

/* ---- implementation below ---- */

#endif
