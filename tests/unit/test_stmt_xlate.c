/* test_stmt_xlate.c — statement-id translation of a client stream
 * (user/stmt_xlate.c): every split of the input, continuations of 16 MB
 * packets, unknown and untranslated ids, and a start inside a packet. */
#include <stdlib.h>
#include "test.h"
#include "mysql_defs.h"
#include "mysql/stmt.h"
#include "mysql/stmt_xlate.h"

/* A table of client statements 1, 2 and 5; the backend knows 1 as 9 and
 * 5 as 10, 2 as 2. */
static struct stmt_table *table(void)
{
	static const uint8_t sql[] = { COM_STMT_PREPARE, 'S', 'E', 'L', 'E', 'C', 'T', ' ', '1' };
	static const unsigned ids[] = { 1, 2, 5 };
	struct stmt_table *t = NULL;
	struct mt_conv c;

	for (unsigned i = 0; i < 3; i++) {
		mt_conv_init(&c, CLIENT_PROTOCOL_41, 2);
		c.prep_oks = i;
		stmt_on_prepare(&t, &c, sql, sizeof(sql));
		c.prep_oks = i + 1;
		c.prep_id = ids[i];
		stmt_settle(t, &c);
	}
	stmt_set_backend_id(t, 1, 9);
	stmt_set_backend_id(t, 5, 10);
	return t;
}

/* Appends a packet (seq 0) with payload cmd, id (u32) and extra bytes. */
static void put_cmd(struct proto_buf *b, uint8_t cmd, uint32_t id, size_t extra)
{
	size_t plen = 5 + extra;
	uint8_t hdr[9] = { (uint8_t)plen, (uint8_t)(plen >> 8), (uint8_t)(plen >> 16), 0, cmd,
			   (uint8_t)id, (uint8_t)(id >> 8), (uint8_t)(id >> 16), (uint8_t)(id >> 24) };
	proto_put_bytes(b, hdr, sizeof(hdr));
	for (size_t i = 0; i < extra; i++)
		proto_put_u8(b, (uint8_t)(0xa0 + i));
}

static void put_raw(struct proto_buf *b, const void *p, size_t n)
{
	proto_put_bytes(b, p, n);
}

/* The client stream and what the backend must get. */
static void streams(struct proto_buf *in, struct proto_buf *want)
{
	static const uint8_t query[] = { 9, 0, 0, 0, COM_QUERY, 'S', 'E', 'L', 'E', 'C', 'T', ' ', '1' };
	static const uint8_t tiny[] = { 2, 0, 0, 0, COM_STMT_CLOSE, 1 };   /* too short for an id */

	put_cmd(in, COM_STMT_EXECUTE, 1, 6);         put_cmd(want, COM_STMT_EXECUTE, 9, 6);
	put_cmd(in, COM_STMT_CLOSE, 2, 0);           put_cmd(want, COM_STMT_CLOSE, 2, 0);
	put_raw(in, query, sizeof(query));           put_raw(want, query, sizeof(query));
	put_cmd(in, COM_STMT_SEND_LONG_DATA, 5, 20); put_cmd(want, COM_STMT_SEND_LONG_DATA, 10, 20);
	put_cmd(in, COM_STMT_FETCH, 7, 4);           put_cmd(want, COM_STMT_FETCH, 7, 4);
	put_cmd(in, COM_STMT_EXECUTE, 0xffffffffu, 3); put_cmd(want, COM_STMT_EXECUTE, 0xffffffffu, 3);
	put_cmd(in, COM_STMT_RESET, 5, 0);           put_cmd(want, COM_STMT_RESET, 10, 0);
	put_cmd(in, COM_STMT_BULK_EXECUTE, 1, 2);    put_cmd(want, COM_STMT_BULK_EXECUTE, 9, 2);
	put_raw(in, tiny, sizeof(tiny));             put_raw(want, tiny, sizeof(tiny));
	put_cmd(in, COM_STMT_CLOSE, 1, 0);           put_cmd(want, COM_STMT_CLOSE, 9, 0);
}

/* What each case works on: the table, an input, an output, a translator. */
struct fix {
	struct stmt_table *t;
	struct proto_buf in, out;
	struct stmt_xlate x;
};

static void fix_init(struct fix *f)
{
	f->t = table();
	proto_buf_init(&f->in);
	proto_buf_init(&f->out);
	stmt_xlate_reset(&f->x, 0, 0);
}

static void fix_free(struct fix *f)
{
	proto_buf_free(&f->in);
	proto_buf_free(&f->out);
	stmt_table_free(f->t);
}

/* Feeds data[0..len) to x in pieces of `step` bytes. */
static void feed_steps(struct stmt_xlate *x, const struct stmt_table *t, const uint8_t *data,
		       size_t len, size_t step, struct proto_buf *out)
{
	for (size_t off = 0; off < len; off += step)
		stmt_xlate_feed(x, t, data + off, off + step <= len ? step : len - off, out);
}

/* Feeds in as chunks cut at every position (two cuts), then in pieces of
 * every size up to 12: the output is always want. */
