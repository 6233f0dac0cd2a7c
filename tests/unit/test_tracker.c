/* test_tracker.c — host unit tests of the MySQL conversation tracker.
 *
 * The tracker (include/mysql_tracker.h) is fed real conversations captured
 * from MariaDB (tests/unit/tracker_streams.h, made by capture_streams.py),
 * first whole, then cut at every byte offset and in many random chunkings:
 * the final state and the sequence of events must not depend on where the
 * chunks end. Synthetic streams cover what a capture cannot easily hold:
 * 16 MB+ packets in both directions, continuations that look like
 * terminators, a full pipeline ring, malformed packets. */
#include <linux/types.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MT_LOAD(ctx, off, dst, n) (memcpy((dst), (const unsigned char *)(ctx) + (off), (n)), 0)
#include "mysql_tracker.h"

#include "test.h"
#include "tracker_streams.h"

/* One tracked session plus what the test observes about it. Compared with
 * memcmp, so it is always memset to 0 first. */
struct trk {
	struct mt_frame cf, sf;
	struct mt_conv c;
	__u64 ev_hash;          /* FNV-1a over (direction, events) per packet */
	__u64 n_err;            /* MT_EV_ERR events */
	__u64 n_status;         /* MT_EV_STATUS events */
	__u64 busy_at_cmd;      /* commands that found a response in progress */
	__u64 trans_seen;       /* status updates with IN_TRANS set */
	__u64 bad_steps;        /* mt_frame_step calls that did not advance */
};

static void trk_init(struct trk *t, __u32 caps, __u16 status)
{
	memset(t, 0, sizeof(*t));
	mt_frame_init(&t->cf);
	mt_frame_init(&t->sf);
	mt_conv_init(&t->c, caps, status);
	t->ev_hash = 1469598103934665603ull;
}

static void trk_event(struct trk *t, int to_server, __u32 ev)
{
	t->ev_hash = (t->ev_hash ^ (__u64)(ev << 1 | (__u32)to_server)) * 1099511628211ull;
	if (ev & MT_EV_ERR)
		t->n_err++;
	if (ev & MT_EV_STATUS) {
		t->n_status++;
		if (t->c.status & SERVER_STATUS_IN_TRANS)
			t->trans_seen++;
	}
}

/* Feeds one chunk of one direction, as the BPF program's loop would. */
static void trk_feed(struct trk *t, int to_server, const unsigned char *p, __u32 len)
{
	struct mt_frame *f = to_server ? &t->cf : &t->sf;
	__u32 off = 0;

	while (off < len) {
		int pkt = 0;
		int r = mt_frame_step(f, (void *)(uintptr_t)p, off, len, &pkt);

		if (r <= (int)off) {
			t->bad_steps++;
			return;
		}
		off = (__u32)r;
		if (!pkt)
			continue;
		if (to_server) {
			int was_idle = mt_idle(&t->c) || (t->c.flags & MT_F_OPAQUE);
			__u32 ev = mt_client_packet(&t->c, f);

			if ((ev & MT_EV_CMD_START) && !was_idle &&
			    !(ev & MT_EV_RESP_END))     /* no-response commands don't wait */
				t->busy_at_cmd++;
			trk_event(t, 1, ev);
		} else {
			trk_event(t, 0, mt_server_packet(&t->c, f));
		}
	}
}

/* ---- chunkings of a captured stream ---- */

enum { CH_WHOLE, CH_SPLIT, CH_RANDOM };

struct chunking {
	int mode;
	__u32 k;                /* CH_SPLIT: cut each segment at k */
	__u32 maxn;             /* CH_RANDOM: chunk sizes 1..maxn */
	__u64 rng;
};

static __u32 rnd(__u64 *s)
{
	/* xorshift64*: fixed seeds keep the test reproducible */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return (__u32)((*s * 2685821657736338717ull) >> 32);
}

static void feed_stream(struct trk *t, const struct trk_stream *s, struct chunking *ch)
{
	__u32 i, pos = 0;

	trk_init(t, s->caps, s->status);
	for (i = 0; i < s->nsegs; i++) {
		const unsigned char *p = s->data + pos;
		__u32 len = s->segs[i].len, o = 0;
		int dir = (int)s->segs[i].to_server;

		pos += len;
		if (ch->mode == CH_WHOLE) {
			trk_feed(t, dir, p, len);
		} else if (ch->mode == CH_SPLIT) {
			if (ch->k > 0 && ch->k < len) {
				trk_feed(t, dir, p, ch->k);
				trk_feed(t, dir, p + ch->k, len - ch->k);
			} else {
				trk_feed(t, dir, p, len);
			}
		} else {
			while (o < len) {
				__u32 n = 1 + rnd(&ch->rng) % ch->maxn;

				if (n > len - o)
					n = len - o;
				trk_feed(t, dir, p + o, n);
				o += n;
			}
		}
	}
}

