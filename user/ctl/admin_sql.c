/* admin_sql.c — parsing the admin port's statements (see admin_sql.h). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "ctl/admin_sql.h"
#include "core/pool.h"

const char *const admin_help[][2] = {
	{ "SHOW BACKENDS", "every backend: pool, address, weight, state, health, sessions" },
	{ "SHOW TUNNELS", "every session: ids, user, client, backend, mode, counters" },
	{ "SHOW [FULL] PROCESSLIST", "every session, shaped like MySQL's processlist" },
	{ "SHOW STATS", "counters as name/value rows" },
	{ "ADD BACKEND 'host:port' TO POOL p [WEIGHT n]", "add a backend at run time" },
	{ "REMOVE BACKEND 'host:port' [FROM POOL p]", "no new sessions; current ones finish" },
	{ "SET BACKEND 'host:port' [IN POOL p] [STATE online|draining|offline] [WEIGHT n]",
	  "change a backend's state or weight" },
	{ "KILL [CONNECTION|QUERY] id", "close a session, or end only its running statement" },
	{ "MIGRATE id [TO 'host:port']", "move a session to another backend between two commands" },
	{ "RELOAD CONFIG", "re-read the configuration file (as SIGHUP)" },
	{ "SHOW HELP", "this list" },
	{ NULL, NULL },
};

enum tok_kind { T_END = 0, T_WORD, T_STRING, T_NUMBER, T_SEMI, T_OTHER };

struct lexer {
	const char *q;
	size_t len, pos;
	/* the current token */
	enum tok_kind kind;
	size_t start;
	char text[CFG_ADDR_MAX];
	int too_long;
};

static void skip_blank(struct lexer *lx)
{
	while (lx->pos < lx->len) {
		char c = lx->q[lx->pos];
		if (isspace((unsigned char)c)) {
			lx->pos++;
		} else if (c == '/' && lx->pos + 1 < lx->len && lx->q[lx->pos + 1] == '*') {
			const char *end = NULL;
			for (size_t i = lx->pos + 2; i + 1 < lx->len; i++)
				if (lx->q[i] == '*' && lx->q[i + 1] == '/') {
					end = lx->q + i + 2;
					break;
				}
			lx->pos = end ? (size_t)(end - lx->q) : lx->len;
		} else if (c == '#' || (c == '-' && lx->pos + 2 < lx->len && lx->q[lx->pos + 1] == '-' &&
					isspace((unsigned char)lx->q[lx->pos + 2]))) {
			while (lx->pos < lx->len && lx->q[lx->pos] != '\n')
				lx->pos++;
		} else {
			return;
		}
	}
}

static void put_char(struct lexer *lx, size_t *n, char c)
{
	if (*n + 1 < sizeof(lx->text))
		lx->text[(*n)++] = c;
	else
		lx->too_long = 1;
}

/* Reads the next token into lx. */
static void next(struct lexer *lx)
{
	size_t n = 0;

	skip_blank(lx);
	lx->start = lx->pos;
	lx->too_long = 0;
	lx->text[0] = '\0';
	if (lx->pos >= lx->len) {
		lx->kind = T_END;
		return;
	}
	char c = lx->q[lx->pos];
	if (c == '\'' || c == '"' || c == '`') {
		char quote = c;
		lx->pos++;
		lx->kind = T_OTHER;                 /* unterminated until proven otherwise */
		while (lx->pos < lx->len) {
			char d = lx->q[lx->pos++];
			if (d == '\\' && quote != '`' && lx->pos < lx->len) {
				put_char(lx, &n, lx->q[lx->pos++]);
			} else if (d == quote) {
				if (lx->pos < lx->len && lx->q[lx->pos] == quote) {
					put_char(lx, &n, quote);   /* '' inside '...' */
					lx->pos++;
					continue;
				}
				lx->kind = quote == '`' ? T_WORD : T_STRING;
				break;
			} else {
				put_char(lx, &n, d);
			}
		}
	} else if (isdigit((unsigned char)c)) {
		while (lx->pos < lx->len && isalnum((unsigned char)lx->q[lx->pos]))
			put_char(lx, &n, lx->q[lx->pos++]);
		lx->kind = T_NUMBER;
		for (size_t i = 0; i < n; i++)
			if (!isdigit((unsigned char)lx->text[i]))
				lx->kind = T_WORD;      /* 3abc: a name, not a number */
	} else if (isalpha((unsigned char)c) || c == '_' || c == '@') {
		while (lx->pos < lx->len && (isalnum((unsigned char)lx->q[lx->pos]) ||
					     lx->q[lx->pos] == '_' || lx->q[lx->pos] == '@' ||
					     lx->q[lx->pos] == '.' || lx->q[lx->pos] == '-'))
			put_char(lx, &n, lx->q[lx->pos++]);
		lx->kind = T_WORD;
	} else if (c == ';') {
		lx->pos++;
		lx->kind = T_SEMI;
	} else {
		lx->pos++;
		put_char(lx, &n, c);
		lx->kind = T_OTHER;
	}
	lx->text[n] = '\0';
}

