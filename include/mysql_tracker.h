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
	__u8 _pad2[4];          /* explicit: packets is 8-byte aligned */
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
	__u8 mflags;            /* MT_M_*: server-side state that pins the session */
	__u8 _pad;
	__u16 prep_params;      /* parameters of the last prepare OK (prep_id) */
	__u64 cmds_started;     /* commands seen from the client */
	__u64 resps_done;       /* responses completed (incl. no-response commands) */
	__u64 unexpected;       /* packets that did not fit the state */
	/* prepared statements, for migration (user space reads them) */
	__u32 prep_id;          /* statement id of the last prepare OK */
	__u32 prep_oks;         /* prepare OKs seen */
	__u32 cursor_id;        /* statement whose cursor is open (MT_M_CURSOR) */
	__u32 exec_id;          /* statement of the last COM_STMT_EXECUTE */
	__u64 exec_bits;        /* bit (id % 64) set for every statement executed */
};

/* mt_conv.mflags: state a migration must not cut through */
#define MT_M_CURSOR       0x01u  /* a cursor is open (on cursor_id) */
#define MT_M_CURSORS      0x02u  /* more than one was opened: only a reset clears it */
#define MT_M_LONG_DATA    0x04u  /* COM_STMT_SEND_LONG_DATA awaits its execute */
#define MT_M_STATE_SEEN   0x08u  /* SERVER_SESSION_STATE_CHANGED was seen */
#define MT_M_PINNED       (MT_M_CURSOR | MT_M_CURSORS | MT_M_LONG_DATA)

#define MT_CMDF_CURSOR    0x01u  /* COM_STMT_EXECUTE asked for a cursor */

/* The functions exist only where the includer defined MT_LOAD; without it
 * (shuntctl, the ABI header's other users) only the types are visible. */
#ifdef MT_LOAD

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

/* Notes for readers of the implementation:
 *  - Every array index is checked against the array's length right where it
 *    is used (or masked, for the power-of-two ring), so that the BPF
 *    verifier can prove the access in bounds without tracking relations
 *    between fields.
 *  - Nothing loops over packets here: mt_frame_step() handles at most one
 *    packet per call and the conversation functions handle one packet.
 *  - Robustness choice: a server packet that cannot be parsed where a
 *    parse is required (an OK/EOF shorter than its fields, a column count
 *    of 0 or not a valid integer, a prepare OK shorter than 9 bytes, a
 *    packet that fits no rule) counts in mt_conv.unexpected, returns
 *    MT_EV_UNEXPECTED and ENDS the response in progress (MT_EV_RESP_END,
 *    resps_done++). Ending keeps cmds_started - resps_done meaningful and
 *    never leaves the session wedged "busy" forever; the price is that the
 *    tracker may call a boundary that is not one, so user space must not
 *    migrate a session whose unexpected counter moved.
 *  - mt_frame_step() reports a packet and skips the rest of its payload
 *    in the same call when the chunk holds it, so a packet that lies
 *    inside one chunk costs one step. A header or prefix split across
 *    chunks is collected one byte per step (it only happens at a chunk
 *    boundary).
 *  - Beyond the brief, from real captures and the protocol docs:
 *    * an ERR header with error code 0xffff is a MariaDB progress report
 *      (Connector/C negotiates MARIADB_CLIENT_PROGRESS); it is ignored in
 *      every state but IDLE, where it counts as unexpected;
 *    * a server packet in AUTH_CLIENT is handled as in AUTH (caching_sha2
 *      sends "fast auth success" 0x01 0x03 and then the OK at once);
 *    * a server packet during the LOCAL INFILE upload is unexpected, and
 *      the upload goes on until the client's empty packet;
 *    * an empty client packet outside LOCAL INFILE is no command: it is
 *      counted as unexpected;
 *    * the EOFs after prepare definitions update the status too. */

_Static_assert(sizeof(struct mt_frame) == 56, "mt_frame layout is map ABI");
_Static_assert(sizeof(struct mt_conv) == 88, "mt_conv layout is map ABI");
_Static_assert((MT_RING_LEN & (MT_RING_LEN - 1)) == 0, "MT_RING_LEN must be a power of two");
_Static_assert(MT_PFX_LEN >= 21 && MT_PFX_LEN < 256, "prefix must hold an OK's status");