/* What each capture must end with, counted by hand from the client
 * programs in capture_streams.py (the command lists are in the comments of
 * tracker_streams.h). Every command gets exactly one response; COM_QUIT,
 * COM_STMT_CLOSE and COM_STMT_SEND_LONG_DATA count theirs at once. */
struct expect {
	const char *name;
	__u64 cmds;             /* commands */
	__u64 errs;             /* ERR responses */
	int in_trans;           /* IN_TRANS at the end */
	__u64 busy;             /* commands sent while a response was pending */
};

static const struct expect expects[] = {
	/* USE (the CLI sends SELECT DATABASE() + COM_INIT_DB), SELECT,
	 * BEGIN, INSERT, SELECT, COMMIT, CALL, bad table (ERR), LOAD DATA,
	 * SELECT, COM_QUIT */
	{ "cli", 12, 1, 0, 0 },
	/* C_DRIVER: numbered 1..34 in its source; ERRs: bad syntax and the
	 * failing second statement of a multi-statement; execute_direct
	 * pipelines PREPARE+EXECUTE (1 busy) */
	{ "capi", 34, 2, 0, 1 },
	/* drive_pymysql 1..16, ends inside BEGIN ... FOR UPDATE */
	{ "pymysql", 16, 2, 1, 0 },
	/* RawClient.run 1..37, both with and without DEPRECATE_EOF */
	{ "raw_deof", 37, 2, 0, 1 },
	{ "raw_eof", 37, 2, 0, 1 },
};

static const struct expect *expect_for(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(expects) / sizeof(expects[0]); i++)
		if (strcmp(expects[i].name, name) == 0)
			return &expects[i];
	return NULL;
}

