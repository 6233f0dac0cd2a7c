/* mig_state.c — reading and replaying a session's state (mig_state.h). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "util/log.h"
#include "migrate/mig_state.h"
#include "mysql_defs.h"

/* Re-preparing statements under their old ids fills the gaps with
 * throw-away statements; more than this many is refused. */
#define MIG_MAX_FILLERS 4096

enum capture_step {
	CAP_SCHEMA = 0,         /* HEX(DATABASE()), LAST_INSERT_ID() */
	CAP_USER_VARS,          /* name, type, charset, HEX(value), too long */
	CAP_COUNTERS,           /* SHOW SESSION STATUS of a few Com_ counters */
	CAP_USER_LOCKS,         /* COUNT(*) of user locks */
	CAP__COUNT
};

static const char *const capture_sql[CAP__COUNT] = {
	[CAP_SCHEMA] = "SELECT HEX(DATABASE()), LAST_INSERT_ID()",
	[CAP_USER_VARS] =
		"SELECT VARIABLE_NAME, VARIABLE_TYPE, CHARACTER_SET_NAME, HEX(VARIABLE_VALUE), "
		"CHAR_LENGTH(VARIABLE_VALUE) >= 2048 FROM information_schema.USER_VARIABLES",
	[CAP_COUNTERS] =
		"SHOW SESSION STATUS WHERE Variable_name IN ('Com_create_temporary_table',"
		"'Com_drop_temporary_table','Com_lock_tables','Com_unlock_tables','Com_xa_start',"
		"'Com_xa_commit','Com_xa_rollback','Com_set_option')",
	[CAP_USER_LOCKS] =
		"SELECT COUNT(*) FROM information_schema.METADATA_LOCK_INFO "
		"WHERE THREAD_ID = CONNECTION_ID() AND LOCK_TYPE = 'User lock'",
};

/* Every session variable a session can set (about 15 ms on MariaDB 10.11:
 * read only when the session ran a SET, and from the new backend while
 * the migration waits for its safe point). */
static const char vars_sql[] =
	"SELECT VARIABLE_NAME, HEX(SESSION_VALUE) FROM information_schema.SYSTEM_VARIABLES "
	"WHERE VARIABLE_SCOPE IN ('SESSION','SESSION ONLY') AND READ_ONLY = 'NO'";

/* Session variables that are not the session's settings but its
 * diagnostics or bookkeeping (or are carried another way). */
static const char *const skip_vars[] = {
	"IN_TRANSACTION", "WARNING_COUNT", "ERROR_COUNT", "LAST_GTID", "RAND_SEED1",
	"RAND_SEED2", "TIMESTAMP", "IDENTITY", "INSERT_ID", "LAST_INSERT_ID",
	"PSEUDO_THREAD_ID", "GTID_SEQ_NO", "THREAD_POOL_PRIORITY",
};

/* Replayed last, in this order: each of them resets the next ones. */
static const char *const charset_vars[] = {
	"CHARACTER_SET_CLIENT", "CHARACTER_SET_RESULTS", "CHARACTER_SET_CONNECTION",
	"COLLATION_CONNECTION",
};

int mig_state_build_capture(struct sql_batch *b)
{
	for (int i = 0; i < CAP__COUNT; i++)
		if (!sql_batch_add(b, COM_QUERY, capture_sql[i], strlen(capture_sql[i])))
			return -1;
	return 0;
}

static int in_list(const char *name, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(name, list[i]) == 0)
			return 1;
	return 0;
}

/* Decodes a hex string into a NUL-terminated copy (NULL on error). */
static char *unhex(const char *hex, size_t *out_len)
{
	size_t n = strlen(hex);
	char *out;

	if (n % 2)
		return NULL;
	out = malloc(n / 2 + 1);
	if (!out)
		return NULL;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1) {
			free(out);
			return NULL;
		}
		out[i] = (char)v;
	}
	out[n / 2] = '\0';
	if (out_len)
		*out_len = n / 2;
	return out;
}

