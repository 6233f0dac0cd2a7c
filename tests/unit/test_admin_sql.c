/* test_admin_sql.c — the admin port's statement parser (admin_parse) and
 * the KILL statement a client sends through the proxy (kill_parse).
 *
 * Every statement form, with and without the optional parts; keywords in
 * any case; comments and blanks where MySQL allows them; an optional
 * trailing ';'; quoting with '' and \' (and "..." / `...`); and every error
 * path with its exact message ("near '...'" or "at its end", and what was
 * expected). The parser must never read past the length it is given.
 *
 * The regression_* cases pin bugs found and fixed (they FAIL if one
 * returns). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "test.h"
#include "ctl/admin_sql.h"
#include "session/kill.h"
#include "mysql/tracker_host.h"
#include "core/pool.h"

#define ERR_TAIL " (SHOW HELP lists the statements)"
#define NEAR(snip, exp) "You have an error in your admin statement near '" snip "': expected " exp ERR_TAIL
#define AT_END(exp) "You have an error in your admin statement at its end: expected " exp ERR_TAIL

#define EXP_VERB "SHOW, ADD, REMOVE, SET, KILL, MIGRATE or RELOAD"
#define EXP_SHOW "BACKENDS, TUNNELS, [FULL] PROCESSLIST, STATS or HELP"
#define EXP_ADDR "a quoted backend address such as '127.0.0.1:3306'"
#define EXP_WEIGHT "a weight from 1 to 1000"
#define EXP_STATE "online, draining or offline"
#define EXP_SET "STATE online|draining|offline or WEIGHT n"
#define EXP_SELECT "a statement of the admin port (only SELECT @@version_comment is understood)"

static struct admin_stmt st;
static char err[512];

/* Parses q exactly (a malloc'd copy without a terminating NUL, so that
 * reading past len is caught by ASan). */
static int parse_n(const char *q, size_t len)
{
	char *copy = malloc(len ? len : 1);
	int rc;

	memcpy(copy, q, len);
	strcpy(err, "(untouched)");
	rc = admin_parse(copy, len, &st, err, sizeof(err));
	free(copy);
	return rc;
}

static int parse(const char *q)
{
	return parse_n(q, strlen(q));
}

#define CHECK_CSTR(a, b) do { \
	const char *_a = (a), *_b = (b); \
	if (strcmp(_a, _b) != 0) { \
		t_failed_checks++; \
		fprintf(stderr, "  %s:%d: %s = \"%s\"\n  %*s expected \"%s\"\n", \
			__FILE__, __LINE__, #a, _a, (int)strlen(#a) + 2, "", _b); \
	} } while (0)

/* q parses as verb (the other fields left at their defaults). */
#define CHECK_PLAIN(q, want_verb) do { \
	int _rc = parse(q); \
	if (_rc != 0) \
		fprintf(stderr, "  %s:%d: '%s' refused: %s\n", __FILE__, __LINE__, (q), err); \
	CHECK_EQ(_rc, 0); \
	CHECK_EQ(st.verb, (want_verb)); \
	CHECK_CSTR(st.addr, ""); \
	CHECK_CSTR(st.pool, ""); \
	CHECK_EQ(st.weight, 0); \
	CHECK_EQ(st.state, -1); \
	CHECK_EQ(st.id, 0); \
	CHECK_EQ(st.query_only, 0); \
	} while (0)

/* q is refused with exactly msg. */
#define CHECK_ERR(q, msg) do { \
	int _rc = parse(q); \
	if (_rc != -1) \
		fprintf(stderr, "  %s:%d: '%s' was accepted\n", __FILE__, __LINE__, (q)); \
	CHECK_EQ(_rc, -1); \
	if (_rc == -1) \
		CHECK_CSTR(err, (msg)); \
	} while (0)

/* ---- SHOW, HELP, SELECT @@version_comment ------------------------------- */

static void test_show_forms(void)
{
	CHECK_PLAIN("SHOW BACKENDS", ADM_SHOW_BACKENDS);
	CHECK_PLAIN("SHOW TUNNELS", ADM_SHOW_TUNNELS);
	CHECK_PLAIN("SHOW PROCESSLIST", ADM_SHOW_PROCESSLIST);
	CHECK_PLAIN("SHOW FULL PROCESSLIST", ADM_SHOW_PROCESSLIST);
	CHECK_PLAIN("SHOW STATS", ADM_SHOW_STATS);
	CHECK_PLAIN("SHOW HELP", ADM_SHOW_HELP);
	CHECK_PLAIN("HELP", ADM_SHOW_HELP);
	CHECK_PLAIN("RELOAD CONFIG", ADM_RELOAD);
	CHECK_PLAIN("SELECT @@version_comment", ADM_VERSION_COMMENT);
	CHECK_PLAIN("SELECT @@version_comment LIMIT 1", ADM_VERSION_COMMENT);
	/* what the mariadb client sends when it starts interactively */
	CHECK_PLAIN("select @@version_comment limit 1", ADM_VERSION_COMMENT);
}

static void test_case_insensitive(void)
{
	CHECK_PLAIN("show backends", ADM_SHOW_BACKENDS);
	CHECK_PLAIN("sHoW tUnNeLs", ADM_SHOW_TUNNELS);
	CHECK_PLAIN("Show Full ProcessList", ADM_SHOW_PROCESSLIST);
	CHECK_PLAIN("show stats", ADM_SHOW_STATS);
	CHECK_PLAIN("help", ADM_SHOW_HELP);
	CHECK_PLAIN("reload Config", ADM_RELOAD);
	CHECK_PLAIN("SELECT @@VERSION_COMMENT Limit 1", ADM_VERSION_COMMENT);
	CHECK_EQ(parse("kill query 5"), 0);
	CHECK_EQ(st.verb, ADM_KILL);
	CHECK_EQ(st.query_only, 1);
	CHECK_EQ(parse("add backend 'h:1' to pool p weight 2"), 0);
	CHECK_EQ(st.verb, ADM_ADD_BACKEND);
	CHECK_EQ(st.weight, 2);
	CHECK_EQ(parse("set backend 'h:1' in pool p state DRAINING"), 0);
	CHECK_EQ(st.state, BACKEND_DRAINING);
	/* pool names keep their case */
	CHECK_CSTR(st.pool, "p");
	CHECK_EQ(parse("ADD BACKEND 'h:1' TO POOL MixedCase"), 0);
	CHECK_CSTR(st.pool, "MixedCase");
}

