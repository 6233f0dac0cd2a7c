/* sql_batch.c — batches of steps for shunt's own SQL client, and the
 * answers kept for them (sql_batch.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mysql_defs.h"
#include "mysql/proto.h"
#include "mysql/sql_batch.h"

/* ---- batches ---------------------------------------------------------------- */

struct sql_step *sql_batch_add(struct sql_batch *b, uint8_t cmd, const char *text, size_t len)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 16;
		struct sql_step *grown = realloc(b->steps, cap * sizeof(*grown));
		if (!grown) {
			b->oom = 1;
			return NULL;
		}
		b->steps = grown;
		b->cap = cap;
	}
	struct sql_step *st = &b->steps[b->n];
	memset(st, 0, sizeof(*st));
	st->cmd = cmd;
	st->text = malloc(len + 1);
	if (!st->text) {
		b->oom = 1;
		return NULL;
	}
	memcpy(st->text, text, len);
	st->text[len] = '\0';
	st->text_len = len;
	b->n++;
	return st;
}

struct sql_step *sql_batch_addf(struct sql_batch *b, const char *fmt, ...)
{
	va_list ap;
	char *q = NULL;

	va_start(ap, fmt);
	int n = vasprintf(&q, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = 1;
		return NULL;
	}
	struct sql_step *st = sql_batch_add(b, COM_QUERY, q, (size_t)n);
	free(q);
	return st;
}

/* Drops a step's result rows (see sql_batch.h). */
void sql_step_free_rows(struct sql_step *st)
{
	for (size_t i = 0; i < st->nrows * st->ncols; i++)
		free(st->cells[i]);
	free(st->cells);
	free(st->cell_len);
	st->cells = NULL;
	st->cell_len = NULL;
	st->nrows = 0;
}

void sql_batch_free(struct sql_batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		sql_step_free_rows(&b->steps[i]);
		free(b->steps[i].text);
	}
	free(b->steps);
	memset(b, 0, sizeof(*b));
}

const char *sql_cell(const struct sql_step *st, size_t row, size_t col)
{
	if (row >= st->nrows || col >= st->ncols)
		return NULL;
	return st->cells[row * st->ncols + col];
}

/* One text-protocol row packet appended to the step's result (see
 * sqlconn.h). The row's cells are set to NULL before any is parsed, so a
 * malformed row frees only what it allocated (it used to free the
 * uninitialised pointers behind the bad cell). */
int sql_step_add_row(struct sql_step *st, const uint8_t *p, size_t len)
{
	struct proto_cur cur;
	size_t base = st->nrows * st->ncols;

	if (st->ncols == 0)
		return -EPROTO;         /* (and realloc(p, 0) would free the cells) */
	char **cells = realloc(st->cells, (base + st->ncols) * sizeof(*cells));
	if (!cells)
		return -ENOMEM;
	st->cells = cells;
	size_t *lens = realloc(st->cell_len, (base + st->ncols) * sizeof(*lens));
	if (!lens)
		return -ENOMEM;
	st->cell_len = lens;
	for (size_t i = 0; i < st->ncols; i++) {
		cells[base + i] = NULL;
		lens[base + i] = 0;
	}
	proto_cur_init(&cur, p, len);
	for (size_t i = 0; i < st->ncols; i++) {
		uint64_t n;
		int is_null = 0;
		if (proto_get_lenenc(&cur, &n, &is_null) < 0)
			goto bad;
		if (is_null)
			continue;
		if (n > proto_cur_left(&cur))
			goto bad;
		cells[base + i] = malloc(n + 1);
		if (!cells[base + i])
			goto bad;
		memcpy(cells[base + i], cur.p + cur.off, n);
		cells[base + i][n] = '\0';
		lens[base + i] = n;
		cur.off += n;
	}
	if (proto_cur_left(&cur) != 0)
		goto bad;               /* bytes after the last cell */
	st->nrows++;
	return 0;
bad:
	for (size_t i = 0; i < st->ncols; i++) {
		free(cells[base + i]);
		cells[base + i] = NULL;
	}
	return -EPROTO;
}

