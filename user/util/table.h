/* table.h — a typed result table: what every control command returns.
 *
 * The command layer (control.c) builds tables; the admin port renders
 * them as MySQL result sets with typed columns, the HTTP API as JSON
 * arrays of objects, so the three ways in show the same data. */
#ifndef SHUNT_TABLE_H
#define SHUNT_TABLE_H

#include <stddef.h>
#include <stdint.h>

enum col_type { COL_INT = 0, COL_STR, COL_BOOL };

struct table_col {
	const char *name;
	enum col_type type;
};

struct table_cell {
	int is_null;
	int64_t i;                 /* COL_INT, COL_BOOL */
	char *s;                   /* COL_STR (owned) */
};

struct table {
	const struct table_col *cols;   /* static description */
	size_t ncols;
	size_t nrows, cap;
	struct table_cell *cells;       /* nrows * ncols, row-major */
	int oom;                        /* an allocation failed: render as an error */
};

/* A new empty table with the given columns (cols must outlive it). */
struct table *table_new(const struct table_col *cols, size_t ncols);
void table_free(struct table *t);
/* Appends a row of NULLs; returns its index (or -1 and sets oom). */
long table_add_row(struct table *t);
void table_set_int(struct table *t, long row, size_t col, int64_t v);
void table_set_bool(struct table *t, long row, size_t col, int v);
/* Copies s; NULL makes the cell NULL. */
void table_set_str(struct table *t, long row, size_t col, const char *s);
const struct table_cell *table_cell(const struct table *t, size_t row, size_t col);
/* The cell as text (MySQL text protocol): into buf; NULL for a NULL cell. */
const char *table_cell_text(const struct table *t, size_t row, size_t col, char *buf, size_t n);

#endif