static void test_semicolon_blanks_comments(void)
{
	CHECK_PLAIN("SHOW BACKENDS;", ADM_SHOW_BACKENDS);
	CHECK_PLAIN("  SHOW \t BACKENDS \n ; \n", ADM_SHOW_BACKENDS);
	CHECK_PLAIN("SHOW STATS ;", ADM_SHOW_STATS);
	CHECK_PLAIN("HELP;", ADM_SHOW_HELP);
	CHECK_PLAIN("/* c */ SHOW BACKENDS", ADM_SHOW_BACKENDS);
	CHECK_PLAIN("SHOW/**/BACKENDS", ADM_SHOW_BACKENDS);
	CHECK_PLAIN("SHOW /* a */ FULL /* b */ PROCESSLIST /* c */ ; /* d */", ADM_SHOW_PROCESSLIST);
	CHECK_PLAIN("# a comment line\nSHOW STATS", ADM_SHOW_STATS);
	CHECK_PLAIN("SHOW STATS # to the end", ADM_SHOW_STATS);
	CHECK_PLAIN("SHOW STATS -- to the end", ADM_SHOW_STATS);
	CHECK_PLAIN("-- first\nSHOW STATS;\n-- last\n", ADM_SHOW_STATS);
	CHECK_PLAIN("SHOW STATS; # after the semicolon", ADM_SHOW_STATS);
	CHECK_PLAIN("RELOAD /* x */ CONFIG;", ADM_RELOAD);
	/* "--" needs a blank after it to start a comment (as in MySQL) */
	CHECK_ERR("SHOW STATS --x", NEAR("--x", "the end of the statement"));
}

static void test_show_errors(void)
{
	CHECK_ERR("", AT_END(EXP_VERB));
	CHECK_ERR("   ", AT_END(EXP_VERB));
	CHECK_ERR("/* only a comment */", AT_END(EXP_VERB));
	CHECK_ERR(";", NEAR(";", EXP_VERB));
	CHECK_ERR("FROB x", NEAR("FROB x", EXP_VERB));
	CHECK_ERR("SHOWBACKENDS", NEAR("SHOWBACKENDS", EXP_VERB));
	CHECK_ERR("UPDATE t SET a=1", NEAR("UPDATE t SET a=1", EXP_VERB));
	CHECK_ERR("SHOW", AT_END(EXP_SHOW));
	CHECK_ERR("SHOW FOO", NEAR("FOO", EXP_SHOW));
	CHECK_ERR("SHOW DATABASES;", NEAR("DATABASES;", EXP_SHOW));
	CHECK_ERR("SHOW FULL", AT_END("PROCESSLIST"));
	CHECK_ERR("SHOW FULL BACKENDS", NEAR("BACKENDS", "PROCESSLIST"));
	CHECK_ERR("SHOW BACKENDS extra", NEAR("extra", "the end of the statement"));
	CHECK_ERR("SHOW BACKENDS;;", NEAR(";", "the end of the statement"));
	CHECK_ERR("SHOW BACKENDS; SHOW STATS", NEAR("SHOW STATS", "the end of the statement"));
	CHECK_ERR("HELP ME", NEAR("ME", "the end of the statement"));
	CHECK_ERR("RELOAD", AT_END("CONFIG"));
	CHECK_ERR("RELOAD CONFIGURATION", NEAR("CONFIGURATION", "CONFIG"));
	CHECK_ERR("RELOAD CONFIG now", NEAR("now", "the end of the statement"));
	CHECK_ERR("SELECT 1", NEAR("1", EXP_SELECT));
	CHECK_ERR("SELECT", AT_END(EXP_SELECT));
	CHECK_ERR("SELECT @@version", NEAR("@@version", EXP_SELECT));
	CHECK_ERR("SELECT @@version_comment LIMIT", AT_END("a number"));
	CHECK_ERR("SELECT @@version_comment LIMIT x", NEAR("x", "a number"));
	CHECK_ERR("SELECT @@version_comment LIMIT 1 2", NEAR("2", "the end of the statement"));
	CHECK_ERR("SELECT @@version_comment, 1", NEAR(", 1", "the end of the statement"));
}

/* The "near" snippet is the rest of the statement, cut at 40 bytes. */
static void test_error_snippet_and_buffer(void)
{
	char small[24];
	struct admin_stmt s2;

	CHECK_ERR("SHOW 0123456789012345678901234567890123456789-tail",
		  NEAR("0123456789012345678901234567890123456789", EXP_SHOW));
	/* a small error buffer: cut, terminated, nothing written beyond */
	memset(small, 'x', sizeof(small));
	CHECK_EQ(admin_parse("FROB", 4, &s2, small, 16), -1);
	CHECK_EQ(strlen(small), 15);
	CHECK(memcmp(small, "You have an err", 15) == 0);
	CHECK_EQ(small[16], 'x');
}