MT_INLINE void mt_conv_init(struct mt_conv *c, __u32 caps, __u16 status)
{
	__builtin_memset(c, 0, sizeof(*c));
	c->caps = caps;
	c->status = status;
	c->rstate = MT_R_IDLE;
}

MT_INLINE void mt_frame_init(struct mt_frame *f)
{
	__builtin_memset(f, 0, sizeof(*f));
}

MT_INLINE int mt_frame_step(struct mt_frame *f, void *ctx, __u32 off, __u32 len, int *pkt)
{
	__u64 avail, n;     /* 64-bit: the verifier then bounds the register passed to MT_LOAD */
	int reported;

	*pkt = 0;
	if (off >= len)
		return (int)off;
	avail = len - off;
	/* Entered in the skip phase: this packet was reported already. */
	reported = f->hdr_have >= MYSQL_HDR_LEN && f->pfx_have >= f->pfx_need;

	if (f->hdr_have < MYSQL_HDR_LEN) {
		if (f->hdr_have == 0 && avail >= MYSQL_HDR_LEN) {
			if (MT_LOAD(ctx, off, f->hdr, MYSQL_HDR_LEN))
				return -1;
			f->hdr_have = MYSQL_HDR_LEN;
			off += MYSQL_HDR_LEN;
			avail -= MYSQL_HDR_LEN;
		} else {
			/* A header split across chunks: one byte per step. */
			__u8 b = 0;

			if (MT_LOAD(ctx, off, &b, 1))
				return -1;
			f->hdr[f->hdr_have & (MYSQL_HDR_LEN - 1)] = b;
			f->hdr_have++;
			off++;
			avail--;
			if (f->hdr_have < MYSQL_HDR_LEN)
				return (int)off;
		}
		f->payload_len = (__u32)f->hdr[0] | (__u32)f->hdr[1] << 8 |
				 (__u32)f->hdr[2] << 16;
		f->seq = f->hdr[3];
		f->cont = f->next_cont;
		f->next_cont = f->payload_len == MYSQL_MAX_PAYLOAD;
		f->remaining = f->payload_len;
		f->pfx_have = 0;
		f->pfx_need = f->payload_len < MT_PFX_LEN ? (__u8)f->payload_len : MT_PFX_LEN;
	}

	if (f->pfx_have < f->pfx_need) {
		__u32 have = f->pfx_have;

		n = f->pfx_need - have;
		if (n > avail)
			n = avail;
		if (n == 0)
			return (int)off;
		if (n > MT_PFX_LEN)     /* cannot happen; bounds n for the verifier */
			n = MT_PFX_LEN;
		if (have == 0) {
			if (MT_LOAD(ctx, off, f->pfx, n))
				return -1;
		} else {
			/* The rest of a prefix split across chunks: one byte
			 * per step (rare: only at a chunk boundary), which
			 * keeps the step free of loops. */
			__u8 b = 0;

			if (have >= MT_PFX_LEN)
				return -1;
			if (MT_LOAD(ctx, off, &b, 1))
				return -1;
			f->pfx[have] = b;
			n = 1;
		}
		f->pfx_have = (__u8)(have + n);
		f->remaining -= n;
		off += n;
		avail -= n;
		if (f->pfx_have < f->pfx_need)
			return (int)off;
	}
	if (!reported)
		*pkt = 1;

	/* Skip the rest of the payload that this chunk holds. */
	n = f->remaining < avail ? f->remaining : avail;
	f->remaining -= n;
	off += n;
	if (f->remaining == 0) {
		f->packets++;
		f->hdr_have = 0;
	}
	return (int)off;
}

/* Byte i of the packet's prefix, or 0 past what was collected. */
MT_INLINE __u32 mt_pfx_byte(const struct mt_frame *f, __u32 i)
{
	if (i >= MT_PFX_LEN || i >= f->pfx_have)
		return 0;
	return f->pfx[i];
}

/* Reads the length-encoded integer at prefix offset *pos into *val and
 * advances *pos. Returns 0, or -1 when the prefix ends first or the first
 * byte is not an integer (0xfb is NULL, 0xff is invalid). */