static void test_every_split(void)
{
	struct stmt_table *t = table();
	struct proto_buf in, want, out;
	struct stmt_xlate x;
	int bad = 0;

	proto_buf_init(&in);
	proto_buf_init(&want);
	streams(&in, &want);
	CHECK_EQ(in.len, want.len);
	for (size_t a = 0; a <= in.len && !bad; a++)
		for (size_t b = a; b <= in.len && !bad; b++) {
			stmt_xlate_reset(&x, 0, 0);
			proto_buf_init(&out);
			stmt_xlate_feed(&x, t, in.data, a, &out);
			stmt_xlate_feed(&x, t, in.data + a, b - a, &out);
			stmt_xlate_feed(&x, t, in.data + b, in.len - b, &out);
			if (out.len != want.len || memcmp(out.data, want.data, want.len) ||
			    stmt_xlate_pending(&x) || x.rewritten != 5) {
				fprintf(stderr, "  cut at %zu and %zu: output differs\n", a, b);
				bad = 1;
			}
			proto_buf_free(&out);
		}
	CHECK(!bad);
	for (size_t step = 1; step <= 12; step++) {
		stmt_xlate_reset(&x, 0, 0);
		proto_buf_init(&out);
		feed_steps(&x, t, in.data, in.len, step, &out);
		CHECK(out.len == want.len && memcmp(out.data, want.data, want.len) == 0);
		CHECK_EQ(x.rewritten, 5);
		proto_buf_free(&out);
	}
	proto_buf_free(&in);
	proto_buf_free(&want);
	stmt_table_free(t);
}

/* A prefix cut before its id ends is held back, and comes out whole. */
static void test_pending(void)
{
	struct fix f;

	fix_init(&f);
	put_cmd(&f.in, COM_STMT_EXECUTE, 1, 6);
	stmt_xlate_feed(&f.x, f.t, f.in.data, 7, &f.out);
	CHECK_EQ(f.out.len, 0);
	CHECK_EQ(stmt_xlate_pending(&f.x), 7);
	stmt_xlate_feed(&f.x, f.t, f.in.data + 7, 2, &f.out);
	CHECK_EQ(stmt_xlate_pending(&f.x), 0);
	CHECK_EQ(f.out.len, 9);
	CHECK_EQ(f.out.data[5], 9);
	fix_free(&f);
}

/* A 16 MB execute of statement 1 is translated; its continuation, whose
 * data looks like an execute of statement 1, is left alone; the command
 * after them is translated again. */
static void test_continuation(void)
{
	struct fix f;
	size_t big = MYSQL_MAX_PAYLOAD;
	uint8_t head[9] = { 0xff, 0xff, 0xff, 0, COM_STMT_EXECUTE, 1, 0, 0, 0 };
	uint8_t cont[9] = { 5, 0, 0, 1, COM_STMT_EXECUTE, 1, 0, 0, 0 };
	uint8_t *fill = calloc(1, big - 5);

	fix_init(&f);
	CHECK(fill != NULL);
	put_raw(&f.in, head, sizeof(head));
	put_raw(&f.in, fill, big - 5);
	free(fill);
	put_raw(&f.in, cont, sizeof(cont));
	put_cmd(&f.in, COM_STMT_EXECUTE, 1, 0);
	feed_steps(&f.x, f.t, f.in.data, f.in.len, 65536, &f.out);
	CHECK_EQ(f.out.len, f.in.len);
	CHECK_EQ(f.out.data[5], 9);                  /* the big execute */
	CHECK_EQ(f.out.data[4 + big + 5], 1);        /* the continuation's data */
	CHECK_EQ(f.out.data[4 + big + 9 + 5], 9);    /* the command after them */
	CHECK_EQ(f.x.rewritten, 2);
	fix_free(&f);
}

/* Started inside a packet (the kernel forwarded its start): the rest is
 * skipped, the next header is framed; a start at a continuation too. */
static void test_start_inside(void)
{
	struct fix f;

	fix_init(&f);
	put_cmd(&f.in, COM_STMT_EXECUTE, 1, 6);
	put_cmd(&f.in, COM_STMT_EXECUTE, 5, 0);
	/* the first 6 bytes went out already: 9 of the first packet are left */
	stmt_xlate_reset(&f.x, 9, 0);
	stmt_xlate_feed(&f.x, f.t, f.in.data + 6, f.in.len - 6, &f.out);
	CHECK_EQ(f.out.len, f.in.len - 6);
	CHECK_EQ(f.out.data[9 + 5], 10);
	CHECK_EQ(f.out.data[0], f.in.data[6]);       /* the tail went as it was */
	proto_buf_reset(&f.out);
	/* told the next packet is a continuation: its bytes are data */
	stmt_xlate_reset(&f.x, 0, 1);
	stmt_xlate_feed(&f.x, f.t, f.in.data, f.in.len, &f.out);
	CHECK_EQ(f.out.data[5], 1);
	CHECK_EQ(f.out.data[15 + 5], 10);
	fix_free(&f);
}

int main(void)
{
	RUN(test_every_split);
	RUN(test_pending);
	RUN(test_continuation);
	RUN(test_start_inside);
	return TEST_SUMMARY();
}