/* The parser reads len bytes, no more; a NUL is not an end. */
static void test_length_is_respected(void)
{
	const char *q = "SHOW BACKENDS garbage";

	CHECK_EQ(parse_n(q, strlen("SHOW BACKENDS")), 0);
	CHECK_EQ(st.verb, ADM_SHOW_BACKENDS);
	CHECK_EQ(parse_n(q, strlen("SHOW BACKENDS ga")), -1);
	CHECK_CSTR(err, NEAR("ga", "the end of the statement"));
	CHECK_EQ(parse_n("SHOW BACK", 9), -1);
	CHECK_CSTR(err, NEAR("BACK", EXP_SHOW));
	CHECK_EQ(parse_n("KILL 12", 6), 0);
	CHECK_EQ(st.id, 1);
	CHECK_EQ(parse_n("SHOW STATS\0;", 12), -1);
	CHECK_EQ(parse_n("KILL 5 /* unterminated", 22), 0);   /* the comment runs to the end */
	CHECK_EQ(st.id, 5);
}

/* ---- ADD / REMOVE / SET BACKEND ----------------------------------------- */

static void test_add_backend(void)
{
	CHECK_EQ(parse("ADD BACKEND '10.0.0.1:3306' TO POOL main"), 0);
	CHECK_EQ(st.verb, ADM_ADD_BACKEND);
	CHECK_CSTR(st.addr, "10.0.0.1:3306");
	CHECK_CSTR(st.pool, "main");
	CHECK_EQ(st.weight, 0);
	CHECK_EQ(st.state, -1);

	CHECK_EQ(parse("ADD BACKEND '[::1]:3307' TO POOL p-1.x WEIGHT 5;"), 0);
	CHECK_EQ(st.verb, ADM_ADD_BACKEND);
	CHECK_CSTR(st.addr, "[::1]:3307");
	CHECK_CSTR(st.pool, "p-1.x");
	CHECK_EQ(st.weight, 5);

	CHECK_EQ(parse("ADD BACKEND 'db.example.net:3306' TO POOL p WEIGHT 1"), 0);
	CHECK_EQ(st.weight, 1);
	CHECK_EQ(parse("ADD BACKEND 'h:1' TO POOL p WEIGHT 1000"), 0);
	CHECK_EQ(st.weight, 1000);
	/* other quotes */
	CHECK_EQ(parse("ADD BACKEND \"h:2\" TO POOL 'quoted pool'"), 0);
	CHECK_CSTR(st.addr, "h:2");
	CHECK_CSTR(st.pool, "quoted pool");
	CHECK_EQ(parse("ADD BACKEND 'h:3' TO POOL `back``tick`"), 0);
	CHECK_CSTR(st.pool, "back`tick");
	CHECK_EQ(parse("ADD/**/BACKEND/**/'h:4'/**/TO/**/POOL/**/p/**/WEIGHT/**/7"), 0);
	CHECK_CSTR(st.addr, "h:4");
	CHECK_EQ(st.weight, 7);
	/* the longest address and pool name that fit */
	char q[700], addr[CFG_ADDR_MAX], pool[CFG_NAME_MAX];
	memset(addr, 'a', sizeof(addr) - 1);
	addr[sizeof(addr) - 1] = '\0';
	memset(pool, 'p', sizeof(pool) - 1);
	pool[sizeof(pool) - 1] = '\0';
	snprintf(q, sizeof(q), "ADD BACKEND '%s' TO POOL %s", addr, pool);
	CHECK_EQ(parse(q), 0);
	CHECK_EQ(strlen(st.addr), CFG_ADDR_MAX - 1);
	CHECK_EQ(strlen(st.pool), CFG_NAME_MAX - 1);
}

static void test_quoting(void)
{
	CHECK_EQ(parse("REMOVE BACKEND 'it''s:1'"), 0);
	CHECK_CSTR(st.addr, "it's:1");
	CHECK_EQ(parse("REMOVE BACKEND 'it\\'s:1'"), 0);
	CHECK_CSTR(st.addr, "it's:1");
	CHECK_EQ(parse("REMOVE BACKEND 'back\\\\slash:1'"), 0);
	CHECK_CSTR(st.addr, "back\\slash:1");
	CHECK_EQ(parse("REMOVE BACKEND 'a\"b:1'"), 0);
	CHECK_CSTR(st.addr, "a\"b:1");
	CHECK_EQ(parse("REMOVE BACKEND \"a\"\"b:1\""), 0);
	CHECK_CSTR(st.addr, "a\"b:1");
	CHECK_EQ(parse("REMOVE BACKEND \"a'b:1\""), 0);
	CHECK_CSTR(st.addr, "a'b:1");
	CHECK_EQ(parse("REMOVE BACKEND '-- not a comment; # nor this'"), 0);
	CHECK_CSTR(st.addr, "-- not a comment; # nor this");
	CHECK_EQ(parse("REMOVE BACKEND '/* kept */h:1'"), 0);
	CHECK_CSTR(st.addr, "/* kept */h:1");
	CHECK_EQ(parse("REMOVE BACKEND ''''"), 0);
	CHECK_CSTR(st.addr, "'");
	/* a backtick name is not a string: no address */
	CHECK_ERR("REMOVE BACKEND `h:1`", NEAR("`h:1`", EXP_ADDR));
	/* unterminated */
	CHECK_ERR("REMOVE BACKEND 'h:1", NEAR("'h:1", EXP_ADDR));
	CHECK_ERR("REMOVE BACKEND 'h:1\\'", NEAR("'h:1\\'", EXP_ADDR));
	CHECK_ERR("ADD BACKEND 'h:1' TO POOL 'p", NEAR("'p", "a pool name"));
}