MT_INLINE int mt_pfx_lenenc(const struct mt_frame *f, __u32 *pos, __u64 *val)
{
	__u32 p = *pos, n, i;
	__u64 v = 0;
	__u8 b;

	if (p >= MT_PFX_LEN || p >= f->pfx_have)
		return -1;
	b = f->pfx[p];
	if (b < 0xfb) {
		*val = b;
		*pos = p + 1;
		return 0;
	}
	if (b == 0xfc)
		n = 2;
	else if (b == 0xfd)
		n = 3;
	else if (b == 0xfe)
		n = 8;
	else
		return -1;
	if (p + 1 + n > f->pfx_have)
		return -1;
	for (i = 0; i < 8; i++) {
		__u32 q = p + 1 + i;

		if (i >= n || q >= MT_PFX_LEN)
			break;
		v |= (__u64)f->pfx[q] << (8 * i);
	}
	*val = v;
	*pos = p + 1 + n;
	return 0;
}

/* Status flags of an OK packet (header 0x00, or 0xfe as a DEPRECATE_EOF
 * terminator): header, lenenc affected rows, lenenc last insert id,
 * status u16. Returns 0 or -1 if the prefix is too short. */
MT_INLINE int mt_ok_status(const struct mt_frame *f, __u16 *status)
{
	__u32 pos = 1;
	__u64 v;

	if (mt_pfx_lenenc(f, &pos, &v) || mt_pfx_lenenc(f, &pos, &v))
		return -1;
	if (pos + 2 > f->pfx_have)
		return -1;
	*status = (__u16)(mt_pfx_byte(f, pos) | mt_pfx_byte(f, pos + 1) << 8);
	return 0;
}

/* Status flags of a classic EOF packet: 0xfe, warnings u16, status u16. */
MT_INLINE int mt_eof_status(const struct mt_frame *f, __u16 *status)
{
	if (f->pfx_have < 5)
		return -1;
	*status = (__u16)(mt_pfx_byte(f, 3) | mt_pfx_byte(f, 4) << 8);
	return 0;
}

/* Whether the packet ends a result set (or is an EOF): 0xfe first, and short
 * enough not to be a row whose first field has an 8-byte length. */
MT_INLINE int mt_is_term(const struct mt_conv *c, const struct mt_frame *f)
{
	if (f->pfx_have < 1 || f->pfx[0] != MYSQL_EOF_HDR)
		return 0;
	if (c->caps & CLIENT_DEPRECATE_EOF)
		return f->payload_len < MYSQL_MAX_PAYLOAD;
	return f->payload_len < 9;
}

/* Status of a terminator (see mt_is_term) in the negotiated format. */
MT_INLINE int mt_term_status(const struct mt_conv *c, const struct mt_frame *f, __u16 *status)
{
	if (c->caps & CLIENT_DEPRECATE_EOF)
		return mt_ok_status(f, status);
	return mt_eof_status(f, status);
}

/* Ends the response in progress and starts the next queued one, if any. */
MT_INLINE __u32 mt_resp_end(struct mt_conv *c)
{
	c->resps_done++;
	c->cols_left = 0;
	c->prep_cols = 0;
	if (c->ring_len > 0) {
		__u32 idx = c->ring_head & (MT_RING_LEN - 1);

		c->cmd = c->ring_cmd[idx];
		c->cmd_flags = c->ring_flags[idx];
		c->ring_head = (__u8)((c->ring_head + 1) & (MT_RING_LEN - 1));
		c->ring_len--;
		c->rstate = MT_R_FIRST;
	} else {
		c->cmd_flags = 0;
		c->rstate = MT_R_IDLE;
	}
	return MT_EV_RESP_END;
}

/* A packet that did not parse where it had to: count it, end the response
 * (see the robustness note above). */
MT_INLINE __u32 mt_bad_end(struct mt_conv *c)
{
	c->unexpected++;
	return MT_EV_UNEXPECTED | mt_resp_end(c);
}

/* An OK or terminator that carries status: record it, then stay for the
 * next result (MORE_RESULTS) or end the response. */
/* A statement id at prefix offset 1 (COM_STMT_* packets, prepare OK). */
MT_INLINE __u32 mt_pfx_stmt_id(const struct mt_frame *f)
{
	return mt_pfx_byte(f, 1) | mt_pfx_byte(f, 2) << 8 | mt_pfx_byte(f, 3) << 16 |
	       mt_pfx_byte(f, 4) << 24;
}