static int same(const struct trk *a, const struct trk *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

static void test_streams_whole(void)
{
	size_t i;

	CHECK_EQ(sizeof(trk_streams) / sizeof(trk_streams[0]), sizeof(expects) / sizeof(expects[0]));
	for (i = 0; i < sizeof(trk_streams) / sizeof(trk_streams[0]); i++) {
		const struct trk_stream *s = &trk_streams[i];
		const struct expect *e = expect_for(s->name);
		struct chunking ch = { .mode = CH_WHOLE };
		struct trk t;

		CHECK(e != NULL);
		if (!e)
			continue;
		feed_stream(&t, s, &ch);
		printf("  %-9s caps %08x: %llu cmds, %llu resps, %llu errs, status %04x, "
		       "%llu/%llu packets, trans seen %llu\n", s->name, s->caps,
		       (unsigned long long)t.c.cmds_started, (unsigned long long)t.c.resps_done,
		       (unsigned long long)t.n_err, t.c.status,
		       (unsigned long long)t.cf.packets, (unsigned long long)t.sf.packets,
		       (unsigned long long)t.trans_seen);
		CHECK_EQ(t.c.cmds_started, e->cmds);
		CHECK_EQ(t.c.resps_done, e->cmds);
		CHECK_EQ(t.n_err, e->errs);
		CHECK_EQ(!!(t.c.status & SERVER_STATUS_IN_TRANS), e->in_trans);
		CHECK(t.trans_seen > 0);        /* every capture has a transaction */
		CHECK_EQ(t.busy_at_cmd, e->busy);
		CHECK_EQ(t.c.rstate, MT_R_IDLE);
		CHECK(mt_idle(&t.c));
		CHECK_EQ(t.c.unexpected, 0);
		CHECK_EQ(t.c.flags, 0);
		CHECK_EQ(t.bad_steps, 0);
		CHECK_EQ(t.cf.hdr_have, 0);     /* both directions end on a packet boundary */
		CHECK_EQ(t.sf.hdr_have, 0);
	}
}

static void test_streams_split_everywhere(void)
{
	size_t i;

	for (i = 0; i < sizeof(trk_streams) / sizeof(trk_streams[0]); i++) {
		const struct trk_stream *s = &trk_streams[i];
		struct chunking ch = { .mode = CH_WHOLE };
		struct trk ref, t;
		__u32 k, maxseg = 0, j, diffs = 0;

		feed_stream(&ref, s, &ch);
		for (j = 0; j < s->nsegs; j++)
			if (s->segs[j].len > maxseg)
				maxseg = s->segs[j].len;
		for (k = 1; k < maxseg; k++) {
			ch.mode = CH_SPLIT;
			ch.k = k;
			feed_stream(&t, s, &ch);
			if (!same(&t, &ref)) {
				if (diffs++ < 3)
					fprintf(stderr, "  %s: split at %u differs\n", s->name, k);
			}
		}
		CHECK_EQ(diffs, 0);
	}
}

static void test_streams_random_chunks(void)
{
	static const __u32 maxns[] = { 1, 2, 3, 5, 8, 13, 64, 300, 5000 };
	size_t i, m;

	for (i = 0; i < sizeof(trk_streams) / sizeof(trk_streams[0]); i++) {
		const struct trk_stream *s = &trk_streams[i];
		struct chunking ch = { .mode = CH_WHOLE };
		struct trk ref, t;
		__u32 round, diffs = 0;

		feed_stream(&ref, s, &ch);
		for (m = 0; m < sizeof(maxns) / sizeof(maxns[0]); m++) {
			ch.mode = CH_RANDOM;
			ch.maxn = maxns[m];
			ch.rng = 0x9e3779b97f4a7c15ull ^ (i << 8) ^ m;
			for (round = 0; round < 60; round++) {
				feed_stream(&t, s, &ch);
				if (!same(&t, &ref) && diffs++ < 3)
					fprintf(stderr, "  %s: random chunking (max %u, round %u) differs\n",
						s->name, maxns[m], round);
			}
		}
		CHECK_EQ(diffs, 0);
	}
}

/* Truncated and corrupted captures: nothing may crash or read out of
 * bounds (run under ASan/UBSan), and the counters stay plausible. */
static void test_streams_corrupted(void)
{
	size_t i;
	__u64 rng = 12345;

	for (i = 0; i < sizeof(trk_streams) / sizeof(trk_streams[0]); i++) {
		const struct trk_stream *s = &trk_streams[i];
		unsigned char *buf = malloc(s->len);
		struct trk_stream cs = *s;
		struct chunking ch = { .mode = CH_RANDOM, .maxn = 17, .rng = 7 };
		struct trk t;
		int round;

		CHECK(buf != NULL);
		if (!buf)
			continue;
		cs.data = buf;
		for (round = 0; round < 200; round++) {
			__u32 flips = 1 + rnd(&rng) % 8, j;

			memcpy(buf, s->data, s->len);
			for (j = 0; j < flips; j++)
				buf[rnd(&rng) % s->len] = (unsigned char)rnd(&rng);
			feed_stream(&t, &cs, &ch);
			CHECK_EQ(t.bad_steps, 0);
			CHECK(t.c.ring_len <= MT_RING_LEN);
			CHECK(t.c.rstate <= MT_R_OPAQUE);
		}
		free(buf);
	}
}

/* ---- synthetic streams ---- */

/* A growable byte buffer for building packets. */
struct bbuf {
	unsigned char *p;
	size_t len, cap;
};

static void bb_put(struct bbuf *b, const void *src, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;

		while (cap < b->len + n)
			cap *= 2;
		b->p = realloc(b->p, cap);
		if (!b->p)
			abort();
		b->cap = cap;
	}
	if (src)
		memcpy(b->p + b->len, src, n);
	else
		memset(b->p + b->len, 'x', n);
	b->len += n;
}

/* Appends one packet header + payload (payload NULL: n filler bytes). */
static void bb_pkt(struct bbuf *b, __u8 seq, const void *payload, size_t n)
{
	unsigned char h[4] = { (unsigned char)n, (unsigned char)(n >> 8),
			       (unsigned char)(n >> 16), seq };

	bb_put(b, h, 4);
	bb_put(b, payload, n);
}

/* Appends a packet whose payload starts with `head` and is n bytes long. */
static void bb_pkt_head(struct bbuf *b, __u8 seq, const void *head, size_t hn, size_t n)
{
	unsigned char h[4] = { (unsigned char)n, (unsigned char)(n >> 8),
			       (unsigned char)(n >> 16), seq };

	bb_put(b, h, 4);
	bb_put(b, head, hn);
	bb_put(b, NULL, n - hn);
}