static void test_add_errors(void)
{
	char q[700], long_addr[CFG_ADDR_MAX + 1], long_pool[CFG_NAME_MAX + 1];

	CHECK_ERR("ADD", AT_END("BACKEND"));
	CHECK_ERR("ADD SERVER 'h:1' TO POOL p", NEAR("SERVER 'h:1' TO POOL p", "BACKEND"));
	CHECK_ERR("ADD BACKEND", AT_END(EXP_ADDR));
	CHECK_ERR("ADD BACKEND 10.0.0.1:3306 TO POOL p", NEAR("10.0.0.1:3306 TO POOL p", EXP_ADDR));
	CHECK_ERR("ADD BACKEND host TO POOL p", NEAR("host TO POOL p", EXP_ADDR));
	CHECK_ERR("ADD BACKEND '' TO POOL p", NEAR("'' TO POOL p", EXP_ADDR));
	CHECK_ERR("ADD BACKEND 'h:1'", AT_END("TO"));
	CHECK_ERR("ADD BACKEND 'h:1' POOL p", NEAR("POOL p", "TO"));
	CHECK_ERR("ADD BACKEND 'h:1' TO p", NEAR("p", "POOL"));
	CHECK_ERR("ADD BACKEND 'h:1' TO POOL", AT_END("a pool name"));
	CHECK_ERR("ADD BACKEND 'h:1' TO POOL ''", NEAR("''", "a pool name"));
	CHECK_ERR("ADD BACKEND 'h:1' TO POOL 5", NEAR("5", "a pool name"));
	CHECK_ERR("ADD BACKEND 'h:1' TO POOL ;", NEAR(";", "a pool name"));
	CHECK_ERR("ADD BACKEND 'h:1' TO POOL p WEIGHT", AT_END(EXP_WEIGHT));
	CHECK_ERR("ADD BACKEND 'h:1' TO POOL p WEIGHT 1001", NEAR("1001", EXP_WEIGHT));
	CHECK_ERR("ADD BACKEND 'h:1' TO POOL p WEIGHT 4294967297", NEAR("4294967297", EXP_WEIGHT));
	CHECK_ERR("ADD BACKEND 'h:1' TO POOL p WEIGHT 99999999999999999999999",
		  NEAR("99999999999999999999999", EXP_WEIGHT));
	CHECK_ERR("ADD BACKEND 'h:1' TO POOL p WEIGHT -1", NEAR("-1", EXP_WEIGHT));
	CHECK_ERR("ADD BACKEND 'h:1' TO POOL p WEIGHT 5x", NEAR("5x", EXP_WEIGHT));
	CHECK_ERR("ADD BACKEND 'h:1' TO POOL p WEIGHT '5'", NEAR("'5'", EXP_WEIGHT));
	CHECK_ERR("ADD BACKEND 'h:1' TO POOL p WEIGHT 2.5", NEAR(".5", "the end of the statement"));
	CHECK_ERR("ADD BACKEND 'h:1' TO POOL p WEIGHT 5 WEIGHT 6", NEAR("WEIGHT 6", "the end of the statement"));
	CHECK_ERR("ADD BACKEND 'h:1' TO POOL p STATE offline", NEAR("STATE offline", "the end of the statement"));
	CHECK_ERR("ADD BACKEND 'h:1' TO POOL p extra", NEAR("extra", "the end of the statement"));
	/* one byte too long: the address, then the pool name */
	memset(long_addr, 'a', sizeof(long_addr) - 1);
	long_addr[sizeof(long_addr) - 1] = '\0';
	snprintf(q, sizeof(q), "ADD BACKEND '%s' TO POOL p", long_addr);
	CHECK_EQ(parse(q), -1);
	CHECK(strstr(err, "expected " EXP_ADDR ERR_TAIL) != NULL);
	CHECK(strstr(err, "near ''aaaa") != NULL);
	memset(long_pool, 'p', sizeof(long_pool) - 1);
	long_pool[sizeof(long_pool) - 1] = '\0';
	snprintf(q, sizeof(q), "ADD BACKEND 'h:1' TO POOL %s", long_pool);
	CHECK_EQ(parse(q), -1);
	CHECK(strstr(err, "expected a pool name" ERR_TAIL) != NULL);
}

static void test_remove_backend(void)
{
	CHECK_EQ(parse("REMOVE BACKEND '10.0.0.1:3306'"), 0);
	CHECK_EQ(st.verb, ADM_REMOVE_BACKEND);
	CHECK_CSTR(st.addr, "10.0.0.1:3306");
	CHECK_CSTR(st.pool, "");
	CHECK_EQ(parse("remove backend '10.0.0.1:3306' from pool replicas;"), 0);
	CHECK_EQ(st.verb, ADM_REMOVE_BACKEND);
	CHECK_CSTR(st.pool, "replicas");
	CHECK_EQ(parse("DROP BACKEND 'h:1'"), 0);       /* an alias */
	CHECK_EQ(st.verb, ADM_REMOVE_BACKEND);
	CHECK_CSTR(st.addr, "h:1");

	CHECK_ERR("REMOVE", AT_END("BACKEND"));
	CHECK_ERR("REMOVE 'h:1'", NEAR("'h:1'", "BACKEND"));
	CHECK_ERR("REMOVE BACKEND", AT_END(EXP_ADDR));
	CHECK_ERR("REMOVE BACKEND h", NEAR("h", EXP_ADDR));
	CHECK_ERR("REMOVE BACKEND 'h:1' FROM", AT_END("POOL"));
	CHECK_ERR("REMOVE BACKEND 'h:1' FROM p", NEAR("p", "POOL"));
	CHECK_ERR("REMOVE BACKEND 'h:1' FROM POOL", AT_END("a pool name"));
	CHECK_ERR("REMOVE BACKEND 'h:1' IN POOL p", NEAR("IN POOL p", "the end of the statement"));
	CHECK_ERR("REMOVE BACKEND 'h:1' 'h:2'", NEAR("'h:2'", "the end of the statement"));
}

