/* test_stmt.c — the statement table a migration re-creates (user/stmt.c). */
#include <stdlib.h>
#include "test.h"
#include "mysql_defs.h"
#include "mysql/stmt.h"

/* A conversation as the tracker leaves it after n prepare OKs, the last
 * one for id with params parameters. */
static void conv_after(struct mt_conv *c, unsigned oks, unsigned id, unsigned params)
{
	mt_conv_init(c, CLIENT_PROTOCOL_41, 2);
	c->prep_oks = oks;
	c->prep_id = id;
	c->prep_params = (__u16)params;
}

static const uint8_t prep_sql[] = { COM_STMT_PREPARE, 'S', 'E', 'L', 'E', 'C', 'T', ' ', '?' };

/* execute of stmt id with 1 parameter: bound flag and one type (LONG) */
static size_t exec_packet(uint8_t *p, unsigned id, int bound)
{
	size_t n = 0;
	p[n++] = COM_STMT_EXECUTE;
	p[n++] = (uint8_t)id; p[n++] = 0; p[n++] = 0; p[n++] = 0;
	p[n++] = 0;                             /* flags */
	p[n++] = 1; p[n++] = 0; p[n++] = 0; p[n++] = 0;  /* iterations */
	p[n++] = 0;                             /* null bitmap */
	p[n++] = (uint8_t)bound;
	if (bound) {
		p[n++] = 0x03;                  /* MYSQL_TYPE_LONG */
		p[n++] = 0x00;
	}
	p[n++] = 42; p[n++] = 0; p[n++] = 0; p[n++] = 0;
	return n;
}

static void test_prepare_settle_close(void)
{
	struct stmt_table *t = NULL;
	struct mt_conv c;

	conv_after(&c, 0, 0, 0);
	stmt_on_prepare(&t, &c, prep_sql, sizeof(prep_sql));
	CHECK(t != NULL);
	CHECK(stmt_unmovable(t, &c) != NULL);     /* answer not settled yet */
	conv_after(&c, 1, 7, 1);
	stmt_settle(t, &c);
	CHECK_EQ(t->n, 1);
	CHECK_EQ(t->v[0].id, 7);
	CHECK_EQ(t->v[0].nparams, 1);
	CHECK_EQ(t->v[0].sql_len, sizeof(prep_sql) - 1);
	CHECK(memcmp(t->v[0].sql, "SELECT ?", 8) == 0);
	CHECK(stmt_unmovable(t, &c) == NULL);
	/* a failed prepare adds nothing */
	stmt_on_prepare(&t, &c, prep_sql, sizeof(prep_sql));
	stmt_settle(t, &c);
	CHECK_EQ(t->n, 1);
	/* a prepare shunt never saw makes the session unmovable */
	conv_after(&c, 2, 8, 0);
	stmt_settle(t, &c);
	CHECK(stmt_unmovable(t, &c) != NULL);
	/* close */
	uint8_t close7[] = { COM_STMT_CLOSE, 7, 0, 0, 0 };
	stmt_on_client_command(t, close7, sizeof(close7));
	CHECK_EQ(t->n, 0);
	stmt_table_free(t);
}