/* Feeds a buffer in chunks of `chunk` bytes (the last one shorter). */
static void feed_chunks(struct trk *t, int to_server, const struct bbuf *b, __u32 chunk)
{
	size_t o = 0;

	while (o < b->len) {
		size_t n = b->len - o < chunk ? b->len - o : chunk;

		trk_feed(t, to_server, b->p + o, (__u32)n);
		o += n;
	}
}

static const unsigned char ok_autocommit[] = { 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00 };
static const unsigned char ok_trans[] = { 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00 };
static const unsigned char eof_autocommit[] = { 0xfe, 0x00, 0x00, 0x02, 0x00 };
static const unsigned char okfe_autocommit[] = { 0xfe, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00 };
static const unsigned char coldef[] = { 0x03, 'd', 'e', 'f', 0, 0, 0, 1, 'a', 0, 0x0c,
					0x3f, 0, 0, 0, 0, 0, 0xfc, 0x80, 0, 0, 0, 0 };

#define PKT(b, seq, arr) bb_pkt((b), (seq), (arr), sizeof(arr))

/* A 16 MB+ COM_QUERY: the continuation packets start with bytes that would
 * be commands (COM_QUIT, COM_STMT_PREPARE) and must be ignored; an exact
 * multiple of 0xFFFFFF ends with an empty continuation. */
static void test_big_client_packet(void)
{
	static const __u32 chunks[] = { 65536, 1000003, 7 * 1024 * 1024 };
	size_t ci;

	for (ci = 0; ci < sizeof(chunks) / sizeof(chunks[0]); ci++) {
		struct bbuf c = { 0 }, s = { 0 };
		unsigned char q = COM_QUERY, quit = COM_QUIT, prep = COM_STMT_PREPARE;
		struct trk t;

		/* query 1: 0xFFFFFF + 100 bytes; the continuation starts 0x01 */
		bb_pkt_head(&c, 0, &q, 1, MYSQL_MAX_PAYLOAD);
		bb_pkt_head(&c, 1, &quit, 1, 100);
		trk_init(&t, CLIENT_PROTOCOL_41 | CLIENT_DEPRECATE_EOF, 2);
		feed_chunks(&t, 1, &c, chunks[ci]);
		CHECK_EQ(t.c.cmds_started, 1);
		CHECK_EQ(t.c.resps_done, 0);
		CHECK_EQ(t.c.rstate, MT_R_FIRST);
		PKT(&s, 1, ok_autocommit);
		feed_chunks(&t, 0, &s, chunks[ci]);
		CHECK_EQ(t.c.resps_done, 1);
		CHECK(mt_idle(&t.c));

		/* query 2: 2 * 0xFFFFFF + an empty continuation */
		c.len = 0;
		bb_pkt_head(&c, 0, &q, 1, MYSQL_MAX_PAYLOAD);
		bb_pkt_head(&c, 1, &prep, 1, MYSQL_MAX_PAYLOAD);
		bb_pkt(&c, 2, NULL, 0);
		feed_chunks(&t, 1, &c, chunks[ci]);
		CHECK_EQ(t.c.cmds_started, 2);
		CHECK_EQ(t.c.ring_len, 0);
		CHECK_EQ(t.c.unexpected, 0);
		s.len = 0;
		PKT(&s, 1, ok_trans);
		feed_chunks(&t, 0, &s, chunks[ci]);
		CHECK_EQ(t.c.resps_done, 2);
		CHECK(t.c.status & SERVER_STATUS_IN_TRANS);
		CHECK(mt_idle(&t.c));
		CHECK_EQ(t.cf.packets, 5);
		CHECK_EQ(t.sf.packets, 2);
		CHECK_EQ(t.bad_steps, 0);
		free(c.p);
		free(s.p);
	}
}

/* A 16 MB+ row. Its continuation starts with 0xFE and is short, so taken
 * alone it would look like the terminator; the first part starts with 0xFE
 * too (an 8-byte lenenc length, as a real text row > 16 MB does). With and
 * without DEPRECATE_EOF. */