static void test_set_backend(void)
{
	CHECK_EQ(parse("SET BACKEND 'h:1' STATE draining"), 0);
	CHECK_EQ(st.verb, ADM_SET_BACKEND);
	CHECK_CSTR(st.addr, "h:1");
	CHECK_CSTR(st.pool, "");
	CHECK_EQ(st.state, BACKEND_DRAINING);
	CHECK_EQ(st.weight, 0);

	CHECK_EQ(parse("SET BACKEND 'h:1' STATE online"), 0);
	CHECK_EQ(st.state, BACKEND_ONLINE);
	CHECK_EQ(parse("SET BACKEND 'h:1' STATE Offline;"), 0);
	CHECK_EQ(st.state, BACKEND_OFFLINE);
	CHECK_EQ(parse("SET BACKEND 'h:1' STATE 'draining'"), 0);
	CHECK_EQ(st.state, BACKEND_DRAINING);

	CHECK_EQ(parse("SET BACKEND 'h:1' WEIGHT 7"), 0);
	CHECK_EQ(st.verb, ADM_SET_BACKEND);
	CHECK_EQ(st.weight, 7);
	CHECK_EQ(st.state, -1);

	CHECK_EQ(parse("SET BACKEND 'h:1' IN POOL p STATE offline WEIGHT 3"), 0);
	CHECK_CSTR(st.pool, "p");
	CHECK_EQ(st.state, BACKEND_OFFLINE);
	CHECK_EQ(st.weight, 3);
	CHECK_EQ(parse("set backend 'h:1' in pool p weight 1000 state online;"), 0);
	CHECK_EQ(st.state, BACKEND_ONLINE);
	CHECK_EQ(st.weight, 1000);

	CHECK_ERR("SET", AT_END("BACKEND"));
	CHECK_ERR("SET x = 1", NEAR("x = 1", "BACKEND"));
	CHECK_ERR("SET BACKEND", AT_END(EXP_ADDR));
	CHECK_ERR("SET BACKEND h STATE online", NEAR("h STATE online", EXP_ADDR));
	CHECK_ERR("SET BACKEND 'h:1'", AT_END(EXP_SET));
	CHECK_ERR("SET BACKEND 'h:1';", NEAR(";", EXP_SET));
	CHECK_ERR("SET BACKEND 'h:1' IN POOL p", AT_END(EXP_SET));
	CHECK_ERR("SET BACKEND 'h:1' IN p STATE online", NEAR("p STATE online", "POOL"));
	CHECK_ERR("SET BACKEND 'h:1' IN POOL", AT_END("a pool name"));
	CHECK_ERR("SET BACKEND 'h:1' STATE", AT_END(EXP_STATE));
	CHECK_ERR("SET BACKEND 'h:1' STATE up", NEAR("up", EXP_STATE));
	CHECK_ERR("SET BACKEND 'h:1' STATE down", NEAR("down", EXP_STATE));
	CHECK_ERR("SET BACKEND 'h:1' STATE 1", NEAR("1", EXP_STATE));
	CHECK_ERR("SET BACKEND 'h:1' STATE online STATE offline", NEAR("STATE offline", "the end of the statement"));
	CHECK_ERR("SET BACKEND 'h:1' WEIGHT", AT_END(EXP_WEIGHT));
	CHECK_ERR("SET BACKEND 'h:1' WEIGHT 1001", NEAR("1001", EXP_WEIGHT));
	CHECK_ERR("SET BACKEND 'h:1' WEIGHT x", NEAR("x", EXP_WEIGHT));
	CHECK_ERR("SET BACKEND 'h:1' WEIGHT 2 WEIGHT 3", NEAR("WEIGHT 3", "the end of the statement"));
	CHECK_ERR("SET BACKEND 'h:1' STATE online IN POOL p", NEAR("IN POOL p", "the end of the statement"));
	CHECK_ERR("SET BACKEND 'h:1' STATE online,", NEAR(",", "the end of the statement"));
}

/* ---- KILL ---------------------------------------------------------------- */

static void test_kill(void)
{
	CHECK_EQ(parse("KILL 5"), 0);
	CHECK_EQ(st.verb, ADM_KILL);
	CHECK_EQ(st.id, 5);
	CHECK_EQ(st.query_only, 0);
	CHECK_EQ(parse("KILL CONNECTION 6;"), 0);
	CHECK_EQ(st.id, 6);
	CHECK_EQ(st.query_only, 0);
	CHECK_EQ(parse("kill query 7"), 0);
	CHECK_EQ(st.id, 7);
	CHECK_EQ(st.query_only, 1);
	CHECK_EQ(parse("/* c */ KILL /* d */ QUERY /* e */ 8 ; -- end"), 0);
	CHECK_EQ(st.id, 8);
	CHECK_EQ(st.query_only, 1);
	CHECK_EQ(parse("KILL 4294967295"), 0);
	CHECK_EQ(st.id, 4294967295u);
	CHECK_EQ(parse("KILL 0000000009"), 0);
	CHECK_EQ(st.id, 9);

	CHECK_ERR("KILL", AT_END("a session id"));
	CHECK_ERR("KILL;", NEAR(";", "a session id"));
	CHECK_ERR("KILL QUERY", AT_END("a session id"));
	CHECK_ERR("KILL CONNECTION", AT_END("a session id"));
	CHECK_ERR("KILL 4294967296", NEAR("4294967296", "a session id"));
	CHECK_ERR("KILL 99999999999", NEAR("99999999999", "a session id"));
	CHECK_ERR("KILL USER bob", NEAR("USER bob", "a session id"));
	CHECK_ERR("KILL QUERY ID 5", NEAR("ID 5", "a session id"));
	CHECK_ERR("KILL HARD 5", NEAR("HARD 5", "a session id"));
	CHECK_ERR("KILL CONNECTION_ID()", NEAR("CONNECTION_ID()", "a session id"));
	CHECK_ERR("KILL 5abc", NEAR("5abc", "a session id"));
	CHECK_ERR("KILL -5", NEAR("-5", "a session id"));
	CHECK_ERR("KILL '5'", NEAR("'5'", "a session id"));
	CHECK_ERR("KILL QUERY QUERY 5", NEAR("QUERY 5", "a session id"));
	CHECK_ERR("KILL 5 6", NEAR("6", "the end of the statement"));
	CHECK_ERR("KILL 5;;", NEAR(";", "the end of the statement"));
	/* KILL 0 is refused; the message names what was expected */
	CHECK_EQ(parse("KILL 0"), -1);
	CHECK(strstr(err, "expected a session id" ERR_TAIL) != NULL);
}