/* Whether s is a plain decimal number (a numeric variable's value). */
static int is_number(const char *s)
{
	const char *p = s;

	if (*p == '-')
		p++;
	if (!isdigit((unsigned char)*p))
		return 0;
	while (isdigit((unsigned char)*p))
		p++;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return 0;
		while (isdigit((unsigned char)*p))
			p++;
	}
	return *p == '\0';
}

/* An identifier fit to put between backquotes (no backquote, no NUL). */
static int plain_name(const char *s)
{
	return s && *s && !strchr(s, '`') && strlen(s) < 256;
}

static long long counter(const struct sql_step *st, const char *name)
{
	for (size_t r = 0; r < st->nrows; r++) {
		const char *k = sql_cell(st, r, 0), *v = sql_cell(st, r, 1);
		if (k && v && strcasecmp(k, name) == 0)
			return atoll(v);
	}
	return 0;
}

int mig_state_read(struct mig_state_plan *plan, const struct sql_batch *b, char *why, size_t n)
{
	if (b->n != CAP__COUNT) {
		snprintf(why, n, "incomplete answers");
		return -1;
	}
	const struct sql_step *st = b->steps;
	for (int i = 0; i < CAP__COUNT; i++) {
		if (st[i].err_code && i != CAP_USER_LOCKS && i != CAP_USER_VARS) {
			snprintf(why, n, "reading the session: %u %s", st[i].err_code, st[i].err_msg);
			return -1;
		}
	}
	/* What cannot move. */
	const struct sql_step *c = &st[CAP_COUNTERS];
	if (counter(c, "Com_create_temporary_table") > counter(c, "Com_drop_temporary_table")) {
		snprintf(why, n, "temporary-table");
		return 1;
	}
	if (counter(c, "Com_lock_tables") > counter(c, "Com_unlock_tables")) {
		snprintf(why, n, "lock-tables");
		return 1;
	}
	if (counter(c, "Com_xa_start") > counter(c, "Com_xa_commit") + counter(c, "Com_xa_rollback")) {
		snprintf(why, n, "xa-transaction");
		return 1;
	}
	const struct sql_step *ul = &st[CAP_USER_LOCKS];
	if (!ul->err_code && sql_cell(ul, 0, 0) && atoll(sql_cell(ul, 0, 0)) > 0) {
		snprintf(why, n, "user-lock");
		return 1;
	}
	if (ul->err_code) {
		static int warned;
		if (!__atomic_exchange_n(&warned, 1, __ATOMIC_RELAXED))
			pr_warn("migration: the backend cannot list user locks (%u %s): GET_LOCK() "
				"locks are not seen; INSTALL SONAME 'metadata_lock_info' to see them",
				ul->err_code, ul->err_msg);
	}
	const struct sql_step *uv = &st[CAP_USER_VARS];
	if (uv->err_code) {
		snprintf(why, n, "user-variables");
		return 1;
	}

	/* The schema and LAST_INSERT_ID(). */
	const char *db = sql_cell(&st[CAP_SCHEMA], 0, 0);
	plan->db_hex = db ? strdup(db) : NULL;
	const char *lid = sql_cell(&st[CAP_SCHEMA], 0, 1);
	int has_lid = lid && strcmp(lid, "0") != 0 && is_number(lid);
	plan->last_insert_id = has_lid ? strdup(lid) : NULL;
	if ((db && !plan->db_hex) || (has_lid && !plan->last_insert_id)) {
		snprintf(why, n, "out of memory");
		return -1;
	}

	/* Session variables: read only if the session ever ran a SET. */
	plan->need_vars = counter(c, "Com_set_option") > 0;

	/* User variables. */
	plan->uvars = calloc(uv->nrows ? uv->nrows : 1, sizeof(*plan->uvars));
	if (!plan->uvars) {
		snprintf(why, n, "out of memory");
		return -1;
	}
	for (size_t r = 0; r < uv->nrows; r++) {
		const char *name = sql_cell(uv, r, 0), *type = sql_cell(uv, r, 1);
		const char *cs = sql_cell(uv, r, 2), *hex = sql_cell(uv, r, 3);
		const char *too_long = sql_cell(uv, r, 4);
		if (!plain_name(name) || !type || (too_long && strcmp(too_long, "1") == 0) ||
		    (cs && !plain_name(cs))) {
			snprintf(why, n, "user-variables");
			return 1;
		}
		struct mig_uvar *u = &plan->uvars[plan->n_uvars++];
		u->name = strdup(name);
		u->type = strdup(type);
		u->charset = cs ? strdup(cs) : NULL;
		u->hex = hex ? strdup(hex) : NULL;
		if (!u->name || !u->type || (cs && !u->charset) || (hex && !u->hex)) {
			snprintf(why, n, "out of memory");
			return -1;
		}
	}
	return 0;
}