static void test_big_row_fe_continuation(void)
{
	int deof;

	for (deof = 0; deof < 2; deof++) {
		struct bbuf c = { 0 }, s = { 0 };
		unsigned char q[] = { COM_QUERY, 'S', 'E', 'L' }, one = 1;
		unsigned char rowhead[] = { 0xfe, 0x05, 0x00, 0x00, 0x01, 0, 0, 0, 0 };
		struct trk t;

		trk_init(&t, CLIENT_PROTOCOL_41 | (deof ? CLIENT_DEPRECATE_EOF : 0), 2);
		PKT(&c, 0, q);
		trk_feed(&t, 1, c.p, (__u32)c.len);
		bb_pkt(&s, 1, &one, 1);
		PKT(&s, 2, coldef);
		if (!deof)
			PKT(&s, 3, eof_autocommit);
		bb_pkt_head(&s, 4, rowhead, sizeof(rowhead), MYSQL_MAX_PAYLOAD);
		if (deof)
			PKT(&s, 5, okfe_autocommit);   /* continuation, looks like the end */
		else
			PKT(&s, 5, eof_autocommit);
		feed_chunks(&t, 0, &s, 100000);
		CHECK_EQ(t.c.rstate, MT_R_ROWS);
		CHECK_EQ(t.c.resps_done, 0);
		/* a second, small row, then the real terminator */
		s.len = 0;
		bb_pkt(&s, 6, "\x01x", 2);
		if (deof)
			PKT(&s, 7, okfe_autocommit);
		else
			PKT(&s, 7, eof_autocommit);
		trk_feed(&t, 0, s.p, (__u32)s.len);
		CHECK_EQ(t.c.resps_done, 1);
		CHECK(mt_idle(&t.c));
		CHECK_EQ(t.c.unexpected, 0);
		free(c.p);
		free(s.p);
	}
}

/* LOCAL INFILE with a 0xFFFFFF data packet followed by an empty
 * continuation (not the end of the upload), then the real empty packet. */
static void test_infile_big(void)
{
	struct bbuf c = { 0 }, s = { 0 };
	unsigned char q[] = { COM_QUERY, 'L', 'O', 'A', 'D' };
	unsigned char req[] = { MYSQL_LOCAL_INFILE_HDR, '/', 'f' };
	struct trk t;

	trk_init(&t, CLIENT_PROTOCOL_41 | CLIENT_LOCAL_FILES, 2);
	PKT(&c, 0, q);
	trk_feed(&t, 1, c.p, (__u32)c.len);
	PKT(&s, 1, req);
	trk_feed(&t, 0, s.p, (__u32)s.len);
	CHECK_EQ(t.c.rstate, MT_R_INFILE);
	CHECK(!mt_idle(&t.c));
	c.len = 0;
	bb_pkt(&c, 2, NULL, 10);
	bb_pkt(&c, 3, NULL, MYSQL_MAX_PAYLOAD);
	bb_pkt(&c, 4, NULL, 0);                 /* continuation of the above */
	feed_chunks(&t, 1, &c, 77777);
	CHECK_EQ(t.c.rstate, MT_R_INFILE);
	c.len = 0;
	bb_pkt(&c, 5, NULL, 0);                 /* end of the file */
	trk_feed(&t, 1, c.p, (__u32)c.len);
	CHECK_EQ(t.c.rstate, MT_R_FIRST);
	s.len = 0;
	PKT(&s, 6, ok_autocommit);
	trk_feed(&t, 0, s.p, (__u32)s.len);
	CHECK(mt_idle(&t.c));
	CHECK_EQ(t.c.cmds_started, 1);
	CHECK_EQ(t.c.resps_done, 1);
	CHECK_EQ(t.c.unexpected, 0);
	free(c.p);
	free(s.p);
}

/* PREPARE + EXECUTE written back to back (as mariadb_stmt_execute_direct
 * does), both in one chunk, then both responses in one chunk. */