/* ---- MIGRATE ---------------------------------------------------------------- */

static void test_migrate(void)
{
	CHECK_EQ(parse("MIGRATE 5"), 0);
	CHECK_EQ(st.verb, ADM_MIGRATE);
	CHECK_EQ(st.id, 5);
	CHECK_CSTR(st.addr, "");
	CHECK_CSTR(st.pool, "");
	CHECK_EQ(st.query_only, 0);
	CHECK_EQ(parse("migrate 6 to '127.0.0.1:3307';"), 0);
	CHECK_EQ(st.verb, ADM_MIGRATE);
	CHECK_EQ(st.id, 6);
	CHECK_CSTR(st.addr, "127.0.0.1:3307");
	CHECK_EQ(parse("/* c */ MIGRATE /* d */ 7 TO BACKEND \"[::1]:3306\" -- end"), 0);
	CHECK_EQ(st.id, 7);
	CHECK_CSTR(st.addr, "[::1]:3306");
	CHECK_EQ(parse("Migrate 4294967295 To Backend 'db-2.example:3306'"), 0);
	CHECK_EQ(st.id, 4294967295u);
	CHECK_CSTR(st.addr, "db-2.example:3306");
	CHECK_EQ(parse("MIGRATE 0000000009"), 0);
	CHECK_EQ(st.id, 9);

	CHECK_ERR("MIGRATE", AT_END("a session id"));
	CHECK_ERR("MIGRATE;", NEAR(";", "a session id"));
	CHECK_ERR("MIGRATE 0", NEAR("0", "a session id"));
	CHECK_ERR("MIGRATE 4294967296", NEAR("4294967296", "a session id"));
	CHECK_ERR("MIGRATE -1", NEAR("-1", "a session id"));
	CHECK_ERR("MIGRATE '5'", NEAR("'5'", "a session id"));
	CHECK_ERR("MIGRATE 5abc", NEAR("5abc", "a session id"));
	CHECK_ERR("MIGRATE SESSION 5", NEAR("SESSION 5", "a session id"));
	CHECK_ERR("MIGRATE 5 TO", AT_END(EXP_ADDR));
	CHECK_ERR("MIGRATE 5 TO BACKEND", AT_END(EXP_ADDR));
	CHECK_ERR("MIGRATE 5 TO 127.0.0.1:3307", NEAR("127.0.0.1:3307", EXP_ADDR));
	CHECK_ERR("MIGRATE 5 TO ''", NEAR("''", EXP_ADDR));
	CHECK_ERR("MIGRATE 5 TO 'h:1", NEAR("'h:1", EXP_ADDR));
	CHECK_ERR("MIGRATE 5 FROM 'h:1'", NEAR("FROM 'h:1'", "the end of the statement"));
	CHECK_ERR("MIGRATE 5 6", NEAR("6", "the end of the statement"));
	CHECK_ERR("MIGRATE 5 TO 'h:1' 'h:2'", NEAR("'h:2'", "the end of the statement"));
	CHECK_ERR("MIGRATE 5 TO 'h:1';;", NEAR(";", "the end of the statement"));
	/* the length given is respected */
	CHECK_EQ(parse_n("MIGRATE 12 TO 'h:1'", 10), 0);
	CHECK_EQ(st.id, 12);
	CHECK_CSTR(st.addr, "");
	CHECK_EQ(parse_n("MIGRATE 12 TO 'h:1'", 18), -1);
	CHECK_CSTR(err, NEAR("'h:1", EXP_ADDR));
}

/* Every field is reset by each call, whatever the previous one left. */
static void test_fields_reset(void)
{
	CHECK_EQ(parse("SET BACKEND 'h:1' IN POOL p STATE offline WEIGHT 3"), 0);
	CHECK_PLAIN("SHOW STATS", ADM_SHOW_STATS);
	CHECK_EQ(parse("KILL QUERY 77"), 0);
	CHECK_PLAIN("HELP", ADM_SHOW_HELP);
	CHECK_EQ(parse("MIGRATE 8 TO 'h:3'"), 0);
	CHECK_PLAIN("SHOW TUNNELS", ADM_SHOW_TUNNELS);
	CHECK_EQ(parse("ADD BACKEND 'h:1' TO POOL p WEIGHT 9"), 0);
	CHECK_EQ(parse("SET BACKEND 'h:2' STATE draining"), 0);
	CHECK_EQ(st.weight, 0);
	CHECK_CSTR(st.pool, "");
	CHECK_CSTR(st.addr, "h:2");
}

static void test_help_rows(void)
{
	size_t n = 0;
	int has_help = 0, has_kill = 0, has_migrate = 0;

	for (; admin_help[n][0]; n++) {
		CHECK(admin_help[n][1] != NULL && admin_help[n][1][0]);
		has_help |= strcmp(admin_help[n][0], "SHOW HELP") == 0;
		has_kill |= strncmp(admin_help[n][0], "KILL", 4) == 0;
		has_migrate |= strncmp(admin_help[n][0], "MIGRATE", 7) == 0;
	}
	CHECK_EQ(n, 11);
	CHECK(has_help);
	CHECK(has_kill);
	CHECK(has_migrate);
	CHECK(admin_help[n][1] == NULL);
}

/* ---- regressions of bugs found and fixed ----------------------------------- */

static void regression(const char *name, int fixed, const char *what)
{
	if (fixed) {
		t_cases_passed++;
		printf("PASS: %s\n", name);
	} else {
		t_cases_failed++;
		printf("FAIL: %s: %s\n", name, what);
	}
	fflush(stdout);
}

/* SET ... STATE = x and WEIGHT = n: parse_set() skips an '=' token, but the
 * lexer never stores the text of a one-character T_OTHER token, so
 * lx->text[0] is '\0' and the '=' is never recognized. */