/* Records server status flags. */
MT_INLINE void mt_set_status(struct mt_conv *c, __u16 status)
{
	c->status = status;
	if (status & SERVER_SESSION_STATE_CHANGED)
		c->mflags |= MT_M_STATE_SEEN;
}

MT_INLINE __u32 mt_status_end(struct mt_conv *c, __u16 status)
{
	mt_set_status(c, status);
	/* The last row of a cursor was fetched: the cursor is closed. */
	if (c->cmd == COM_STMT_FETCH && (status & SERVER_STATUS_LAST_ROW_SENT) &&
	    !(c->mflags & MT_M_CURSORS))
		c->mflags &= (__u8)~MT_M_CURSOR;
	if (status & SERVER_MORE_RESULTS_EXISTS) {
		c->rstate = MT_R_FIRST;
		return MT_EV_STATUS;
	}
	return MT_EV_STATUS | mt_resp_end(c);
}

MT_INLINE __u32 mt_client_packet(struct mt_conv *c, const struct mt_frame *f)
{
	__u8 cmd, cflags = 0;

	if ((c->flags & MT_F_OPAQUE) || c->rstate == MT_R_OPAQUE)
		return 0;
	if (f->cont)            /* the tail of a 16 MB+ packet: data */
		return 0;
	if (c->rstate == MT_R_INFILE) {
		if (f->payload_len == 0)        /* end of the file upload */
			c->rstate = MT_R_FIRST;
		return 0;
	}
	if (c->rstate == MT_R_AUTH_CLIENT) {
		c->rstate = MT_R_AUTH;
		return 0;
	}
	if (f->pfx_have < 1) {          /* an empty packet is no command */
		c->unexpected++;
		return MT_EV_UNEXPECTED;
	}
	cmd = f->pfx[0];
	c->cmds_started++;
	c->last_cmd = cmd;
	/* What pins the session to its server (mflags). */
	if (cmd == COM_STMT_SEND_LONG_DATA) {
		c->mflags |= MT_M_LONG_DATA;
	} else if (cmd == COM_STMT_EXECUTE) {
		c->exec_id = mt_pfx_stmt_id(f);
		c->exec_bits |= 1ull << (c->exec_id & 63);
		c->mflags &= (__u8)~MT_M_LONG_DATA;
	} else if (cmd == COM_STMT_RESET || cmd == COM_STMT_CLOSE) {
		if (cmd == COM_STMT_RESET)
			c->mflags &= (__u8)~MT_M_LONG_DATA;
		if (!(c->mflags & MT_M_CURSORS) && mt_pfx_stmt_id(f) == c->cursor_id)
			c->mflags &= (__u8)~MT_M_CURSOR;
	} else if (cmd == COM_RESET_CONNECTION || cmd == COM_CHANGE_USER) {
		c->mflags &= MT_M_STATE_SEEN;
	}
	if (cmd == COM_STMT_CLOSE || cmd == COM_STMT_SEND_LONG_DATA || cmd == COM_QUIT) {
		c->resps_done++;        /* no response; leave the current one be */
		return MT_EV_CMD_START | MT_EV_RESP_END;
	}
	if (cmd == COM_BINLOG_DUMP || cmd == COM_BINLOG_DUMP_GTID || cmd == COM_REGISTER_SLAVE) {
		c->rstate = MT_R_OPAQUE;
		c->flags |= MT_F_OPAQUE;
		return MT_EV_CMD_START;
	}
	/* COM_STMT_EXECUTE: stmt_id u32, then the flags byte. */
	if (cmd == COM_STMT_EXECUTE && (mt_pfx_byte(f, 5) & CURSOR_TYPE_READ_ONLY))
		cflags |= MT_CMDF_CURSOR;
	if (c->rstate == MT_R_IDLE) {
		c->rstate = MT_R_FIRST;
		c->cmd = cmd;
		c->cmd_flags = cflags;
	} else if (c->ring_len < MT_RING_LEN) {
		__u32 idx = (c->ring_head + c->ring_len) & (MT_RING_LEN - 1);

		c->ring_cmd[idx] = cmd;
		c->ring_flags[idx] = cflags;
		c->ring_len++;
	} else {
		c->flags |= MT_F_RING_FULL;
	}
	return MT_EV_CMD_START;
}