static void test_pipelined_prepare_execute(void)
{
	struct bbuf c = { 0 }, s = { 0 };
	unsigned char prep[] = { COM_STMT_PREPARE, 'S', 'E', 'L', ' ', '?' };
	unsigned char exec[] = { COM_STMT_EXECUTE, 0xff, 0xff, 0xff, 0xff, 0x00, 1, 0, 0, 0,
				 0x00, 0x01, 0x03, 0x00, 0x29, 0, 0, 0 };
	/* prepare OK: stmt 9, 1 column, 1 param */
	unsigned char prep_ok[] = { 0x00, 9, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0 };
	unsigned char one = 1, binrow[] = { 0x00, 0x00, 0x2a, 0, 0, 0, 0, 0, 0, 0 };
	struct trk t;
	__u32 split;

	PKT(&c, 0, prep);
	PKT(&c, 0, exec);
	PKT(&s, 1, prep_ok);
	PKT(&s, 2, coldef);                     /* the parameter */
	PKT(&s, 3, coldef);                     /* the column */
	bb_pkt(&s, 1, &one, 1);                 /* execute: 1 column */
	PKT(&s, 2, coldef);
	PKT(&s, 3, binrow);
	PKT(&s, 4, okfe_autocommit);
	for (split = 0; split < s.len; split++) {
		trk_init(&t, CLIENT_PROTOCOL_41 | CLIENT_DEPRECATE_EOF, 2);
		trk_feed(&t, 1, c.p, (__u32)c.len);
		CHECK_EQ(t.c.cmds_started, 2);
		CHECK_EQ(t.c.ring_len, 1);
		CHECK_EQ(t.c.cmd, COM_STMT_PREPARE);
		CHECK_EQ(t.c.last_cmd, COM_STMT_EXECUTE);
		trk_feed(&t, 0, s.p, split);
		trk_feed(&t, 0, s.p + split, (__u32)(s.len - split));
		CHECK_EQ(t.c.resps_done, 2);
		CHECK(mt_idle(&t.c));
		CHECK_EQ(t.c.unexpected, 0);
		CHECK_EQ(t.busy_at_cmd, 1);
		/* what a migration needs of the prepare */
		CHECK_EQ(t.c.prep_id, 9);
		CHECK_EQ(t.c.prep_params, 1);
		CHECK_EQ(t.c.prep_oks, 1);
		CHECK_EQ(t.c.exec_id, 0xffffffffu);
		CHECK(t.c.exec_bits & (1ull << 63));
		CHECK(mt_movable(&t.c));
	}
	free(c.p);
	free(s.p);
}

/* More pipelined commands than the ring holds: flagged, not corrupted. */
static void test_ring_full(void)
{
	unsigned char ping[] = { 1, 0, 0, 0, COM_PING }, ok[11] = { 7, 0, 0, 1 };
	struct trk t;
	int i;

	memcpy(ok + 4, ok_autocommit, sizeof(ok_autocommit));
	trk_init(&t, CLIENT_PROTOCOL_41, 2);
	for (i = 0; i < 1 + MT_RING_LEN; i++)
		trk_feed(&t, 1, ping, sizeof(ping));
	CHECK_EQ(t.c.ring_len, MT_RING_LEN);
	CHECK_EQ(t.c.flags, 0);
	trk_feed(&t, 1, ping, sizeof(ping));
	CHECK_EQ(t.c.flags, MT_F_RING_FULL);
	for (i = 0; i < 1 + MT_RING_LEN; i++)
		trk_feed(&t, 0, ok, sizeof(ok));
	CHECK(mt_idle(&t.c));
	CHECK_EQ(t.c.cmds_started, 2 + MT_RING_LEN);
	CHECK_EQ(t.c.resps_done, 1 + MT_RING_LEN);
}

/* A cursor with classic EOF: the execute response ends at the EOF after
 * the column definitions when CURSOR_EXISTS is set; fetches are rows. */
static void test_cursor_eof(void)
{
	struct bbuf c = { 0 }, s = { 0 };
	unsigned char exec[] = { COM_STMT_EXECUTE, 1, 0, 0, 0, CURSOR_TYPE_READ_ONLY, 1, 0, 0, 0 };
	unsigned char fetch[] = { COM_STMT_FETCH, 1, 0, 0, 0, 1, 0, 0, 0 };
	unsigned char two = 2, eof_cursor[] = { 0xfe, 0, 0, 0x42, 0 }, eof_last[] = { 0xfe, 0, 0, 0x82, 0 };
	unsigned char binrow[] = { 0x00, 0x00, 1, 0, 0, 0, 1, 'a' };
	struct trk t;

	trk_init(&t, CLIENT_PROTOCOL_41, 2);
	PKT(&c, 0, exec);
	trk_feed(&t, 1, c.p, (__u32)c.len);
	CHECK_EQ(t.c.cmd_flags, MT_CMDF_CURSOR);
	bb_pkt(&s, 1, &two, 1);
	PKT(&s, 2, coldef);
	PKT(&s, 3, coldef);
	PKT(&s, 4, eof_cursor);
	trk_feed(&t, 0, s.p, (__u32)s.len);
	CHECK(mt_idle(&t.c));
	CHECK(t.c.status & SERVER_STATUS_CURSOR_EXISTS);
	/* an open cursor pins the session to its server */
	CHECK(t.c.mflags & MT_M_CURSOR);
	CHECK_EQ(t.c.cursor_id, 1);
	CHECK(!mt_movable(&t.c));
	c.len = 0;
	PKT(&c, 0, fetch);
	trk_feed(&t, 1, c.p, (__u32)c.len);
	s.len = 0;
	PKT(&s, 1, binrow);
	PKT(&s, 2, eof_cursor);
	trk_feed(&t, 0, s.p, (__u32)s.len);
	CHECK(mt_idle(&t.c));
	trk_feed(&t, 1, c.p, (__u32)c.len);
	s.len = 0;
	PKT(&s, 1, eof_last);
	trk_feed(&t, 0, s.p, (__u32)s.len);
	CHECK(mt_idle(&t.c));
	CHECK_EQ(t.c.resps_done, 3);
	CHECK_EQ(t.c.unexpected, 0);
	/* the last row was fetched: the cursor is closed */
	CHECK(!(t.c.mflags & MT_M_CURSOR));
	CHECK(mt_movable(&t.c));
	free(c.p);
	free(s.p);
}