/* The error text: what was expected, and where. */
static int syntax(struct lexer *lx, char *err, size_t errsz, const char *expected)
{
	size_t left = lx->len - lx->start;
	if (lx->kind == T_END)
		snprintf(err, errsz, "You have an error in your admin statement at its end: "
			 "expected %s (SHOW HELP lists the statements)", expected);
	else
		snprintf(err, errsz, "You have an error in your admin statement near '%.*s': "
			 "expected %s (SHOW HELP lists the statements)",
			 (int)(left < 40 ? left : 40), lx->q + lx->start, expected);
	return -1;
}

static int is_kw(const struct lexer *lx, const char *kw)
{
	return lx->kind == T_WORD && strcasecmp(lx->text, kw) == 0;
}

/* Consumes keyword kw or fails. */
static int expect_kw(struct lexer *lx, const char *kw, char *err, size_t errsz)
{
	char what[40];

	if (!is_kw(lx, kw)) {
		snprintf(what, sizeof(what), "%s", kw);
		return syntax(lx, err, errsz, what);
	}
	next(lx);
	return 0;
}

static int take_addr(struct lexer *lx, struct admin_stmt *st, char *err, size_t errsz)
{
	if (lx->kind != T_STRING || lx->too_long || !lx->text[0])
		return syntax(lx, err, errsz, "a quoted backend address such as '127.0.0.1:3306'");
	snprintf(st->addr, sizeof(st->addr), "%s", lx->text);
	next(lx);
	return 0;
}

static int take_pool(struct lexer *lx, struct admin_stmt *st, char *err, size_t errsz)
{
	if ((lx->kind != T_WORD && lx->kind != T_STRING) || !lx->text[0] ||
	    strlen(lx->text) >= sizeof(st->pool))
		return syntax(lx, err, errsz, "a pool name");
	snprintf(st->pool, sizeof(st->pool), "%s", lx->text);
	next(lx);
	return 0;
}

static int take_number(struct lexer *lx, unsigned long long min, unsigned long long max,
		       unsigned long long *out, const char *what, char *err, size_t errsz)
{
	char *end;

	if (lx->kind != T_NUMBER || lx->too_long)
		return syntax(lx, err, errsz, what);
	errno = 0;
	*out = strtoull(lx->text, &end, 10);
	if (errno || *end || *out < min || *out > max)
		return syntax(lx, err, errsz, what);
	next(lx);
	return 0;
}

static int take_weight(struct lexer *lx, struct admin_stmt *st, char *err, size_t errsz)
{
	unsigned long long w;

	if (lx->kind == T_OTHER && lx->text[0] == '=')
		next(lx);
	if (take_number(lx, 1, 1000, &w, "a weight from 1 to 1000", err, errsz) < 0)
		return -1;
	st->weight = (unsigned)w;
	return 0;
}

static int take_state(struct lexer *lx, struct admin_stmt *st, char *err, size_t errsz)
{
	enum backend_state s;

	if ((lx->kind != T_WORD && lx->kind != T_STRING) || backend_state_parse(lx->text, &s) < 0)
		return syntax(lx, err, errsz, "online, draining or offline");
	st->state = (int)s;
	next(lx);
	return 0;
}

static int parse_show(struct lexer *lx, struct admin_stmt *st, char *err, size_t errsz)
{
	if (is_kw(lx, "BACKENDS"))
		st->verb = ADM_SHOW_BACKENDS;
	else if (is_kw(lx, "TUNNELS"))
		st->verb = ADM_SHOW_TUNNELS;
	else if (is_kw(lx, "STATS"))
		st->verb = ADM_SHOW_STATS;
	else if (is_kw(lx, "HELP"))
		st->verb = ADM_SHOW_HELP;
	else if (is_kw(lx, "PROCESSLIST"))
		st->verb = ADM_SHOW_PROCESSLIST;
	else if (is_kw(lx, "FULL")) {
		next(lx);
		if (!is_kw(lx, "PROCESSLIST"))
			return syntax(lx, err, errsz, "PROCESSLIST");
		st->verb = ADM_SHOW_PROCESSLIST;
	} else
		return syntax(lx, err, errsz, "BACKENDS, TUNNELS, [FULL] PROCESSLIST, STATS or HELP");
	next(lx);
	return 0;
}

static int parse_set(struct lexer *lx, struct admin_stmt *st, char *err, size_t errsz)
{
	int any = 0;

	if (expect_kw(lx, "BACKEND", err, errsz) < 0 || take_addr(lx, st, err, errsz) < 0)
		return -1;
	if (is_kw(lx, "IN")) {
		next(lx);
		if (expect_kw(lx, "POOL", err, errsz) < 0 || take_pool(lx, st, err, errsz) < 0)
			return -1;
	}
	for (;;) {
		if (is_kw(lx, "STATE") && st->state < 0) {
			next(lx);
			if (lx->kind == T_OTHER && lx->text[0] == '=')
				next(lx);
			if (take_state(lx, st, err, errsz) < 0)
				return -1;
		} else if (is_kw(lx, "WEIGHT") && !st->weight) {
			next(lx);
			if (take_weight(lx, st, err, errsz) < 0)
				return -1;
		} else {
			break;
		}
		any = 1;
	}
	if (!any)
		return syntax(lx, err, errsz, "STATE online|draining|offline or WEIGHT n");
	st->verb = ADM_SET_BACKEND;
	return 0;
}