MT_INLINE __u32 mt_server_packet(struct mt_conv *c, const struct mt_frame *f)
{
	__u32 hdr = mt_pfx_byte(f, 0);
	__u8 st = c->rstate;
	__u16 status = 0;

	if ((c->flags & MT_F_OPAQUE) || st == MT_R_OPAQUE)
		return 0;
	if (f->cont)
		return 0;
	/* MariaDB progress report (MARIADB_CLIENT_PROGRESS, which Connector/C
	 * asks for in the extended capabilities): an ERR header with error
	 * code 0xffff, sent while a command runs (seen during LOAD DATA LOCAL
	 * INFILE). It neither ends nor advances the response. */
	if (st != MT_R_IDLE && hdr == MYSQL_ERR_HDR &&
	    mt_pfx_byte(f, 1) == 0xff && mt_pfx_byte(f, 2) == 0xff)
		return 0;
	if (st == MT_R_IDLE || st == MT_R_INFILE) {
		/* Nothing asked (e.g. the ERR of a server killing an idle
		 * connection), or the server spoke while the client uploads. */
		c->unexpected++;
		return MT_EV_UNEXPECTED;
	}
	/* The server may go on without a client packet (caching_sha2's
	 * "fast auth success" 0x01 0x03 is followed by the OK at once). */
	if (st == MT_R_AUTH_CLIENT)
		st = MT_R_AUTH;
	if (st == MT_R_FIRST) {
		if (c->cmd == COM_FIELD_LIST || c->cmd == COM_STMT_FETCH)
			st = MT_R_ROWS;
		else if (c->cmd == COM_CHANGE_USER)
			st = MT_R_AUTH;
	}
	c->rstate = st;

	switch (st) {
	case MT_R_FIRST:
		if (hdr == MYSQL_ERR_HDR && f->pfx_have > 0)
			return MT_EV_ERR | mt_resp_end(c);
		if (c->cmd == COM_STATISTICS)
			return mt_resp_end(c);
		if (c->cmd == COM_STMT_PREPARE) {
			__u16 cols, params;

			/* OK 0x00, stmt_id u32, columns u16, params u16, ... */
			if (hdr != MYSQL_OK_HDR || f->pfx_have < 9)
				return mt_bad_end(c);
			cols = (__u16)(mt_pfx_byte(f, 5) | mt_pfx_byte(f, 6) << 8);
			params = (__u16)(mt_pfx_byte(f, 7) | mt_pfx_byte(f, 8) << 8);
			c->prep_id = mt_pfx_stmt_id(f);
			c->prep_params = params;
			c->prep_oks++;
			if (params > 0) {
				c->rstate = MT_R_PREP_PARAMS;
				c->cols_left = params;
				c->prep_cols = cols;
				return 0;
			}
			if (cols > 0) {
				c->rstate = MT_R_PREP_COLS;
				c->cols_left = cols;
				c->prep_cols = 0;
				return 0;
			}
			return mt_resp_end(c);
		}
		if (hdr == MYSQL_OK_HDR) {
			if (mt_ok_status(f, &status))
				return mt_bad_end(c);
			return mt_status_end(c, status);
		}
		if (mt_is_term(c, f)) {         /* COM_SET_OPTION, COM_DEBUG */
			if (mt_term_status(c, f, &status))
				return mt_bad_end(c);
			return mt_status_end(c, status);
		}
		if (hdr == MYSQL_LOCAL_INFILE_HDR &&
		    (c->cmd == COM_QUERY || c->cmd == COM_STMT_EXECUTE)) {
			c->rstate = MT_R_INFILE;
			return 0;
		} else {
			__u32 pos = 0;
			__u64 count = 0;

			if (mt_pfx_lenenc(f, &pos, &count) || count == 0 || count > 0xffffffffull)
				return mt_bad_end(c);
			c->rstate = MT_R_COLDEFS;
			c->cols_left = (__u32)count;
			return 0;
		}
	case MT_R_COLDEFS:
		if (c->cols_left > 0)
			c->cols_left--;
		if (c->cols_left == 0)
			c->rstate = (c->caps & CLIENT_DEPRECATE_EOF) ? MT_R_ROWS : MT_R_META_EOF;
		return 0;
	case MT_R_META_EOF:
		if (hdr == MYSQL_ERR_HDR && f->pfx_have > 0)
			return MT_EV_ERR | mt_resp_end(c);
		if (!mt_is_term(c, f) || mt_term_status(c, f, &status))
			return mt_bad_end(c);
		mt_set_status(c, status);
		/* A cursor was opened: the rows come with COM_STMT_FETCH. */
		if ((c->cmd_flags & MT_CMDF_CURSOR) && (status & SERVER_STATUS_CURSOR_EXISTS)) {
			if (c->mflags & MT_M_CURSOR)
				c->mflags |= MT_M_CURSORS;
			c->mflags |= MT_M_CURSOR;
			c->cursor_id = c->exec_id;
			return MT_EV_STATUS | mt_resp_end(c);
		}
		c->rstate = MT_R_ROWS;
		return MT_EV_STATUS;
	case MT_R_ROWS:
		if (mt_is_term(c, f)) {
			if (mt_term_status(c, f, &status))
				return mt_bad_end(c);
			return mt_status_end(c, status);
		}
		if (hdr == MYSQL_ERR_HDR && f->pfx_have > 0)
			return MT_EV_ERR | mt_resp_end(c);
		return 0;                       /* a row */
	case MT_R_PREP_PARAMS:
	case MT_R_PREP_COLS:
		if (hdr == MYSQL_ERR_HDR && f->pfx_have > 0)
			return MT_EV_ERR | mt_resp_end(c);
		if (c->cols_left > 0)
			c->cols_left--;
		if (c->cols_left > 0)
			return 0;
		if (!(c->caps & CLIENT_DEPRECATE_EOF)) {
			c->rstate = st == MT_R_PREP_PARAMS ? MT_R_PREP_PARAMS_EOF : MT_R_PREP_COLS_EOF;
			return 0;
		}
		if (st == MT_R_PREP_PARAMS && c->prep_cols > 0) {
			c->rstate = MT_R_PREP_COLS;
			c->cols_left = c->prep_cols;
			c->prep_cols = 0;
			return 0;
		}
		return mt_resp_end(c);
	case MT_R_PREP_PARAMS_EOF:
	case MT_R_PREP_COLS_EOF:
		if (hdr == MYSQL_ERR_HDR && f->pfx_have > 0)
			return MT_EV_ERR | mt_resp_end(c);
		if (!mt_is_term(c, f) || mt_term_status(c, f, &status))
			return mt_bad_end(c);
		mt_set_status(c, status);
		if (st == MT_R_PREP_PARAMS_EOF && c->prep_cols > 0) {
			c->rstate = MT_R_PREP_COLS;
			c->cols_left = c->prep_cols;
			c->prep_cols = 0;
			return MT_EV_STATUS;
		}
		return MT_EV_STATUS | mt_resp_end(c);
	case MT_R_AUTH:
		if (hdr == MYSQL_OK_HDR && f->pfx_have > 0) {
			if (mt_ok_status(f, &status))
				return mt_bad_end(c);
			mt_set_status(c, status);
			return MT_EV_STATUS | mt_resp_end(c);
		}
		if (hdr == MYSQL_ERR_HDR && f->pfx_have > 0)
			return MT_EV_ERR | mt_resp_end(c);
		c->rstate = MT_R_AUTH_CLIENT;   /* auth switch / more data */
		return 0;
	default:
		return mt_bad_end(c);
	}
}