/* What keeps a session on its server: long data until its execute, a
 * transaction until it ends, a cursor until its statement is closed. */
static void test_movable(void)
{
	unsigned char longdata[] = { 5, 0, 0, 0, COM_STMT_SEND_LONG_DATA, 3, 0, 0, 0, 0, 0, 'x' };
	unsigned char exec[] = { 11, 0, 0, 0, COM_STMT_EXECUTE, 3, 0, 0, 0, 0, 1, 0, 0, 0, 0 };
	unsigned char close3[] = { 5, 0, 0, 0, COM_STMT_CLOSE, 3, 0, 0, 0 };
	unsigned char query[] = { 2, 0, 0, 0, COM_QUERY, 'x' };
	unsigned char ok_tr[11] = { 7, 0, 0, 1 }, ok_ac[11] = { 7, 0, 0, 1 };
	struct trk t;

	longdata[0] = sizeof(longdata) - 4;
	memcpy(ok_tr + 4, ok_trans, sizeof(ok_trans));
	memcpy(ok_ac + 4, ok_autocommit, sizeof(ok_autocommit));
	trk_init(&t, CLIENT_PROTOCOL_41, 2);
	CHECK(mt_movable(&t.c));
	trk_feed(&t, 1, longdata, sizeof(longdata));
	CHECK(mt_idle(&t.c));
	CHECK(!mt_movable(&t.c));               /* long data waits for its execute */
	trk_feed(&t, 1, exec, sizeof(exec));
	CHECK(!(t.c.mflags & MT_M_LONG_DATA));
	trk_feed(&t, 0, ok_tr, sizeof(ok_tr));
	CHECK(mt_idle(&t.c));
	CHECK(!mt_movable(&t.c));               /* in a transaction */
	trk_feed(&t, 1, query, sizeof(query));
	CHECK(!mt_movable(&t.c));               /* a response is pending */
	trk_feed(&t, 0, ok_ac, sizeof(ok_ac));
	CHECK(mt_movable(&t.c));
	/* a cursor on statement 3, closed by COM_STMT_CLOSE of 3 */
	t.c.mflags |= MT_M_CURSOR;
	t.c.cursor_id = 3;
	CHECK(!mt_movable(&t.c));
	trk_feed(&t, 1, close3, sizeof(close3));
	CHECK(mt_movable(&t.c));
	CHECK(t.c.exec_bits & (1ull << 3));
}

/* Odd packets: ERR while idle, a too-short OK, a MariaDB progress report,
 * an empty client packet, COM_CHANGE_USER with caching_sha2 fast auth,
 * a binlog dump. */