int mig_state_build_vars(struct sql_batch *b)
{
	return sql_batch_add(b, COM_QUERY, vars_sql, sizeof(vars_sql) - 1) ? 0 : -1;
}

/* The value of name in a variables answer, or NULL. */
static const char *var_value(const struct sql_step *st, const char *name)
{
	for (size_t r = 0; r < st->nrows; r++) {
		const char *k = sql_cell(st, r, 0);
		if (k && strcmp(k, name) == 0)
			return sql_cell(st, r, 1);
	}
	return NULL;
}

int mig_state_diff_vars(struct mig_state_plan *plan, const struct sql_batch *old_vars,
			const struct sql_batch *new_vars, char *why, size_t n)
{
	if (old_vars->n != 1 || new_vars->n < 1 || old_vars->steps[0].err_code ||
	    new_vars->steps[0].err_code) {
		snprintf(why, n, "cannot read the session variables: %s",
			 old_vars->n && old_vars->steps[0].err_code ? old_vars->steps[0].err_msg
			 : new_vars->n ? new_vars->steps[0].err_msg : "no answer");
		return -1;
	}
	const struct sql_step *ov = &old_vars->steps[0], *nv = &new_vars->steps[0];
	plan->vars = calloc(ov->nrows ? ov->nrows : 1, sizeof(*plan->vars));
	if (!plan->vars) {
		snprintf(why, n, "out of memory");
		return -1;
	}
	for (size_t r = 0; r < ov->nrows; r++) {
		const char *name = sql_cell(ov, r, 0), *hex = sql_cell(ov, r, 1);
		if (!plain_name(name) || in_list(name, skip_vars, sizeof(skip_vars) / sizeof(skip_vars[0])))
			continue;
		const char *now = var_value(nv, name);
		if ((!hex && !now) || (hex && now && strcmp(hex, now) == 0))
			continue;           /* the new session has it already */
		if (!hex)
			continue;           /* NULL: nothing to set it to */
		char *val = unhex(hex, NULL);
		if (!val) {
			snprintf(why, n, "bad value of %s", name);
			return -1;
		}
		struct mig_var *mv = &plan->vars[plan->n_vars++];
		mv->numeric = is_number(val);
		mv->name = strdup(name);
		mv->hex = strdup(hex);
		free(val);
		if (!mv->name || !mv->hex) {
			snprintf(why, n, "out of memory");
			return -1;
		}
	}
	return 0;
}

/* The SQL expression of a session variable's value. */
static void add_var(struct sql_batch *b, const struct mig_var *v)
{
	if (v->numeric) {
		char *val = unhex(v->hex, NULL);
		if (!val) {
			b->oom = 1;
			return;
		}
		sql_batch_addf(b, "SET SESSION `%s` = %s", v->name, val);
		free(val);
	} else {
		sql_batch_addf(b, "SET SESSION `%s` = CONVERT(X'%s' USING utf8mb4)", v->name, v->hex);
	}
}

/* A user variable, typed as it was. */
static void add_uvar(struct sql_batch *b, const struct mig_uvar *u)
{
	if (!u->hex) {
		sql_batch_addf(b, "SET @`%s` = NULL", u->name);
		return;
	}
	char *val = unhex(u->hex, NULL);
	if (!val) {
		b->oom = 1;
		return;
	}
	if (strcasecmp(u->type, "INT") == 0 && is_number(val))
		sql_batch_addf(b, "SET @`%s` = %s", u->name, val);
	else if (strcasecmp(u->type, "DECIMAL") == 0 && is_number(val))
		sql_batch_addf(b, "SET @`%s` = %s", u->name, val);
	else if (strcasecmp(u->type, "DOUBLE") == 0 || strcasecmp(u->type, "REAL") == 0)
		sql_batch_addf(b, "SET @`%s` = CAST(CONVERT(X'%s' USING utf8mb4) AS DOUBLE)", u->name, u->hex);
	else if (u->charset && strcasecmp(u->charset, "binary") != 0)
		sql_batch_addf(b, "SET @`%s` = CONVERT(CONVERT(X'%s' USING utf8mb4) USING `%s`)", u->name,
			       u->hex, u->charset);
	else
		sql_batch_addf(b, "SET @`%s` = BINARY CONVERT(X'%s' USING utf8mb4)", u->name, u->hex);
	free(val);
}