static void regression_set_with_equals(void)
{
	int ok1 = parse("SET BACKEND 'h:1' STATE = offline") == 0 && st.state == BACKEND_OFFLINE;
	char e1[sizeof(err)];
	snprintf(e1, sizeof(e1), "%s", err);
	int ok2 = parse("SET BACKEND 'h:1' WEIGHT = 4") == 0 && st.weight == 4;
	char msg[1200];
	snprintf(msg, sizeof(msg), "SET BACKEND 'h:1' STATE = offline -> \"%s\"; "
		 "SET BACKEND 'h:1' WEIGHT = 4 -> \"%s\"", ok1 ? "accepted" : e1, ok2 ? "accepted" : err);
	regression("regression_set_with_equals", ok1 && ok2, msg);
}

/* WEIGHT 0 and KILL 0: the number is consumed before the range check, so
 * the message points at what follows it ("at its end") instead of at
 * the 0. */
static void regression_zero_position(void)
{
	char e1[sizeof(err)];
	int ok1 = parse("ADD BACKEND 'h:1' TO POOL p WEIGHT 0") == -1 &&
		  strcmp(err, NEAR("0", EXP_WEIGHT)) == 0;
	snprintf(e1, sizeof(e1), "%s", err);
	int ok2 = parse("KILL 0") == -1 && strcmp(err, NEAR("0", "a session id")) == 0;
	int ok3 = parse("SET BACKEND 'h:1' WEIGHT 0 STATE online") == -1 &&
		  strcmp(err, NEAR("0 STATE online", EXP_WEIGHT)) == 0;
	char msg[1200];
	snprintf(msg, sizeof(msg), "WEIGHT 0 -> \"%s\", expected \"near '0'...\"; KILL 0 -> \"%s\"",
		 e1, ok2 ? "ok" : "at its end");
	regression("regression_zero_position", ok1 && ok2 && ok3, msg);
}

/* ---- kill_parse (a client's KILL through the proxy) ---------------------- */

static int kp_n(const char *q, size_t len, struct kill_stmt *k)
{
	uint8_t *copy = malloc(len ? len : 1);
	int rc;

	memcpy(copy, q, len);
	k->id = 12345;
	k->query_only = 7;
	rc = kill_parse(copy, len, k);
	free(copy);
	return rc;
}

static int kp(const char *q, struct kill_stmt *k)
{
	return kp_n(q, strlen(q), k);
}

#define KILL_OK(q, want_id, want_query) do { \
	struct kill_stmt _k; \
	int _rc = kp((q), &_k); \
	if (_rc != 1) \
		fprintf(stderr, "  %s:%d: kill_parse(\"%s\") = %d, expected 1\n", __FILE__, __LINE__, (q), _rc); \
	CHECK_EQ(_rc, 1); \
	CHECK_EQ(_k.id, (want_id)); \
	CHECK_EQ(_k.query_only, (want_query)); \
	} while (0)

#define KILL_NO(q) do { \
	struct kill_stmt _k; \
	int _rc = kp((q), &_k); \
	if (_rc != 0) \
		fprintf(stderr, "  %s:%d: kill_parse(\"%s\") = %d, expected 0\n", __FILE__, __LINE__, (q), _rc); \
	CHECK_EQ(_rc, 0); \
	} while (0)

static void test_kill_parse_accepts(void)
{
	KILL_OK("KILL 5", 5, 0);
	KILL_OK("kill query 5", 5, 1);
	KILL_OK("KILL CONNECTION 5;", 5, 0);
	KILL_OK("KILL HARD QUERY 5", 5, 1);
	KILL_OK("KILL SOFT CONNECTION 6", 6, 0);
	KILL_OK("KILL HARD 7", 7, 0);
	KILL_OK("kill soft 8", 8, 0);
	KILL_OK("/* c */ KILL 5", 5, 0);
	KILL_OK("KILL/**/QUERY/**/5", 5, 1);
	KILL_OK("  Kill\tConnection\n 42 ; ", 42, 0);
	KILL_OK("KILL 5 -- bye\n", 5, 0);
	KILL_OK("KILL 5; # bye", 5, 0);
	KILL_OK("# first\nKILL QUERY 9", 9, 1);
	KILL_OK("KILL 4294967295", 4294967295u, 0);
	KILL_OK("KILL 000000000012", 12, 0);
	KILL_OK("KILL 0", 0, 0);        /* the caller answers "Unknown thread id: 0" */
	/* executable comments are code to the server */
	KILL_OK("/*!50000 KILL 5 */", 5, 0);
	KILL_OK("/*!KILL QUERY 6*/", 6, 1);
	KILL_OK("/*M!100100 KILL 7 */;", 7, 0);
	KILL_OK("-- x\nKILL 8", 8, 0);
	KILL_OK("--\tx\nKILL 9", 9, 0);
	/* only len bytes count */
	struct kill_stmt k;
	CHECK_EQ(kp_n("KILL 56", 6, &k), 1);
	CHECK_EQ(k.id, 5);
	CHECK_EQ(kp_n("KILL 5 6", 6, &k), 1);
	CHECK_EQ(k.id, 5);
}

