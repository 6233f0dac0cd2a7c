/* table.c — typed result tables (see table.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/table.h"

struct table *table_new(const struct table_col *cols, size_t ncols)
{
	struct table *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->cols = cols;
	t->ncols = ncols;
	return t;
}

void table_free(struct table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i].s);
	free(t->cells);
	free(t);
}

long table_add_row(struct table *t)
{
	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct table_cell *c = realloc(t->cells, cap * t->ncols * sizeof(*c));
		if (!c) {
			t->oom = 1;
			return -1;
		}
		t->cells = c;
		t->cap = cap;
	}
	struct table_cell *row = &t->cells[t->nrows * t->ncols];
	memset(row, 0, t->ncols * sizeof(*row));
	for (size_t i = 0; i < t->ncols; i++)
		row[i].is_null = 1;
	return (long)t->nrows++;
}

static struct table_cell *cell_at(struct table *t, long row, size_t col)
{
	if (row < 0 || (size_t)row >= t->nrows || col >= t->ncols)
		return NULL;
	return &t->cells[(size_t)row * t->ncols + col];
}

void table_set_int(struct table *t, long row, size_t col, int64_t v)
{
	struct table_cell *c = cell_at(t, row, col);
	if (c) {
		c->is_null = 0;
		c->i = v;
	}
}

void table_set_bool(struct table *t, long row, size_t col, int v)
{
	table_set_int(t, row, col, v ? 1 : 0);
}

void table_set_str(struct table *t, long row, size_t col, const char *s)
{
	struct table_cell *c = cell_at(t, row, col);
	if (!c)
		return;
	free(c->s);
	c->s = NULL;
	c->is_null = 1;
	if (!s)
		return;
	c->s = strdup(s);
	if (!c->s) {
		t->oom = 1;
		return;
	}
	c->is_null = 0;
}

const struct table_cell *table_cell(const struct table *t, size_t row, size_t col)
{
	return &t->cells[row * t->ncols + col];
}

const char *table_cell_text(const struct table *t, size_t row, size_t col, char *buf, size_t n)
{
	const struct table_cell *c = table_cell(t, row, col);

	if (c->is_null)
		return NULL;
	switch (t->cols[col].type) {
	case COL_STR:
		return c->s;
	default:
		snprintf(buf, n, "%" PRId64, c->i);
		return buf;
	}
}