static int by_id(const void *a, const void *b)
{
	const struct stmt *x = *(const struct stmt *const *)a, *y = *(const struct stmt *const *)b;
	return x->id < y->id ? -1 : x->id > y->id;
}

int mig_state_build_replay(struct mig_state_plan *plan, const struct stmt_table *stmts,
			   struct sql_batch *b, char *why, size_t n)
{
	if (plan->db_hex) {
		size_t len;
		char *db = unhex(plan->db_hex, &len);
		if (!db || !sql_batch_add(b, COM_INIT_DB, db, len)) {
			free(db);
			snprintf(why, n, "out of memory");
			return -1;
		}
		free(db);
	}
	for (size_t i = 0; i < plan->n_vars; i++)
		if (!in_list(plan->vars[i].name, charset_vars, 4))
			add_var(b, &plan->vars[i]);
	for (size_t k = 0; k < 4; k++)
		for (size_t i = 0; i < plan->n_vars; i++)
			if (strcasecmp(plan->vars[i].name, charset_vars[k]) == 0)
				add_var(b, &plan->vars[i]);
	if (plan->last_insert_id)
		sql_batch_addf(b, "SELECT LAST_INSERT_ID(%s)", plan->last_insert_id);
	for (size_t i = 0; i < plan->n_uvars; i++)
		add_uvar(b, &plan->uvars[i]);

	/* Statements under their old ids if the new server thread numbers
	 * from 1: gaps get fillers (closed after, by the ids they really
	 * got). Whatever ids come back, the last one prepared is at least
	 * the highest client id, so ids the backend hands out later never
	 * meet one the client already uses (statements that came back
	 * under another id are translated: stmt_xlate.h). */
	size_t ns = stmts ? stmts->n : 0;
	if (ns) {
		const struct stmt **order = malloc(ns * sizeof(*order));
		plan->prep_step = calloc(ns, sizeof(*plan->prep_step));
		plan->prep_id = calloc(ns, sizeof(*plan->prep_id));
		plan->prep_params = calloc(ns, sizeof(*plan->prep_params));
		plan->got_id = calloc(ns, sizeof(*plan->got_id));
		if (!order || !plan->prep_step || !plan->prep_id || !plan->prep_params || !plan->got_id) {
			free(order);
			snprintf(why, n, "out of memory");
			return -1;
		}
		for (size_t i = 0; i < ns; i++)
			order[i] = &stmts->v[i];
		qsort(order, ns, sizeof(*order), by_id);
		uint32_t next = 1;      /* a fresh server thread's first id */
		if (order[0]->id < next) {
			snprintf(why, n, "statement-ids: statement %u cannot be re-created", order[0]->id);
			free(order);
			return -1;
		}
		uint64_t fillers = order[ns - 1]->id - next + 1 - ns;
		if (fillers > MIG_MAX_FILLERS) {
			free(order);
			snprintf(why, n, "statement ids too far apart to re-create (%llu gaps)",
				 (unsigned long long)fillers);
			return -1;
		}
		plan->filler_step = fillers ? calloc(fillers, sizeof(*plan->filler_step)) : NULL;
		if (fillers && !plan->filler_step) {
			free(order);
			snprintf(why, n, "out of memory");
			return -1;
		}
		for (size_t i = 0; i < ns; i++) {
			for (; next < order[i]->id; next++) {
				plan->filler_step[plan->n_fillers++] = b->n;
				sql_batch_add(b, COM_STMT_PREPARE, "SELECT 1", 8);
			}
			plan->prep_step[i] = b->n;
			plan->prep_id[i] = order[i]->id;
			plan->prep_params[i] = order[i]->nparams;
			sql_batch_add(b, COM_STMT_PREPARE, order[i]->sql, order[i]->sql_len);
			next++;
		}
		plan->max_client_id = order[ns - 1]->id;
		free(order);
		plan->n_stmts = ns;
	}
	/* Something must be answered (sqlconn_run). */
	if (b->n == 0 || b->steps[b->n - 1].cmd == COM_STMT_CLOSE)
		sql_batch_addf(b, "DO 0");
	if (b->oom) {
		snprintf(why, n, "out of memory");
		return -1;
	}
	return 0;
}

