/* sql_batch.h — the batches shunt's own SQL client sends (sqlconn.c) and
 * the answers it keeps: steps, their errors, and text result sets as rows
 * of strings. Rows come from a server: untrusted bytes. */
#ifndef SHUNT_SQL_BATCH_H
#define SHUNT_SQL_BATCH_H

#include <stddef.h>
#include <stdint.h>

/* One step of a batch, and its answer. */
struct sql_step {
	uint8_t cmd;                /* COM_QUERY, COM_INIT_DB, COM_STMT_PREPARE, COM_STMT_CLOSE */
	char *text;                 /* SQL or schema (owned: freed by sql_steps_free) */
	size_t text_len;
	uint32_t stmt_id;           /* COM_STMT_CLOSE: the statement; PREPARE: its new id */
	/* answer */
	int answered;
	uint16_t err_code;          /* 0: OK or a result set */
	char err_state[6];          /* its SQLSTATE */
	char err_msg[192];
	uint16_t nparams;           /* PREPARE */
	size_t ncols, nrows;        /* result set (text rows) */
	char **cells;               /* nrows * ncols, NULL for SQL NULL (malloc'd) */
	size_t *cell_len;
};

struct sql_batch {
	struct sql_step *steps;
	size_t n, cap;
	int oom;
};

/* Appends a step (text copied). Returns the step, or NULL (batch->oom set). */
struct sql_step *sql_batch_add(struct sql_batch *b, uint8_t cmd, const char *text, size_t len);
/* printf into a new COM_QUERY step. */
struct sql_step *sql_batch_addf(struct sql_batch *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void sql_batch_free(struct sql_batch *b);
/* Appends one text-protocol row packet (p, len: untrusted, from a server)
 * to st's result of st->ncols columns. 0; -EPROTO for a malformed row (a
 * cell that runs past the packet, bytes after the last one, or a result
 * of no columns), which leaves the result as it was; -ENOMEM. */
int sql_step_add_row(struct sql_step *st, const uint8_t *p, size_t len);
/* Frees a step's result rows; the step keeps its columns count. */
void sql_step_free_rows(struct sql_step *st);
/* Cell (row, col) of a step's result, or NULL. */
const char *sql_cell(const struct sql_step *st, size_t row, size_t col);

#endif