static void test_types_learnt_and_restored(void)
{
	struct stmt_table *t = NULL;
	struct mt_conv c;
	uint8_t p[64];
	struct proto_buf out;

	conv_after(&c, 0, 0, 0);
	stmt_on_prepare(&t, &c, prep_sql, sizeof(prep_sql));
	conv_after(&c, 1, 3, 1);
	stmt_settle(t, &c);
	CHECK_EQ(stmt_exec_watch(t), 1ull << 3);   /* types unknown */
	proto_buf_init(&out);
	size_t n = exec_packet(p, 3, 1);
	CHECK_EQ(stmt_on_execute(t, p, n, &out), 0);
	CHECK_EQ(stmt_exec_watch(t), 0);           /* learnt */
	CHECK(t->v[0].types && t->v[0].types[0] == 0x03);
	/* after a move the next execute without types gets them */
	stmt_moved(t);
	CHECK(stmt_watches(t, 3) && !stmt_watches(t, 4));
	n = exec_packet(p, 3, 0);
	CHECK_EQ(stmt_on_execute(t, p, n, &out), 1);
	CHECK_EQ(out.len, n + 2);
	CHECK_EQ(out.data[11], 1);                 /* new_params_bound */
	CHECK_EQ(out.data[12], 0x03);
	CHECK_EQ(out.data[14], 42);                /* the value follows */
	CHECK_EQ(stmt_exec_watch(t), 0);
	proto_buf_reset(&out);
	CHECK_EQ(stmt_on_execute(t, p, n, &out), 0);  /* only once */
	proto_buf_free(&out);
	/* executed before its types were seen: cannot move */
	c.exec_bits = 0;
	free(t->v[0].types);
	t->v[0].types = NULL;
	CHECK(stmt_unmovable(t, &c) == NULL);      /* never executed */
	c.exec_bits = 1ull << 3;
	CHECK(stmt_unmovable(t, &c) != NULL);
	stmt_table_free(t);
}

static void test_reset_forgets(void)
{
	struct stmt_table *t = NULL;
	struct mt_conv c;
	uint8_t reset[] = { COM_RESET_CONNECTION };

	conv_after(&c, 0, 0, 0);
	stmt_on_prepare(&t, &c, prep_sql, sizeof(prep_sql));
	conv_after(&c, 1, 1, 1);
	stmt_settle(t, &c);
	CHECK_EQ(t->n, 1);
	stmt_on_client_command(t, reset, sizeof(reset));
	CHECK_EQ(t->n, 0);
	stmt_table_free(t);
}

/* Held client bytes: a close, then an execute that owes its types, then
 * a prepare (the last command, so it is followed). */
static void test_note_commands(void)
{
	struct stmt_table *t = NULL;
	struct mt_conv c;
	uint8_t p[64], wire[256];
	struct proto_buf out, pkt;
	size_t n, len = 0;
	uint8_t seq;

	conv_after(&c, 0, 0, 0);
	stmt_on_prepare(&t, &c, prep_sql, sizeof(prep_sql));
	conv_after(&c, 1, 3, 1);
	stmt_settle(t, &c);
	n = exec_packet(p, 3, 1);
	proto_buf_init(&out);
	stmt_on_execute(t, p, n, &out);            /* types learnt */
	stmt_moved(t);                             /* and owed */

	proto_buf_init(&pkt);
	uint8_t close9[] = { COM_STMT_CLOSE, 9, 0, 0, 0 };
	seq = 0;
	proto_put_packet(&pkt, &seq, close9, sizeof(close9));
	n = exec_packet(p, 3, 0);
	seq = 0;
	proto_put_packet(&pkt, &seq, p, n);
	seq = 0;
	proto_put_packet(&pkt, &seq, prep_sql, sizeof(prep_sql));
	memcpy(wire, pkt.data, pkt.len);
	len = pkt.len;
	proto_buf_free(&pkt);

	CHECK_EQ(stmt_note_commands(&t, &c, wire, 0, len, &out), 1);
	CHECK_EQ(out.len, len + 2);                /* the execute grew by its types */
	CHECK_MEM(out.data, wire, 9);              /* the close, as it was */
	CHECK_EQ(out.data[9 + 4 + 11], 1);         /* new_params_bound now set */
	CHECK(t->pending);                         /* the trailing prepare is followed */
	CHECK_EQ(stmt_exec_watch(t), 0);
	proto_buf_free(&out);
	stmt_table_free(t);
}

int main(void)
{
	RUN(test_prepare_settle_close);
	RUN(test_types_learnt_and_restored);
	RUN(test_reset_forgets);
	RUN(test_note_commands);
	return TEST_SUMMARY();
}