MT_INLINE int mt_idle(const struct mt_conv *c)
{
	return c->rstate == MT_R_IDLE && c->ring_len == 0;
}

/* Whether a session may move to another server now: at a command
 * boundary, not in a transaction, no cursor open, no long data pending,
 * and the tracker never lost its way (docs/migration.md). */
MT_INLINE int mt_movable(const struct mt_conv *c)
{
	return mt_idle(c) && !(c->status & SERVER_STATUS_IN_TRANS) &&
	       !(c->mflags & MT_M_PINNED) && c->unexpected == 0 && !(c->flags & MT_F_OPAQUE);
}
#endif /* MT_LOAD */

/* ---- the punt classifier: which client commands user space must see ------
 *
 * One decision for both carriers. The BPF program punts these commands to
 * user space instead of forwarding them, and the relay holds them; neither
 * carrier forwards one on its own. The values are the TUN_PUNT_* reasons of
 * shunt_abi.h (which are defined from these). */
#define MT_SEE_NONE         0   /* forward */
#define MT_SEE_CHANGE_USER  1   /* COM_CHANGE_USER: rewritten for the backend */
#define MT_SEE_KILL_CMD     2   /* COM_PROCESS_KILL: shunt's ids, not the backend's */
#define MT_SEE_KILL_QUERY   3   /* a COM_QUERY that is (or may be) a KILL */
#define MT_SEE_PREPARE      4   /* COM_STMT_PREPARE: the statement table */
#define MT_SEE_ALL          5   /* a migration waits: every command */
#define MT_SEE_STMT         6   /* COM_STMT_CLOSE, COM_RESET_CONNECTION */
#define MT_SEE_EXECUTE      7   /* COM_STMT_EXECUTE of a watched statement */
#define MT_SEE_XLATE        8   /* a statement id that may need translating */
#define MT_SEE_OPAQUE       9   /* a command after which the tracker can no longer
				   tell commands apart (COM_BINLOG_DUMP...) */