int mig_state_check_replay(struct mig_state_plan *plan, const struct sql_batch *b,
			   char *why, size_t n)
{
	for (size_t i = 0; i < b->n; i++) {
		const struct sql_step *st = &b->steps[i];
		if (st->err_code) {
			snprintf(why, n, "%.80s: %u %s", st->cmd == COM_INIT_DB ? "USE" : st->text,
				 st->err_code, st->err_msg);
			return -1;
		}
	}
	uint32_t top = 0;
	for (size_t i = 0; i < plan->n_stmts; i++) {
		const struct sql_step *st = &b->steps[plan->prep_step[i]];
		if (st->nparams != plan->prep_params[i]) {
			snprintf(why, n, "statement %u came back with %u parameters (had %u)",
				 plan->prep_id[i], st->nparams, plan->prep_params[i]);
			return -1;
		}
		plan->got_id[i] = st->stmt_id;
		if (st->stmt_id > top)
			top = st->stmt_id;
		if (st->stmt_id != plan->prep_id[i])
			plan->n_translated++;
	}
	for (size_t i = 0; i < plan->n_fillers; i++)
		if (b->steps[plan->filler_step[i]].stmt_id > top)
			top = b->steps[plan->filler_step[i]].stmt_id;
	/* The server numbers upwards: were it not so, a later prepare could
	 * hand the client an id it already uses for another statement. */
	if (plan->n_stmts && top < plan->max_client_id) {
		snprintf(why, n, "statement-ids: the new backend's ids end at %u, below the client's %u",
			 top, plan->max_client_id);
		return -1;
	}
	return 0;
}

int mig_state_build_closes(const struct mig_state_plan *plan, const struct sql_batch *replay,
			   struct sql_batch *b)
{
	for (size_t i = 0; i < plan->n_fillers; i++) {
		struct sql_step *cl = sql_batch_add(b, COM_STMT_CLOSE, "", 0);
		if (cl)
			cl->stmt_id = replay->steps[plan->filler_step[i]].stmt_id;
	}
	sql_batch_addf(b, "DO 0");      /* something must be answered */
	return b->oom ? -1 : 0;
}

void mig_state_plan_free(struct mig_state_plan *plan)
{
	for (size_t i = 0; i < plan->n_vars; i++) {
		free(plan->vars[i].name);
		free(plan->vars[i].hex);
	}
	for (size_t i = 0; i < plan->n_uvars; i++) {
		free(plan->uvars[i].name);
		free(plan->uvars[i].type);
		free(plan->uvars[i].charset);
		free(plan->uvars[i].hex);
	}
	free(plan->vars);
	free(plan->uvars);
	free(plan->db_hex);
	free(plan->last_insert_id);
	free(plan->prep_step);
	free(plan->prep_id);
	free(plan->prep_params);
	free(plan->got_id);
	free(plan->filler_step);
	memset(plan, 0, sizeof(*plan));
}

const char *mig_state_busy_reason(const struct mt_conv *c)
{
	struct mt_conv conv = *c;

	if (conv.status & SERVER_STATUS_IN_TRANS)
		return "in a transaction";
	if (!mt_idle(&conv))
		return "a response is still running";
	if (conv.mflags & (MT_M_CURSOR | MT_M_CURSORS))
		return "a cursor is open";
	if (conv.mflags & MT_M_LONG_DATA)
		return "long data is pending";
	if (conv.unexpected || (conv.flags & MT_F_OPAQUE))
		return "the conversation tracker lost its way";
	return "the client sent no command";
}