static void test_odd_packets(void)
{
	unsigned char err_idle[] = { 0x10, 0, 0, 0, 0xff, 0x87, 0x07, '#', 'H', 'Y', '0', '0', '0',
				     'k', 'i', 'l', 'l', 'e', 'd', '!' };
	unsigned char ping[] = { 1, 0, 0, 0, COM_PING };
	unsigned char short_ok[] = { 3, 0, 0, 1, 0x00, 0x00, 0x00 };
	unsigned char progress[] = { 9, 0, 0, 1, 0xff, 0xff, 0xff, 1, 1, 1, 0x10, 0x27, 0 };
	unsigned char ok[] = { 7, 0, 0, 2, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00 };
	unsigned char empty[] = { 0, 0, 0, 0 };
	unsigned char chu[] = { 6, 0, 0, 0, COM_CHANGE_USER, 'r', 'o', 'o', 't', 0 };
	unsigned char fast[] = { 2, 0, 0, 1, 0x01, 0x03 };
	unsigned char dump[] = { 5, 0, 0, 0, COM_BINLOG_DUMP, 4, 0, 0, 0 };
	struct trk t;

	trk_init(&t, CLIENT_PROTOCOL_41 | CLIENT_DEPRECATE_EOF, 2);
	trk_feed(&t, 0, err_idle, sizeof(err_idle));
	CHECK_EQ(t.c.unexpected, 1);
	CHECK(mt_idle(&t.c));

	trk_feed(&t, 1, ping, sizeof(ping));
	trk_feed(&t, 0, short_ok, sizeof(short_ok));
	CHECK_EQ(t.c.unexpected, 2);            /* counted and ended */
	CHECK_EQ(t.c.resps_done, 1);
	CHECK(mt_idle(&t.c));

	trk_feed(&t, 1, ping, sizeof(ping));
	trk_feed(&t, 0, progress, sizeof(progress));
	CHECK(!mt_idle(&t.c));                  /* a progress report is no end */
	ok[3] = 2;
	trk_feed(&t, 0, ok, sizeof(ok));
	CHECK(mt_idle(&t.c));
	CHECK_EQ(t.c.unexpected, 2);
	CHECK_EQ(t.n_err, 0);

	trk_feed(&t, 1, empty, sizeof(empty));
	CHECK_EQ(t.c.unexpected, 3);
	CHECK_EQ(t.c.cmds_started, 2);

	trk_feed(&t, 1, chu, sizeof(chu));
	trk_feed(&t, 0, fast, sizeof(fast));
	CHECK_EQ(t.c.rstate, MT_R_AUTH_CLIENT);
	CHECK(!mt_idle(&t.c));
	ok[3] = 2;
	trk_feed(&t, 0, ok, sizeof(ok));        /* the OK follows without a client packet */
	CHECK(mt_idle(&t.c));
	CHECK_EQ(t.c.resps_done, 3);

	trk_feed(&t, 1, dump, sizeof(dump));
	CHECK_EQ(t.c.flags, MT_F_OPAQUE);
	CHECK_EQ(t.c.rstate, MT_R_OPAQUE);
	CHECK(!mt_idle(&t.c));
	trk_feed(&t, 0, ok, sizeof(ok));
	trk_feed(&t, 1, ping, sizeof(ping));
	CHECK_EQ(t.c.cmds_started, 4);          /* nothing counted any more */
	CHECK_EQ(t.c.unexpected, 3);
	CHECK_EQ(t.bad_steps, 0);
}

/* The framing alone: every packet of a stream is reported exactly once,
 * with its full prefix, whatever the chunking. */
static void test_frame_prefix(void)
{
	struct bbuf b = { 0 };
	unsigned char payload[40];
	size_t i, n;
	__u32 chunk;

	for (i = 0; i < sizeof(payload); i++)
		payload[i] = (unsigned char)(i * 7 + 1);
	for (n = 0; n <= sizeof(payload); n++)
		bb_pkt(&b, (__u8)n, payload, n);
	for (chunk = 1; chunk <= 50; chunk++) {
		struct mt_frame f;
		size_t o = 0, seen = 0;
		int bad = 0;

		mt_frame_init(&f);
		while (o < b.len) {
			__u32 len = (__u32)(b.len - o < chunk ? b.len - o : chunk), off = 0;

			while (off < len) {
				int pkt = 0;
				int r = mt_frame_step(&f, b.p + o, off, len, &pkt);

				if (r <= (int)off) {
					bad++;
					break;
				}
				off = (__u32)r;
				if (pkt) {
					size_t want = seen < MT_PFX_LEN ? seen : MT_PFX_LEN;

					if (f.payload_len != seen || f.seq != (__u8)seen ||
					    f.pfx_have != want || memcmp(f.pfx, payload, want) != 0)
						bad++;
					seen++;
				}
			}
			o += len;
		}
		CHECK_EQ(bad, 0);
		CHECK_EQ(seen, sizeof(payload) + 1);
		CHECK_EQ(f.packets, sizeof(payload) + 1);
		CHECK_EQ(f.hdr_have, 0);
	}
	free(b.p);
}

int main(void)
{
	RUN(test_frame_prefix);
	RUN(test_streams_whole);
	RUN(test_streams_split_everywhere);
	RUN(test_streams_random_chunks);
	RUN(test_streams_corrupted);
	RUN(test_big_client_packet);
	RUN(test_big_row_fe_continuation);
	RUN(test_infile_big);
	RUN(test_pipelined_prepare_execute);
	RUN(test_ring_full);
	RUN(test_cursor_eof);
	RUN(test_movable);
	RUN(test_odd_packets);
	return TEST_SUMMARY();
}