static int parse_kill(struct lexer *lx, struct admin_stmt *st, char *err, size_t errsz)
{
	unsigned long long id;

	if (is_kw(lx, "QUERY")) {
		st->query_only = 1;
		next(lx);
	} else if (is_kw(lx, "CONNECTION")) {
		next(lx);
	}
	if (take_number(lx, 1, UINT32_MAX, &id, "a session id", err, errsz) < 0)
		return -1;
	st->id = (uint32_t)id;
	st->verb = ADM_KILL;
	return 0;
}

/* MIGRATE id [TO [BACKEND] 'host:port'] (after MIGRATE). */
static int parse_migrate(struct lexer *lx, struct admin_stmt *st, char *err, size_t errsz)
{
	unsigned long long id;

	if (take_number(lx, 1, UINT32_MAX, &id, "a session id", err, errsz) < 0)
		return -1;
	st->id = (uint32_t)id;
	if (is_kw(lx, "TO")) {
		next(lx);
		if (is_kw(lx, "BACKEND"))
			next(lx);
		if (take_addr(lx, st, err, errsz) < 0)
			return -1;
	}
	st->verb = ADM_MIGRATE;
	return 0;
}

int admin_parse(const char *q, size_t len, struct admin_stmt *st, char *err, size_t errsz)
{
	struct lexer lx = { .q = q, .len = len };
	int rc = 0;

	memset(st, 0, sizeof(*st));
	st->state = -1;
	next(&lx);
	if (is_kw(&lx, "SHOW")) {
		next(&lx);
		rc = parse_show(&lx, st, err, errsz);
	} else if (is_kw(&lx, "HELP")) {
		next(&lx);
		st->verb = ADM_SHOW_HELP;
	} else if (is_kw(&lx, "ADD")) {
		next(&lx);
		rc = expect_kw(&lx, "BACKEND", err, errsz);
		if (!rc)
			rc = take_addr(&lx, st, err, errsz);
		if (!rc)
			rc = expect_kw(&lx, "TO", err, errsz);
		if (!rc)
			rc = expect_kw(&lx, "POOL", err, errsz);
		if (!rc)
			rc = take_pool(&lx, st, err, errsz);
		if (!rc && is_kw(&lx, "WEIGHT")) {
			next(&lx);
			rc = take_weight(&lx, st, err, errsz);
		}
		st->verb = ADM_ADD_BACKEND;
	} else if (is_kw(&lx, "REMOVE") || is_kw(&lx, "DROP")) {
		next(&lx);
		rc = expect_kw(&lx, "BACKEND", err, errsz);
		if (!rc)
			rc = take_addr(&lx, st, err, errsz);
		if (!rc && is_kw(&lx, "FROM")) {
			next(&lx);
			rc = expect_kw(&lx, "POOL", err, errsz);
			if (!rc)
				rc = take_pool(&lx, st, err, errsz);
		}
		st->verb = ADM_REMOVE_BACKEND;
	} else if (is_kw(&lx, "SET")) {
		next(&lx);
		rc = parse_set(&lx, st, err, errsz);
	} else if (is_kw(&lx, "KILL")) {
		next(&lx);
		rc = parse_kill(&lx, st, err, errsz);
	} else if (is_kw(&lx, "MIGRATE")) {
		next(&lx);
		rc = parse_migrate(&lx, st, err, errsz);
	} else if (is_kw(&lx, "RELOAD")) {
		next(&lx);
		rc = expect_kw(&lx, "CONFIG", err, errsz);
		st->verb = ADM_RELOAD;
	} else if (is_kw(&lx, "SELECT")) {
		next(&lx);
		if (!is_kw(&lx, "@@version_comment"))
			return syntax(&lx, err, errsz, "a statement of the admin port (only SELECT "
				      "@@version_comment is understood)");
		next(&lx);
		if (is_kw(&lx, "LIMIT")) {
			unsigned long long n;
			next(&lx);
			rc = take_number(&lx, 0, UINT32_MAX, &n, "a number", err, errsz);
		}
		st->verb = ADM_VERSION_COMMENT;
	} else {
		return syntax(&lx, err, errsz, "SHOW, ADD, REMOVE, SET, KILL, MIGRATE or RELOAD");
	}
	if (rc < 0)
		return rc;
	if (lx.kind == T_SEMI)
		next(&lx);
	if (lx.kind != T_END)
		return syntax(&lx, err, errsz, "the end of the statement");
	return 0;
}