#define MT_SEE_QUERY_TEXT   0xffu /* mt_see_command: a COM_QUERY, whose text decides
				     (mt_kill_step / mt_kill_verdict) */

/* Classifies a client command by its command byte. stmt_tracking: the
 * statement table is kept (not in stream-parser mode); exec_watched: this
 * COM_STMT_EXECUTE names a statement user space watches. Returns MT_SEE_*,
 * or MT_SEE_QUERY_TEXT for a COM_QUERY. */
MT_INLINE __u32 mt_see_command(__u8 cmd, int stmt_tracking, int exec_watched)
{
	switch (cmd) {
	case COM_CHANGE_USER:
		return MT_SEE_CHANGE_USER;
	case COM_PROCESS_KILL:
		return MT_SEE_KILL_CMD;
	case COM_STMT_PREPARE:
		return MT_SEE_PREPARE;
	case COM_STMT_CLOSE:
	case COM_RESET_CONNECTION:
		return stmt_tracking ? MT_SEE_STMT : MT_SEE_NONE;
	case COM_STMT_EXECUTE:
		return exec_watched ? MT_SEE_EXECUTE : MT_SEE_NONE;
	case COM_BINLOG_DUMP:
	case COM_BINLOG_DUMP_GTID:
	case COM_REGISTER_SLAVE:
		return MT_SEE_OPAQUE;
	case COM_QUERY:
		return MT_SEE_QUERY_TEXT;
	default:
		return MT_SEE_NONE;
	}
}

/* Whether a query's text starts with the keyword KILL, byte by byte (so
 * the BPF program's bounded loop checks one step). What may come before
 * the keyword is what the server skips: blanks, slash-star comments, '#'
 * and "-- " comments to the end of the line. An executable comment
 * ("/" "*!50000 ..." or MariaDB's "/" "*M!") is code: the scan goes on
 * inside it after the version digits. A verdict the scan could not reach
 * (the text seen ended inside the prefix) is "maybe", which the carriers
 * treat as a KILL: user space parses the whole text. */
#define MT_KILL_MAYBE  0
#define MT_KILL_NO     1
#define MT_KILL_YES    2

enum mt_kill_st {
	MT_KS_BLANK = 0,        /* before the first word */
	MT_KS_SLASH,            /* a '/' */
	MT_KS_OPEN,             /* after the slash-star */
	MT_KS_OPEN_M,           /* after the slash-star and 'M' */
	MT_KS_COMMENT,          /* inside a comment */
	MT_KS_COMMENT_STAR,     /* a '*' inside a comment */
	MT_KS_VERSION,          /* the digits of an executable comment */
	MT_KS_DASH,             /* a '-' */
	MT_KS_DASH2,            /* "--": a blank must follow */
	MT_KS_LINE,             /* a comment to the end of the line */
	MT_KS_WORD,             /* matching "kill" (matched letters) */
};