static void test_kill_parse_rejects(void)
{
	KILL_NO("KILL USER x");
	KILL_NO("KILL QUERY ID 5");
	KILL_NO("KILL 5 6");
	KILL_NO("KILL 99999999999");
	KILL_NO("KILL 4294967296");
	KILL_NO("KILL 123456789012345");
	KILL_NO("KILL connection_id()");
	KILL_NO("KILL CONNECTION_ID()");
	KILL_NO("KILL");
	KILL_NO("KILL ;");
	KILL_NO("KILL QUERY");
	KILL_NO("KILL QUERY5");
	KILL_NO("KILL QUERY QUERY 5");
	KILL_NO("KILL HARD HARD 5");
	KILL_NO("KILL 5abc");
	KILL_NO("KILL -5");
	KILL_NO("KILL '5'");
	KILL_NO("KILL 5;;");
	KILL_NO("KILL 5; SELECT 1");
	KILL_NO("KILL 5 + 1");
	KILL_NO("KILLER 5");
	KILL_NO("SELECT 1");
	KILL_NO("SELECT 'KILL 5'");
	KILL_NO("");
	KILL_NO("   ");
	KILL_NO("/* KILL 5 */");
	KILL_NO("/*M KILL 5 */");
	KILL_NO("/*!50000 SELECT 1 */");
	KILL_NO("KILL AVERYLONGKEYWORDTHATISNOTONE 5");
	struct kill_stmt k;
	CHECK_EQ(kp_n("KILL 5", 4, &k), 0);         /* "KILL" alone */
	CHECK_EQ(kp_n("KILL 5", 0, &k), 0);
}

/* ---- the punt classifier's KILL scan (mysql_tracker.h) ----------------- */

/* The scan both carriers decide by over the whole text (MT_KILL_*). */
static uint32_t scan_verdict(const char *q, size_t len, size_t upto)
{
	struct mt_kill_scan k = { 0 };

	for (size_t i = 0; i < len && i < upto && !mt_kill_step(&k, (uint8_t)q[i]); i++)
		;
	return mt_kill_verdict(&k, upto >= len);
}

/* Every KILL that kill_parse accepts is one the classifier sends to user
 * space, whatever comes before it; texts that start with another word are
 * forwarded; a scan cut off before it decides says "maybe". */
static void test_classifier_agrees(void)
{
	static const char *const kills[] = {
		"KILL 5", "kill query 5", "/* c */ KILL 5", "KILL/**/QUERY/**/5", "  Kill\tConnection\n 42 ; ",
		"# first\nKILL QUERY 9", "/*!50000 KILL 5 */", "/*!KILL QUERY 6*/", "/*M!100100 KILL 7 */;",
		"-- x\nKILL 8", "--\tx\nKILL 9", "/**/kill 1", "\f\vKILL 2", "KILL(3)",
	};
	static const char *const others[] = {
		"SELECT 1", "SELECT 'KILL 5'", "/* KILL 5 */ SELECT 1", "KILLER 5", "KILL_ 5", "KILL$ 5",
		"--KILL 5", "-KILL 5", "/KILL 5", "/*!50000 SELECT 1 */", "", "   ", "/*M KILL 5 */ DO 1",
	};
	for (size_t i = 0; i < sizeof(kills) / sizeof(kills[0]); i++) {
		struct kill_stmt ks;
		const char *q = kills[i];
		int parsed = kp(q, &ks);
		uint32_t v = scan_verdict(q, strlen(q), strlen(q));
		if (v != MT_KILL_YES)
			fprintf(stderr, "  classifier: \"%s\" -> %u, expected YES\n", q, v);
		CHECK_EQ(v, MT_KILL_YES);
		if (strcmp(q, "KILL(3)") != 0)
			CHECK_EQ(parsed, 1);
	}
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		const char *q = others[i];
		uint32_t v = scan_verdict(q, strlen(q), strlen(q));
		if (v != MT_KILL_NO)
			fprintf(stderr, "  classifier: \"%s\" -> %u, expected NO\n", q, v);
		CHECK_EQ(v, MT_KILL_NO);
	}
	/* cut off inside the prefix: undecided, so user space looks */
	CHECK_EQ(scan_verdict("/* long comment */ KILL 5", 25, 10), MT_KILL_MAYBE);
	CHECK_EQ(scan_verdict("KI", 2, 2), MT_KILL_NO);
	CHECK_EQ(scan_verdict("KILL 5", 6, 2), MT_KILL_MAYBE);
	CHECK_EQ(scan_verdict("KILL", 4, 4), MT_KILL_YES);
	CHECK_EQ(scan_verdict("SELECT 1", 8, 1), MT_KILL_NO);
	/* the classes: what each carrier holds */
	CHECK_EQ(mt_see_command(COM_CHANGE_USER, 1, 0), MT_SEE_CHANGE_USER);
	CHECK_EQ(mt_see_command(COM_PROCESS_KILL, 0, 0), MT_SEE_KILL_CMD);
	CHECK_EQ(mt_see_command(COM_STMT_CLOSE, 0, 0), MT_SEE_NONE);
	CHECK_EQ(mt_see_command(COM_STMT_CLOSE, 1, 0), MT_SEE_STMT);
	CHECK_EQ(mt_see_command(COM_STMT_EXECUTE, 1, 0), MT_SEE_NONE);
	CHECK_EQ(mt_see_command(COM_STMT_EXECUTE, 1, 1), MT_SEE_EXECUTE);
	CHECK_EQ(mt_see_command(COM_BINLOG_DUMP, 1, 0), MT_SEE_OPAQUE);
	CHECK_EQ(mt_see_command(COM_QUERY, 1, 0), MT_SEE_QUERY_TEXT);
	CHECK_EQ(mt_see_command(COM_PING, 1, 0), MT_SEE_NONE);
}

int main(void)
{
	RUN(test_show_forms);
	RUN(test_case_insensitive);
	RUN(test_semicolon_blanks_comments);
	RUN(test_show_errors);
	RUN(test_error_snippet_and_buffer);
	RUN(test_length_is_respected);
	RUN(test_add_backend);
	RUN(test_quoting);
	RUN(test_add_errors);
	RUN(test_remove_backend);
	RUN(test_set_backend);
	RUN(test_kill);
	RUN(test_migrate);
	RUN(test_fields_reset);
	RUN(test_help_rows);
	regression_set_with_equals();
	regression_zero_position();
	RUN(test_kill_parse_accepts);
	RUN(test_kill_parse_rejects);
	RUN(test_classifier_agrees);
	return TEST_SUMMARY();
}
