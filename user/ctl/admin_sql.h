/* admin_sql.h — the admin port's statements (grammar in docs/admin.md).
 *
 * A small hand-written tokenizer and recursive-descent parser: the
 * grammar is a dozen fixed statements, keywords are case-insensitive,
 * addresses are quoted strings, and anything else is a syntax error that
 * says what was expected. Pure functions, unit-tested. */
#ifndef SHUNT_ADMIN_SQL_H
#define SHUNT_ADMIN_SQL_H

#include <stddef.h>
#include <stdint.h>
#include "core/config.h"

enum admin_verb {
	ADM_SHOW_BACKENDS = 1,
	ADM_SHOW_TUNNELS,
	ADM_SHOW_PROCESSLIST,
	ADM_SHOW_STATS,
	ADM_SHOW_HELP,
	ADM_ADD_BACKEND,
	ADM_REMOVE_BACKEND,
	ADM_SET_BACKEND,
	ADM_KILL,
	ADM_RELOAD,
	ADM_VERSION_COMMENT,       /* SELECT @@version_comment (the mariadb client asks) */
	ADM_MIGRATE,
};

struct admin_stmt {
	enum admin_verb verb;
	char addr[CFG_ADDR_MAX];   /* MIGRATE: the target, "" when not given */
	char pool[CFG_NAME_MAX];   /* "" when not given */
	unsigned weight;           /* 0 when not given */
	int state;                 /* enum backend_state, -1 when not given */
	uint32_t id;               /* KILL, MIGRATE */
	int query_only;            /* KILL QUERY */
};

/* Parses one statement (an optional trailing ';' is allowed). Returns 0,
 * or -1 with a MySQL-style message in err ("You have an error in your
 * admin statement near '...': expected ..."). */
int admin_parse(const char *q, size_t len, struct admin_stmt *st, char *err, size_t errsz);

/* Rows of SHOW HELP: statement, what it does. NULL-terminated pairs. */
extern const char *const admin_help[][2];

#endif