struct mt_kill_scan {
	__u32 st;               /* enum mt_kill_st */
	__u32 matched;          /* letters of "kill" matched (MT_KS_WORD) */
	__u32 verdict;          /* MT_KILL_*, MAYBE until decided */
};

MT_INLINE int mt_kill_blank(__u8 c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* A byte before the first word (MT_KS_BLANK): 0, or 1 when decided. */
MT_INLINE int mt_kill_lead(struct mt_kill_scan *k, __u8 c)
{
	if (mt_kill_blank(c))
		return 0;
	if (c == '/') {
		k->st = MT_KS_SLASH;
		return 0;
	}
	if (c == '#') {
		k->st = MT_KS_LINE;
		return 0;
	}
	if (c == '-') {
		k->st = MT_KS_DASH;
		return 0;
	}
	if ((c | 0x20) == 'k') {
		k->st = MT_KS_WORD;
		k->matched = 1;
		return 0;
	}
	k->verdict = MT_KILL_NO;
	return 1;
}

/* Feeds the next byte of the query text; returns 1 once k->verdict is
 * decided (later bytes change nothing). */
MT_INLINE int mt_kill_step(struct mt_kill_scan *k, __u8 c)
{
	if (k->verdict != MT_KILL_MAYBE)
		return 1;
	switch (k->st) {
	case MT_KS_BLANK:
		return mt_kill_lead(k, c);
	case MT_KS_SLASH:
		if (c != '*')
			break;                  /* a '/' that starts no comment */
		k->st = MT_KS_OPEN;
		return 0;
	case MT_KS_OPEN:
		if (c == '!') {
			k->st = MT_KS_VERSION;
			return 0;
		}
		if (c == 'M') {
			k->st = MT_KS_OPEN_M;
			return 0;
		}
		k->st = c == '*' ? MT_KS_COMMENT_STAR : MT_KS_COMMENT;
		return 0;
	case MT_KS_OPEN_M:
		if (c == '!')
			k->st = MT_KS_VERSION;
		else
			k->st = c == '*' ? MT_KS_COMMENT_STAR : MT_KS_COMMENT;
		return 0;
	case MT_KS_COMMENT:
		if (c == '*')
			k->st = MT_KS_COMMENT_STAR;
		return 0;
	case MT_KS_COMMENT_STAR:
		k->st = c == '/' ? MT_KS_BLANK : c == '*' ? MT_KS_COMMENT_STAR : MT_KS_COMMENT;
		return 0;
	case MT_KS_VERSION:
		if (c >= '0' && c <= '9')
			return 0;
		k->st = MT_KS_BLANK;
		return mt_kill_lead(k, c);
	case MT_KS_DASH:
		if (c != '-')
			break;
		k->st = MT_KS_DASH2;
		return 0;
	case MT_KS_DASH2:
		/* "--" opens a comment only before a blank or control byte */
		if (!mt_kill_blank(c) && c >= 0x20)
			break;
		k->st = c == '\n' ? MT_KS_BLANK : MT_KS_LINE;
		return 0;
	case MT_KS_LINE:
		if (c == '\n')
			k->st = MT_KS_BLANK;
		return 0;
	case MT_KS_WORD:
		if (k->matched == 4) {
			/* the word must end here: no identifier byte follows */
			int ident = (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ||
				    c == '_' || c == '$' || c >= 0x80;
			k->verdict = ident ? MT_KILL_NO : MT_KILL_YES;
			return 1;
		}
		if ((c | 0x20) == (k->matched == 1 ? 'i' : 'l')) {
			k->matched++;
			return 0;
		}
		break;
	default:
		break;
	}
	k->verdict = MT_KILL_NO;
	return 1;
}

/* The scan's verdict once the bytes seen are in; whole: they were the
 * query's entire text (else an undecided scan stays MAYBE). */
MT_INLINE __u32 mt_kill_verdict(const struct mt_kill_scan *k, int whole)
{
	if (k->verdict != MT_KILL_MAYBE || !whole)
		return k->verdict;
	/* "KILL" ends the text: the server says it is a syntax error */
	return k->st == MT_KS_WORD && k->matched == 4 ? MT_KILL_YES : MT_KILL_NO;
}

#endif
