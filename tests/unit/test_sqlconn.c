/* test_sqlconn.c — the row parser of shunt's own SQL client
 * (sql_step_add_row), which reads what a backend sends during a migration
 * and for KILL: rows are untrusted bytes. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "test.h"
#include "mysql/sql_batch.h"

static void step_init(struct sql_step *st, size_t ncols)
{
	memset(st, 0, sizeof(*st));
	st->ncols = ncols;
}

static void step_free(struct sql_step *st)
{
	for (size_t i = 0; i < st->nrows * st->ncols; i++)
		free(st->cells[i]);
	free(st->cells);
	free(st->cell_len);
}

/* Good rows, with a NULL and an empty cell. */
static void test_rows(void)
{
	struct sql_step st;
	static const uint8_t r1[] = { 1, 'a', 0xfb, 0 };
	static const uint8_t r2[] = { 3, 'x', 'y', 'z', 2, 'b', 'c', 1, 'd' };

	step_init(&st, 3);
	CHECK_EQ(sql_step_add_row(&st, r1, sizeof(r1)), 0);
	CHECK_EQ(sql_step_add_row(&st, r2, sizeof(r2)), 0);
	CHECK_EQ(st.nrows, 2);
	CHECK(strcmp(sql_cell(&st, 0, 0), "a") == 0);
	CHECK(sql_cell(&st, 0, 1) == NULL);
	CHECK(strcmp(sql_cell(&st, 0, 2), "") == 0);
	CHECK(strcmp(sql_cell(&st, 1, 0), "xyz") == 0 && st.cell_len[3] == 3);
	CHECK(strcmp(sql_cell(&st, 1, 2), "d") == 0);
	step_free(&st);
}

/* A row cut off inside its second of three cells: refused, the rows
 * before it intact, and nothing freed that the row did not allocate. The
 * cell after the bad one was never parsed; the old parser freed its
 * uninitialised pointer (ASan fills fresh memory with 0xbe, so the
 * sanitizer run crashed on it). Then rows with bytes after the last cell,
 * a length past the end, and an empty packet. */
static void test_malformed_rows(void)
{
	struct sql_step st;
	static const uint8_t good[] = { 1, 'a', 1, 'b', 1, 'c' };
	static const uint8_t cut[] = { 1, 'a', 5, 'b' };
	static const uint8_t trailing[] = { 1, 'a', 1, 'b', 1, 'c', 'X' };
	static const uint8_t past[] = { 0xfc, 0xff, 0xff, 'a' };
	static const uint8_t lenenc_cut[] = { 1, 'a', 0xfd, 1 };

	step_init(&st, 3);
	CHECK_EQ(sql_step_add_row(&st, good, sizeof(good)), 0);
	CHECK_EQ(sql_step_add_row(&st, cut, sizeof(cut)), -EPROTO);
	CHECK_EQ(sql_step_add_row(&st, trailing, sizeof(trailing)), -EPROTO);
	CHECK_EQ(sql_step_add_row(&st, past, sizeof(past)), -EPROTO);
	CHECK_EQ(sql_step_add_row(&st, lenenc_cut, sizeof(lenenc_cut)), -EPROTO);
	CHECK_EQ(sql_step_add_row(&st, (const uint8_t *)"", 0), -EPROTO);
	CHECK_EQ(st.nrows, 1);
	CHECK(strcmp(sql_cell(&st, 0, 2), "c") == 0);
	CHECK(sql_cell(&st, 1, 0) == NULL);
	CHECK_EQ(sql_step_add_row(&st, good, sizeof(good)), 0);   /* and it goes on */
	CHECK_EQ(st.nrows, 2);
	step_free(&st);
	step_init(&st, 0);      /* a result of no columns has no rows */
	CHECK_EQ(sql_step_add_row(&st, good, sizeof(good)), -EPROTO);
	CHECK_EQ(sql_step_add_row(&st, good, 0), -EPROTO);
	CHECK_EQ(st.nrows, 0);
	step_free(&st);
}

int main(void)
{
	RUN(test_rows);
	RUN(test_malformed_rows);
	return TEST_SUMMARY();
}
