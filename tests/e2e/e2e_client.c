/* e2e_client.c — end-to-end test client for shunt, on MariaDB Connector/C.
 *
 *   e2e_client HOST PORT USER PASSWORD DB SCENARIO [ARG]
 *
 * Talks to whatever listens on HOST:PORT (shunt, or MariaDB directly to prove
 * the test itself) and prints one line per check:
 *
 *   PASS: <scenario>.<check> (<what was checked>)
 *   FAIL: <scenario>.<check>: <what was expected, what came back>
 *
 * Exit status is 1 when any check failed. Scenarios (see usage()):
 * simple, multi, prepared, big, huge [ROWS], infile, txn, badpass,
 * killmid [fin|rst], sessions [N], all (= simple multi prepared infile txn
 * badpass).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <mysql.h>
#include <openssl/evp.h>

static const char *g_host, *g_user, *g_pass, *g_db;
static unsigned g_port;
static const char *g_scen = "";
static int g_fails, g_passes;

/* ------------------------------------------------------------ reporting */

/* Prints one result line: "PASS: scen.check (detail)" or
 * "FAIL: scen.check: detail", and counts it. */
static void vreport(int ok, const char *check, const char *fmt, va_list ap)
{
	printf(ok ? "PASS: %s.%s (" : "FAIL: %s.%s: ", g_scen, check);
	vprintf(fmt, ap);
	printf(ok ? ")\n" : "\n");
	fflush(stdout);
	if (ok)
		g_passes++;
	else
		g_fails++;
}

static void __attribute__((format(printf, 2, 3)))
pass(const char *check, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(1, check, fmt, ap);
	va_end(ap);
}

static void __attribute__((format(printf, 2, 3)))
fail(const char *check, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(0, check, fmt, ap);
	va_end(ap);
}

/* FAIL with the connection's error. */
static void fail_my(const char *check, MYSQL *m, const char *what)
{
	fail(check, "%s: error %u (%s): %s", what, mysql_errno(m),
	     mysql_sqlstate(m), mysql_error(m));
}

static void fail_stmt(const char *check, MYSQL_STMT *st, const char *what)
{
	fail(check, "%s: error %u (%s): %s", what, mysql_stmt_errno(st),
	     mysql_stmt_sqlstate(st), mysql_stmt_error(st));
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------ hashing */

static void sha256_hex(const void *p, size_t n, char out[65])
{
	unsigned char md[32];
	unsigned int len = 0;
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	EVP_DigestInit_ex(c, EVP_sha256(), NULL);
	EVP_DigestUpdate(c, p, n);
	EVP_DigestFinal_ex(c, md, &len);
	EVP_MD_CTX_free(c);
	for (unsigned i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
}

static uint32_t crc_table[256];

static void crc32_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

/* zlib-compatible CRC-32, the same as MariaDB's CRC32(). */
static uint32_t crc32_buf(uint32_t crc, const void *p, size_t n)
{
	const unsigned char *b = p;

	crc = ~crc;
	while (n--)
		crc = crc_table[(crc ^ *b++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

/* Deterministic pseudo-random bytes (xorshift64*), all 256 values occur. */
static void fill_random(unsigned char *p, size_t n, uint64_t seed)
{
	uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;

	for (size_t i = 0; i < n; i++) {
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		p[i] = (unsigned char)((x * 0x2545F4914F6CDD1Dull) >> 56);
	}
}

/* ------------------------------------------------------------ connection */

/* Opens a connection (db may be NULL). Returns NULL and reports nothing;
 * the caller decides whether failing to connect is a FAIL. */
static MYSQL *try_connect(const char *user, const char *pass, const char *db,
			  unsigned long flags)
{
	MYSQL *m = mysql_init(NULL);
	unsigned int tmo_c = 10, tmo_rw = 120;
	my_bool yes = 1;
	unsigned long maxp = 1024ul * 1024 * 1024;

	if (!m)
		return NULL;
	mysql_optionsv(m, MYSQL_OPT_CONNECT_TIMEOUT, &tmo_c);
	/* A proxy that stalls must turn into a FAIL, not a hung test. */
	mysql_optionsv(m, MYSQL_OPT_READ_TIMEOUT, &tmo_rw);
	mysql_optionsv(m, MYSQL_OPT_WRITE_TIMEOUT, &tmo_rw);
	mysql_optionsv(m, MYSQL_OPT_LOCAL_INFILE, &yes);
	mysql_optionsv(m, MYSQL_OPT_MAX_ALLOWED_PACKET, &maxp);
	if (!mysql_real_connect(m, g_host, user, pass, db, g_port, NULL, flags))
		return m;   /* caller checks mysql_errno() */
	return m;
}

/* Connects as the test user or FAILs (check name "connect"); NULL on error. */
static MYSQL *connect_or_fail(const char *db, unsigned long flags)
{
	MYSQL *m = try_connect(g_user, g_pass, db, flags);

	if (!m) {
		fail("connect", "mysql_init: out of memory");
		return NULL;
	}
	if (mysql_errno(m)) {
		fail_my("connect", m, "connect");
		mysql_close(m);
		return NULL;
	}
	return m;
}

/* Runs sql and discards every result. 0 or -1 (FAIL already printed). */
static int exec(MYSQL *m, const char *check, const char *sql)
{
	int st;

	if (mysql_query(m, sql)) {
		fail_my(check, m, sql);
		return -1;
	}
	do {
		MYSQL_RES *r = mysql_store_result(m);

		if (r)
			mysql_free_result(r);
		else if (mysql_field_count(m)) {
			fail_my(check, m, "store_result");
			return -1;
		}
		st = mysql_next_result(m);
		if (st > 0) {
			fail_my(check, m, "next_result");
			return -1;
		}
	} while (st == 0);
	return 0;
}

/* First column of the first row of sql's result, as text ("NULL" for NULL),
 * into out. 0, or -1 with a FAIL. */
static int scalar(MYSQL *m, const char *check, const char *sql, char *out, size_t n)
{
	MYSQL_RES *r;
	MYSQL_ROW row;

	if (mysql_query(m, sql)) {
		fail_my(check, m, sql);
		return -1;
	}
	r = mysql_store_result(m);
	if (!r) {
		fail_my(check, m, "store_result");
		return -1;
	}
	row = mysql_fetch_row(r);
	if (!row) {
		fail(check, "%s: no row", sql);
		mysql_free_result(r);
		return -1;
	}
	snprintf(out, n, "%s", row[0] ? row[0] : "NULL");
	mysql_free_result(r);
	return 0;
}

static int expect_scalar(MYSQL *m, const char *check, const char *sql, const char *want)
{
	char got[512];

	if (scalar(m, check, sql, got, sizeof(got)))
		return -1;
	if (strcmp(got, want)) {
		fail(check, "%s: expected '%s', got '%s'", sql, want, got);
		return -1;
	}
	pass(check, "%s -> '%s'", sql, got);
	return 0;
}

/* ------------------------------------------------------------ simple */

static void sc_simple(void)
{
	MYSQL *m = connect_or_fail(NULL, 0);
	MYSQL_RES *r;
	MYSQL_ROW row;
	unsigned long *len;
	char buf[256];

	if (!m)
		return;
	pass("connect", "no default db, server '%s', thread id %lu",
	     mysql_get_server_info(m), mysql_thread_id(m));

	/* SELECT 1: one row, one column, value 1. */
	if (!mysql_query(m, "SELECT 1") && (r = mysql_store_result(m))) {
		row = mysql_fetch_row(r);
		if (mysql_num_rows(r) == 1 && mysql_num_fields(r) == 1 && row && row[0] &&
		    !strcmp(row[0], "1"))
			pass("select_1", "1 row, 1 column, value '1'");
		else
			fail("select_1", "rows=%llu fields=%u value=%s",
			     (unsigned long long)mysql_num_rows(r), mysql_num_fields(r),
			     row && row[0] ? row[0] : "(none)");
		mysql_free_result(r);
	} else {
		fail_my("select_1", m, "SELECT 1");
	}

	/* Mixed types, a NULL and a binary value with an embedded NUL. */
	if (!mysql_query(m, "SELECT 'abc', NULL, 3.5, -42, X'00FF41', ''") &&
	    (r = mysql_store_result(m))) {
		row = mysql_fetch_row(r);
		len = mysql_fetch_lengths(r);
		if (row && mysql_num_fields(r) == 6 && !strcmp(row[0], "abc") && !row[1] &&
		    !strcmp(row[2], "3.5") && !strcmp(row[3], "-42") && len[4] == 3 &&
		    !memcmp(row[4], "\0\xff" "A", 3) && row[5] && len[5] == 0)
			pass("types", "'abc', NULL, 3.5, -42, 3-byte binary 00 ff 41, empty string");
		else
			fail("types", "unexpected row values");
		mysql_free_result(r);
	} else {
		fail_my("types", m, "mixed SELECT");
	}

	/* 1000 rows from the SEQUENCE engine, summed. */
	snprintf(buf, sizeof(buf), "SELECT seq FROM %s.seq_1_to_1000", g_db);
	if (!mysql_query(m, buf) && (r = mysql_store_result(m))) {
		unsigned long long sum = 0, n = 0;

		while ((row = mysql_fetch_row(r))) {
			sum += strtoull(row[0], NULL, 10);
			n++;
		}
		if (n == 1000 && sum == 500500)
			pass("rows_1000", "1000 rows, sum 500500");
		else
			fail("rows_1000", "expected 1000 rows sum 500500, got %llu rows sum %llu", n, sum);
		mysql_free_result(r);
	} else {
		fail_my("rows_1000", m, "SELECT seq");
	}

	/* 300 columns: many column-definition packets. */
	{
		char sql[8192];
		size_t o = snprintf(sql, sizeof(sql), "SELECT 1 AS c1");

		for (int i = 2; i <= 300; i++)
			o += snprintf(sql + o, sizeof(sql) - o, ", %d AS c%d", i, i);
		if (!mysql_query(m, sql) && (r = mysql_store_result(m))) {
			long sum = 0;

			row = mysql_fetch_row(r);
			for (unsigned i = 0; row && i < mysql_num_fields(r); i++)
				sum += atol(row[i]);
			if (mysql_num_fields(r) == 300 && sum == 45150)
				pass("columns_300", "300 columns, values sum 45150");
			else
				fail("columns_300", "fields=%u sum=%ld", mysql_num_fields(r), sum);
			mysql_free_result(r);
		} else {
			fail_my("columns_300", m, "300-column SELECT");
		}
	}

	/* Empty result set. */
	if (!mysql_query(m, "SELECT 1 FROM DUAL WHERE 0") && (r = mysql_store_result(m))) {
		if (mysql_num_rows(r) == 0 && mysql_num_fields(r) == 1)
			pass("empty_result", "0 rows, 1 column");
		else
			fail("empty_result", "rows=%llu", (unsigned long long)mysql_num_rows(r));
		mysql_free_result(r);
	} else {
		fail_my("empty_result", m, "empty SELECT");
	}

	/* DATABASE(): none, then COM_INIT_DB, then a USE statement. */
	expect_scalar(m, "no_db", "SELECT DATABASE()", "NULL");
	if (mysql_select_db(m, g_db))
		fail_my("init_db", m, "mysql_select_db");
	else
		expect_scalar(m, "init_db", "SELECT DATABASE()", g_db);
	if (exec(m, "use_stmt", "USE mysql") == 0)
		expect_scalar(m, "use_stmt", "SELECT DATABASE()", "mysql");
	snprintf(buf, sizeof(buf), "USE %s", g_db);
	exec(m, "use_back", buf);

	/* A server error, then the session is still usable. */
	if (mysql_query(m, "SELECT * FROM no_such_table_e2e") == 0) {
		fail("error_1146", "query on a missing table succeeded");
		mysql_free_result(mysql_store_result(m));
	} else if (mysql_errno(m) == 1146 && !strcmp(mysql_sqlstate(m), "42S02")) {
		pass("error_1146", "missing table -> error 1146 (42S02): %s", mysql_error(m));
	} else {
		fail_my("error_1146", m, "expected 1146/42S02");
	}
	expect_scalar(m, "after_error", "SELECT 2", "2");

	/* Warnings are carried in the EOF/OK. */
	if (!mysql_query(m, "SELECT CAST('12abc' AS SIGNED)") && (r = mysql_store_result(m))) {
		unsigned w = mysql_warning_count(m);

		mysql_free_result(r);
		if (w >= 1)
			pass("warnings", "truncating CAST -> %u warning(s)", w);
		else
			fail("warnings", "expected a warning count >= 1, got 0");
	} else {
		fail_my("warnings", m, "CAST");
	}

	/* DML: affected rows and insert id travel in the OK packet. */
	if (exec(m, "dml", "DROP TABLE IF EXISTS t_simple") == 0 &&
	    exec(m, "dml", "CREATE TABLE t_simple (id INT AUTO_INCREMENT PRIMARY KEY, v INT)") == 0) {
		if (mysql_query(m, "INSERT INTO t_simple (v) VALUES (1),(2),(3)")) {
			fail_my("dml", m, "INSERT");
		} else if (mysql_affected_rows(m) != 3 || mysql_insert_id(m) != 1) {
			fail("dml", "INSERT: affected %llu insert_id %llu, expected 3 and 1",
			     (unsigned long long)mysql_affected_rows(m),
			     (unsigned long long)mysql_insert_id(m));
		} else if (mysql_query(m, "UPDATE t_simple SET v = v + 10 WHERE v >= 2")) {
			fail_my("dml", m, "UPDATE");
		} else if (mysql_affected_rows(m) != 2) {
			fail("dml", "UPDATE: affected %llu, expected 2",
			     (unsigned long long)mysql_affected_rows(m));
		} else {
			pass("dml", "INSERT affected 3 insert_id 1; UPDATE affected 2");
		}
		exec(m, "dml", "DROP TABLE t_simple");
	}

	if (mysql_ping(m))
		fail_my("ping", m, "COM_PING");
	else
		pass("ping", "COM_PING -> OK");
	mysql_close(m);

	/* Connect straight into a database. */
	m = connect_or_fail(g_db, 0);
	if (m) {
		expect_scalar(m, "connect_db", "SELECT DATABASE()", g_db);
		mysql_close(m);
	}
}

/* ------------------------------------------------------------ multi */

/* Runs sql (which may return several results) and records, for each result,
 * its row count or -1-affected_rows for an OK. Returns the number of results,
 * or -1 with errno/err set from the connection on error at position *err_at. */
static int run_multi(MYSQL *m, const char *sql, long long *res, int max, int *err_at)
{
	int n = 0, st;

	*err_at = -1;
	if (mysql_query(m, sql)) {
		*err_at = 0;
		return -1;
	}
	do {
		MYSQL_RES *r = mysql_store_result(m);

		if (r) {
			if (n < max)
				res[n] = (long long)mysql_num_rows(r);
			mysql_free_result(r);
		} else if (mysql_field_count(m) == 0) {
			if (n < max)
				res[n] = -1 - (long long)mysql_affected_rows(m);
		} else {
			*err_at = n;
			return -1;
		}
		n++;
		st = mysql_next_result(m);
		if (st > 0) {
			*err_at = n;
			return -1;
		}
	} while (st == 0);
	return n;
}

static void sc_multi(void)
{
	MYSQL *m = connect_or_fail(g_db, CLIENT_MULTI_STATEMENTS);
	long long res[16];
	int n, err_at;

	if (!m)
		return;
	exec(m, "setup", "DROP TABLE IF EXISTS t_multi");
	exec(m, "setup", "CREATE TABLE t_multi (id INT)");

	n = run_multi(m, "SELECT 1; SELECT 2,3; INSERT INTO t_multi VALUES (1),(2); "
		      "SELECT COUNT(*) FROM t_multi", res, 16, &err_at);
	if (n == 4 && res[0] == 1 && res[1] == 1 && res[2] == -3 && res[3] == 1)
		pass("statements", "4 results: 1 row, 1 row, OK affected 2, 1 row");
	else if (n < 0)
		fail_my("statements", m, "multi-statement");
	else
		fail("statements", "got %d results (%lld %lld %lld %lld)", n,
		     res[0], n > 1 ? res[1] : 0, n > 2 ? res[2] : 0, n > 3 ? res[3] : 0);

	/* An error in the middle ends the chain; the session stays usable. */
	n = run_multi(m, "SELECT 1; SELECT * FROM no_such_table_e2e; SELECT 3", res, 16, &err_at);
	if (n == -1 && err_at == 1 && mysql_errno(m) == 1146)
		pass("error_in_chain", "first result read, second -> error 1146, chain ended");
	else
		fail("error_in_chain", "n=%d err_at=%d errno=%u", n, err_at, mysql_errno(m));
	expect_scalar(m, "after_chain_error", "SELECT 4", "4");

	/* Stored procedure with three result sets (+ the final OK). */
	exec(m, "proc_setup", "DROP PROCEDURE IF EXISTS p_multi");
	exec(m, "proc_setup", "CREATE PROCEDURE p_multi() BEGIN SELECT 1 AS a; "
	     "SELECT seq FROM seq_1_to_10; SELECT 'x', 'y'; END");
	n = run_multi(m, "CALL p_multi()", res, 16, &err_at);
	if (n == 4 && res[0] == 1 && res[1] == 10 && res[2] == 1 && res[3] <= -1)
		pass("procedure", "CALL -> 3 result sets (1, 10, 1 rows) + final OK");
	else if (n < 0)
		fail_my("procedure", m, "CALL p_multi()");
	else
		fail("procedure", "got %d results (%lld %lld %lld)", n, res[0],
		     n > 1 ? res[1] : 0, n > 2 ? res[2] : 0);

	/* The same procedure through a prepared statement (binary protocol). */
	{
		MYSQL_STMT *st = mysql_stmt_init(m);
		int sets = 0, rows[8] = {0}, rc;

		if (mysql_stmt_prepare(st, "CALL p_multi()", 14) || mysql_stmt_execute(st)) {
			fail_stmt("procedure_ps", st, "prepare/execute CALL");
		} else {
			do {
				if (mysql_stmt_field_count(st) > 0) {
					if (mysql_stmt_store_result(st)) {
						fail_stmt("procedure_ps", st, "store_result");
						break;
					}
					if (sets < 8)
						rows[sets] = (int)mysql_stmt_num_rows(st);
					sets++;
					mysql_stmt_free_result(st);
				}
				rc = mysql_stmt_next_result(st);
			} while (rc == 0);
			if (rc > 0)
				fail_stmt("procedure_ps", st, "next_result");
			else if (sets == 3 && rows[0] == 1 && rows[1] == 10 && rows[2] == 1)
				pass("procedure_ps", "prepared CALL -> 3 binary result sets (1, 10, 1 rows)");
			else
				fail("procedure_ps", "got %d sets (%d %d %d)", sets, rows[0], rows[1], rows[2]);
		}
		mysql_stmt_close(st);
	}
	expect_scalar(m, "after_procedure", "SELECT COUNT(*) FROM t_multi", "2");
	exec(m, "cleanup", "DROP PROCEDURE p_multi; DROP TABLE t_multi");
	mysql_close(m);
}

/* ------------------------------------------------------------ prepared */

#define LONG_DATA_SIZE (1024 * 1024)

static void sc_prepared(void)
{
	MYSQL *m = connect_or_fail(g_db, 0);
	MYSQL_STMT *st;
	MYSQL_BIND b[7];
	int32_t id, n_val;
	long long i64;
	double d;
	char s[101];
	unsigned long s_len;
	MYSQL_TIME dt;
	my_bool n_null;
	unsigned char *blob = malloc(LONG_DATA_SIZE), *blob_back = malloc(LONG_DATA_SIZE + 16);
	char sha_c[65], sha_s[80], sql[256];

	if (!m || !blob || !blob_back)
		goto out;
	fill_random(blob, LONG_DATA_SIZE, 1);
	sha256_hex(blob, LONG_DATA_SIZE, sha_c);
	exec(m, "setup", "DROP TABLE IF EXISTS t_ps");
	exec(m, "setup", "CREATE TABLE t_ps (id INT PRIMARY KEY, i BIGINT, d DOUBLE, "
	     "s VARCHAR(100), dt DATETIME, n INT NULL, b LONGBLOB)");

	/* INSERT with seven parameter types, a NULL and a long-data blob. */
	st = mysql_stmt_init(m);
	if (mysql_stmt_prepare(st, "INSERT INTO t_ps VALUES (?,?,?,?,?,?,?)", (unsigned long)-1)) {
		fail_stmt("prepare_insert", st, "prepare");
		mysql_stmt_close(st);
		goto out;
	}
	if (mysql_stmt_param_count(st) != 7)
		fail("prepare_insert", "param_count %lu, expected 7", mysql_stmt_param_count(st));
	else
		pass("prepare_insert", "7 parameters");
	memset(b, 0, sizeof(b));
	memset(&dt, 0, sizeof(dt));
	b[0].buffer_type = MYSQL_TYPE_LONG;     b[0].buffer = &id;
	b[1].buffer_type = MYSQL_TYPE_LONGLONG; b[1].buffer = &i64;
	b[2].buffer_type = MYSQL_TYPE_DOUBLE;   b[2].buffer = &d;
	b[3].buffer_type = MYSQL_TYPE_STRING;   b[3].buffer = s; b[3].length = &s_len;
	b[4].buffer_type = MYSQL_TYPE_DATETIME; b[4].buffer = &dt;
	b[5].buffer_type = MYSQL_TYPE_LONG;     b[5].buffer = &n_val; b[5].is_null = &n_null;
	b[6].buffer_type = MYSQL_TYPE_LONG_BLOB; /* row 1: long data; row 2: inline */
	id = 1; i64 = -1234567890123LL; d = 2.5; strcpy(s, "hello, shunt"); s_len = strlen(s);
	dt.year = 2024; dt.month = 2; dt.day = 29; dt.hour = 23; dt.minute = 59; dt.second = 58;
	dt.time_type = MYSQL_TIMESTAMP_DATETIME;
	n_null = 1; n_val = 0;
	if (mysql_stmt_bind_param(st, b)) {
		fail_stmt("insert_long_data", st, "bind_param");
	} else {
		int bad = 0;

		for (size_t off = 0; off < LONG_DATA_SIZE && !bad; off += 65536)
			bad = mysql_stmt_send_long_data(st, 6, (char *)blob + off, 65536);
		if (bad)
			fail_stmt("insert_long_data", st, "send_long_data");
		else if (mysql_stmt_execute(st))
			fail_stmt("insert_long_data", st, "execute");
		else if (mysql_stmt_affected_rows(st) != 1)
			fail("insert_long_data", "affected rows %llu",
			     (unsigned long long)mysql_stmt_affected_rows(st));
		else
			pass("insert_long_data", "INT, BIGINT, DOUBLE, VARCHAR, DATETIME, NULL INT, "
			     "1 MiB blob in 16 COM_STMT_SEND_LONG_DATA chunks -> 1 row");
	}
	/* Row 2: same statement re-executed, a non-NULL n and an inline blob. */
	id = 2; i64 = 42; d = -0.125; strcpy(s, "second"); s_len = 6; n_null = 0; n_val = 7;
	b[6].buffer = "inline"; b[6].buffer_length = 6;
	if (mysql_stmt_bind_param(st, b) || mysql_stmt_execute(st))
		fail_stmt("reexecute", st, "second execute");
	else
		pass("reexecute", "same statement executed again with new values");
	mysql_stmt_close(st);

	/* Server-side view of row 1. */
	if (scalar(m, "long_data_sha", "SELECT CONCAT(SHA2(b,256),' ',LENGTH(b),' ',n IS NULL) "
		   "FROM t_ps WHERE id=1", sha_s, sizeof(sha_s)) == 0) {
		char want[100];

		snprintf(want, sizeof(want), "%s %d 1", sha_c, LONG_DATA_SIZE);
		if (!strcmp(sha_s, want))
			pass("long_data_sha", "server SHA2(b,256)=%.16s... = client, LENGTH %d, n IS NULL",
			     sha_c, LONG_DATA_SIZE);
		else
			fail("long_data_sha", "server '%s', client '%s'", sha_s, want);
	}

	/* SELECT through a prepared statement with result binding. */
	st = mysql_stmt_init(m);
	if (mysql_stmt_prepare(st, "SELECT id, i, d, s, dt, n, b FROM t_ps WHERE id >= ? ORDER BY id",
			       (unsigned long)-1)) {
		fail_stmt("select_bind", st, "prepare");
	} else {
		MYSQL_BIND p, r[7];
		int32_t min_id = 1, r_id, r_n;
		long long r_i;
		double r_d;
		char r_s[101];
		MYSQL_TIME r_dt;
		unsigned long r_len[7];
		my_bool r_null[7];
		int rows = 0, ok = 1, rc;

		memset(&p, 0, sizeof(p));
		p.buffer_type = MYSQL_TYPE_LONG;
		p.buffer = &min_id;
		memset(r, 0, sizeof(r));
		r[0].buffer_type = MYSQL_TYPE_LONG;     r[0].buffer = &r_id;
		r[1].buffer_type = MYSQL_TYPE_LONGLONG; r[1].buffer = &r_i;
		r[2].buffer_type = MYSQL_TYPE_DOUBLE;   r[2].buffer = &r_d;
		r[3].buffer_type = MYSQL_TYPE_STRING;   r[3].buffer = r_s; r[3].buffer_length = sizeof(r_s);
		r[4].buffer_type = MYSQL_TYPE_DATETIME; r[4].buffer = &r_dt;
		r[5].buffer_type = MYSQL_TYPE_LONG;     r[5].buffer = &r_n;
		r[6].buffer_type = MYSQL_TYPE_LONG_BLOB; r[6].buffer = blob_back;
		r[6].buffer_length = LONG_DATA_SIZE + 16;
		for (int k = 0; k < 7; k++) {
			r[k].length = &r_len[k];
			r[k].is_null = &r_null[k];
		}
		if (mysql_stmt_bind_param(st, &p) || mysql_stmt_execute(st) ||
		    mysql_stmt_bind_result(st, r)) {
			fail_stmt("select_bind", st, "execute/bind");
		} else {
			while ((rc = mysql_stmt_fetch(st)) == 0) {
				char sha_b[65];

				rows++;
				r_s[r_len[3] < sizeof(r_s) ? r_len[3] : sizeof(r_s) - 1] = 0;
				if (rows == 1) {
					sha256_hex(blob_back, r_len[6], sha_b);
					ok &= r_id == 1 && r_i == -1234567890123LL && r_d == 2.5 &&
					      !strcmp(r_s, "hello, shunt") && r_dt.year == 2024 &&
					      r_dt.month == 2 && r_dt.day == 29 && r_dt.second == 58 &&
					      r_null[5] && r_len[6] == LONG_DATA_SIZE && !strcmp(sha_b, sha_c);
				} else {
					ok &= r_id == 2 && r_i == 42 && r_d == -0.125 &&
					      !strcmp(r_s, "second") && !r_null[5] && r_n == 7 &&
					      r_len[6] == 6 && !memcmp(blob_back, "inline", 6);
				}
			}
			if (rc != MYSQL_NO_DATA)
				fail_stmt("select_bind", st, "fetch");
			else if (rows == 2 && ok)
				pass("select_bind", "2 binary rows, every column equal to what was "
				     "inserted (NULL flag, DATETIME, 1 MiB blob SHA-256)");
			else
				fail("select_bind", "rows=%d, values match=%d", rows, ok);
		}
	}
	mysql_stmt_close(st);

	/* Read-only cursor: COM_STMT_FETCH in batches of 7 rows. */
	st = mysql_stmt_init(m);
	{
		unsigned long ctype = CURSOR_TYPE_READ_ONLY, prefetch = 7;
		MYSQL_BIND p, r[2];
		int32_t after = 0;
		long long seq;
		char txt[32];
		unsigned long txt_len;
		int rc;

		mysql_stmt_attr_set(st, STMT_ATTR_CURSOR_TYPE, &ctype);
		mysql_stmt_attr_set(st, STMT_ATTR_PREFETCH_ROWS, &prefetch);
		memset(&p, 0, sizeof(p));
		p.buffer_type = MYSQL_TYPE_LONG;
		p.buffer = &after;
		memset(r, 0, sizeof(r));
		r[0].buffer_type = MYSQL_TYPE_LONGLONG; r[0].buffer = &seq;
		r[1].buffer_type = MYSQL_TYPE_STRING; r[1].buffer = txt;
		r[1].buffer_length = sizeof(txt); r[1].length = &txt_len;
		if (mysql_stmt_prepare(st, "SELECT seq, CONCAT('r', seq) FROM seq_1_to_1000 WHERE seq > ?",
				       (unsigned long)-1) || mysql_stmt_bind_param(st, &p)) {
			fail_stmt("cursor", st, "prepare");
		} else {
			for (int pass_no = 0; pass_no < 2; pass_no++) {
				long long n = 0, sum = 0, want_n = pass_no ? 10 : 1000;
				long long want_sum = pass_no ? 9955 : 500500;
				int ok = 1;
				unsigned status = 0;

				after = pass_no ? 990 : 0;
				if (mysql_stmt_execute(st) || mysql_stmt_bind_result(st, r)) {
					fail_stmt("cursor", st, "execute");
					break;
				}
				mariadb_get_infov(m, MARIADB_CONNECTION_SERVER_STATUS, &status);
				while ((rc = mysql_stmt_fetch(st)) == 0) {
					char want[32];

					n++;
					sum += seq;
					txt[txt_len < sizeof(txt) ? txt_len : sizeof(txt) - 1] = 0;
					snprintf(want, sizeof(want), "r%lld", seq);
					ok &= !strcmp(txt, want);
				}
				if (rc != MYSQL_NO_DATA)
					fail_stmt("cursor", st, "fetch");
				else if (n == want_n && sum == want_sum && ok &&
					 (status & SERVER_STATUS_CURSOR_EXISTS))
					pass(pass_no ? "cursor_reexecute" : "cursor",
					     "CURSOR_EXISTS set, prefetch 7: %lld rows, sum %lld, text column matches",
					     n, sum);
				else
					fail(pass_no ? "cursor_reexecute" : "cursor",
					     "rows %lld sum %lld (want %lld/%lld) text ok %d cursor flag %d",
					     n, sum, want_n, want_sum, ok,
					     !!(status & SERVER_STATUS_CURSOR_EXISTS));
				mysql_stmt_free_result(st);
			}
		}
	}
	if (mysql_stmt_reset(st))
		fail_stmt("stmt_reset", st, "COM_STMT_RESET");
	else
		pass("stmt_reset", "COM_STMT_RESET -> OK");
	mysql_stmt_close(st);   /* COM_STMT_CLOSE has no response */
	expect_scalar(m, "after_close", "SELECT 'still here'", "still here");

	/* A failing prepare. */
	st = mysql_stmt_init(m);
	if (mysql_stmt_prepare(st, "SELECT * FROM no_such_table_e2e", (unsigned long)-1) == 0)
		fail("prepare_error", "prepare on a missing table succeeded");
	else if (mysql_stmt_errno(st) == 1146)
		pass("prepare_error", "prepare on a missing table -> 1146");
	else
		fail_stmt("prepare_error", st, "expected 1146");
	mysql_stmt_close(st);

	/* Many statements open at once, closed in another order. */
	{
		MYSQL_STMT *sts[20];
		int ok = 1;

		for (int k = 0; k < 20; k++) {
			sts[k] = mysql_stmt_init(m);
			snprintf(sql, sizeof(sql), "SELECT %d + ?", k);
			ok &= mysql_stmt_prepare(sts[k], sql, (unsigned long)-1) == 0;
		}
		for (int k = 19; k >= 0; k -= 2)
			mysql_stmt_close(sts[k]);
		for (int k = 0; k < 20; k += 2)
			mysql_stmt_close(sts[k]);
		if (ok)
			pass("many_statements", "20 statements prepared and closed");
		else
			fail("many_statements", "a prepare failed");
		expect_scalar(m, "after_many", "SELECT 5", "5");
	}
	exec(m, "cleanup", "DROP TABLE t_ps");
out:
	free(blob);
	free(blob_back);
	if (m)
		mysql_close(m);
}

/* ------------------------------------------------------------ big (20 MB) */

#define BIG_SIZE (20u * 1024 * 1024)

/* Checks that a text-protocol SELECT REPEAT('a', len) comes back whole:
 * row payloads around the 0xFFFFFF packet boundary. */
static void big_repeat(MYSQL *m, unsigned long len, const char *why)
{
	char sql[128], check[64];
	MYSQL_RES *r;
	MYSQL_ROW row;

	snprintf(check, sizeof(check), "repeat_%lu", len);
	snprintf(sql, sizeof(sql), "SELECT REPEAT('a', %lu)", len);
	if (mysql_query(m, sql) || !(r = mysql_store_result(m))) {
		fail_my(check, m, sql);
		return;
	}
	row = mysql_fetch_row(r);
	if (row && row[0] && mysql_fetch_lengths(r)[0] == len && row[0][0] == 'a' &&
	    row[0][len - 1] == 'a' && strspn(row[0], "a") == len)
		pass(check, "%s: %lu bytes back, all 'a'", why, len);
	else
		fail(check, "%s: got %lu bytes", why, row ? mysql_fetch_lengths(r)[0] : 0);
	mysql_free_result(r);
}

/* Sends a COM_QUERY whose payload is exactly payload bytes long:
 * SELECT LENGTH('xxx...') and checks the answer. */
static void big_query_len(MYSQL *m, size_t payload, const char *why)
{
	size_t qlen = payload - 1;             /* minus the command byte */
	size_t fill = qlen - strlen("SELECT LENGTH('") - strlen("')");
	char *q = malloc(qlen + 1), want[32], check[64];

	if (!q)
		return;
	memcpy(q, "SELECT LENGTH('", 15);
	memset(q + 15, 'q', fill);
	memcpy(q + 15 + fill, "')", 3);
	snprintf(check, sizeof(check), "query_payload_%zu", payload);
	snprintf(want, sizeof(want), "%zu", fill);
	{
		MYSQL_RES *r;
		MYSQL_ROW row;

		if (mysql_real_query(m, q, qlen) || !(r = mysql_store_result(m))) {
			fail_my(check, m, "long query");
		} else {
			row = mysql_fetch_row(r);
			if (row && row[0] && !strcmp(row[0], want))
				pass(check, "%s: server counted %s bytes", why, want);
			else
				fail(check, "%s: expected %s, got %s", why, want,
				     row && row[0] ? row[0] : "(none)");
			mysql_free_result(r);
		}
	}
	free(q);
}

static void sc_big(void)
{
	MYSQL *m = connect_or_fail(g_db, 0);
	unsigned char *data = malloc(BIG_SIZE), *back = malloc(BIG_SIZE + 16);
	char *q = malloc(2 * BIG_SIZE + 128);
	char sha_c[65], got[128], want[128];
	double t0;

	if (!m || !data || !back || !q)
		goto out;
	fill_random(data, BIG_SIZE, 20);
	sha256_hex(data, BIG_SIZE, sha_c);
	exec(m, "setup", "DROP TABLE IF EXISTS t_big");
	exec(m, "setup", "CREATE TABLE t_big (id INT PRIMARY KEY, b LONGBLOB)");

	/* (1) COM_QUERY with a 40 MB hex literal: client->server continuation. */
	{
		size_t o = (size_t)sprintf(q, "INSERT INTO t_big VALUES (1, X'");
		static const char hex[] = "0123456789abcdef";

		for (size_t i = 0; i < BIG_SIZE; i++) {
			q[o++] = hex[data[i] >> 4];
			q[o++] = hex[data[i] & 15];
		}
		q[o++] = '\'';
		q[o++] = ')';
		t0 = now_s();
		if (mysql_real_query(m, q, o))
			fail_my("insert_query", m, "40 MB INSERT");
		else
			pass("insert_query", "COM_QUERY of %zu bytes (3 packets) in %.2f s", o, now_s() - t0);
	}

	/* (2) Prepared INSERT with the 20 MB value inline in COM_STMT_EXECUTE,
	 * (3) the same value as long data in 1 MB chunks. */
	for (int id = 2; id <= 3; id++) {
		MYSQL_STMT *st = mysql_stmt_init(m);
		MYSQL_BIND p[2];
		int32_t vid = id;
		const char *check = id == 2 ? "insert_ps_inline" : "insert_ps_long_data";
		int bad = 0;

		memset(p, 0, sizeof(p));
		p[0].buffer_type = MYSQL_TYPE_LONG;
		p[0].buffer = &vid;
		p[1].buffer_type = MYSQL_TYPE_LONG_BLOB;
		if (id == 2) {
			p[1].buffer = data;
			p[1].buffer_length = BIG_SIZE;
		}
		if (mysql_stmt_prepare(st, "INSERT INTO t_big VALUES (?, ?)", (unsigned long)-1) ||
		    mysql_stmt_bind_param(st, p)) {
			fail_stmt(check, st, "prepare");
			mysql_stmt_close(st);
			continue;
		}
		for (size_t off = 0; id == 3 && off < BIG_SIZE && !bad; off += 1024 * 1024)
			bad = mysql_stmt_send_long_data(st, 1, (char *)data + off, 1024 * 1024);
		if (bad || mysql_stmt_execute(st))
			fail_stmt(check, st, "execute");
		else
			pass(check, id == 2 ? "COM_STMT_EXECUTE carrying 20 MiB inline" :
			     "20 MiB as 20 COM_STMT_SEND_LONG_DATA packets");
		mysql_stmt_close(st);
	}

	/* Server-side hashes of the three rows equal the client's. */
	snprintf(want, sizeof(want), "3 1 %u", BIG_SIZE);
	snprintf(q, 512, "SELECT CONCAT(COUNT(*), ' ', COUNT(DISTINCT SHA2(b,256))=1 AND "
		 "MAX(SHA2(b,256))='%s', ' ', MAX(LENGTH(b))) FROM t_big", sha_c);
	if (scalar(m, "server_sha", q, got, sizeof(got)) == 0) {
		if (!strcmp(got, want))
			pass("server_sha", "3 rows, each SHA2(b,256) = client SHA-256 %.16s..., %u bytes",
			     sha_c, BIG_SIZE);
		else
			fail("server_sha", "expected '%s' (count, sha match, length), got '%s'", want, got);
	}

	/* Text protocol SELECT: server->client continuation. */
	t0 = now_s();
	if (mysql_query(m, "SELECT b FROM t_big WHERE id = 1")) {
		fail_my("select_text", m, "SELECT b");
	} else {
		MYSQL_RES *r = mysql_store_result(m);
		MYSQL_ROW row = r ? mysql_fetch_row(r) : NULL;
		char sha_b[65];

		if (!row || !row[0]) {
			fail_my("select_text", m, "no row");
		} else {
			unsigned long len = mysql_fetch_lengths(r)[0];

			sha256_hex(row[0], len, sha_b);
			if (len == BIG_SIZE && !strcmp(sha_b, sha_c))
				pass("select_text", "20 MiB value back in %.2f s, SHA-256 equal", now_s() - t0);
			else
				fail("select_text", "got %lu bytes, sha %.16s... (want %.16s...)", len,
				     sha_b, sha_c);
		}
		mysql_free_result(r);
	}

	/* Binary protocol SELECT of the same value. */
	{
		MYSQL_STMT *st = mysql_stmt_init(m);
		MYSQL_BIND r;
		unsigned long len = 0;
		char sha_b[65];

		memset(&r, 0, sizeof(r));
		r.buffer_type = MYSQL_TYPE_LONG_BLOB;
		r.buffer = back;
		r.buffer_length = BIG_SIZE + 16;
		r.length = &len;
		if (mysql_stmt_prepare(st, "SELECT b FROM t_big WHERE id = 3", (unsigned long)-1) ||
		    mysql_stmt_execute(st) || mysql_stmt_bind_result(st, &r) || mysql_stmt_fetch(st)) {
			fail_stmt("select_binary", st, "prepared SELECT b");
		} else {
			sha256_hex(back, len, sha_b);
			if (len == BIG_SIZE && !strcmp(sha_b, sha_c))
				pass("select_binary", "20 MiB binary-protocol row, SHA-256 equal");
			else
				fail("select_binary", "got %lu bytes, sha %.16s...", len, sha_b);
			while (mysql_stmt_fetch(st) == 0)
				;
		}
		mysql_stmt_close(st);
	}

	/* Packet-boundary cases (payload = 4-byte lenenc prefix + value). */
	big_repeat(m, 16777210, "row payload 0xFFFFFE, one packet");
	big_repeat(m, 16777211, "row payload exactly 0xFFFFFF, needs an empty trailer packet");
	big_repeat(m, 16777212, "row payload 0x1000000, 0xFFFFFF + 1");
	big_repeat(m, 33554421, "row payload exactly 2 x 0xFFFFFF, two full packets + empty");
	big_query_len(m, 0xFFFFFE, "COM_QUERY payload 0xFFFFFE");
	big_query_len(m, 0xFFFFFF, "COM_QUERY payload exactly 0xFFFFFF + empty packet");
	big_query_len(m, 0x1000000, "COM_QUERY payload 0xFFFFFF + 1");
	expect_scalar(m, "after_big", "SELECT 'ok'", "ok");
	exec(m, "cleanup", "DROP TABLE t_big");
out:
	free(data);
	free(back);
	free(q);
	if (m)
		mysql_close(m);
}

/* ------------------------------------------------------------ huge (200 MB) */

static void sc_huge(long rows)
{
	MYSQL *m = connect_or_fail(g_db, 0);
	MYSQL_RES *r;
	MYSQL_ROW row;
	char sql[512], got[128], want[128], vals[26][128], sha[65];
	unsigned long long n = 0, sum = 0, bytes = 0, bad = 0;
	uint32_t crc_x = 0;
	EVP_MD_CTX *h = EVP_MD_CTX_new();
	unsigned char md[32];
	unsigned int mdlen;
	double t0, dt;

	if (!m)
		goto out;
	for (int c = 0; c < 26; c++)
		memset(vals[c], 'A' + c, sizeof(vals[c]));
	EVP_DigestInit_ex(h, EVP_sha256(), NULL);
	snprintf(sql, sizeof(sql), "SELECT seq, REPEAT(CHAR(65 + seq %% 26), 90 + seq %% 21) "
		 "FROM seq_1_to_%ld", rows);
	t0 = now_s();
	if (mysql_query(m, sql) || !(r = mysql_use_result(m))) {
		fail_my("stream", m, sql);
		goto out;
	}
	while ((row = mysql_fetch_row(r))) {
		unsigned long *len = mysql_fetch_lengths(r);
		unsigned long long seq = strtoull(row[0], NULL, 10);
		char line[160];
		size_t ll;

		n++;
		/* Every row is exactly what the expression must produce. */
		if (seq != n || len[1] != 90 + seq % 21 || memcmp(row[1], vals[seq % 26], len[1]))
			bad++;
		sum += seq;
		bytes += len[0] + len[1];
		ll = (size_t)snprintf(line, sizeof(line), "%s,", row[0]);
		memcpy(line + ll, row[1], len[1]);
		ll += len[1];
		crc_x ^= crc32_buf(0, line, ll);
		EVP_DigestUpdate(h, line, ll);
	}
	dt = now_s() - t0;
	if (mysql_errno(m)) {
		fail_my("stream", m, "fetch_row");
		mysql_free_result(r);
		goto out;
	}
	mysql_free_result(r);
	EVP_DigestFinal_ex(h, md, &mdlen);
	for (int i = 0; i < 32; i++)
		sprintf(sha + 2 * i, "%02x", md[i]);
	if (n == (unsigned long long)rows && bad == 0)
		pass("stream", "%llu rows, %.1f MB of values in %.2f s (%.0f MB/s), every row as "
		     "expected; stream SHA-256 %.16s...", n, bytes / 1e6, dt, bytes / 1e6 / dt, sha);
	else
		fail("stream", "%llu rows (want %ld), %llu rows differ from the expected values",
		     n, rows, bad);

	/* Server-side aggregate over the same rows. */
	snprintf(sql, sizeof(sql), "SELECT CONCAT(COUNT(*), ' ', SUM(seq), ' ', "
		 "BIT_XOR(CRC32(CONCAT(seq, ',', REPEAT(CHAR(65 + seq %% 26), 90 + seq %% 21))))) "
		 "FROM seq_1_to_%ld", rows);
	snprintf(want, sizeof(want), "%llu %llu %u", n, sum, crc_x);
	if (scalar(m, "aggregate", sql, got, sizeof(got)) == 0) {
		if (!strcmp(got, want))
			pass("aggregate", "server COUNT/SUM/BIT_XOR(CRC32(row)) = client: %s", got);
		else
			fail("aggregate", "server '%s', client '%s'", got, want);
	}
out:
	EVP_MD_CTX_free(h);
	if (m)
		mysql_close(m);
}

/* ------------------------------------------------------------ infile */

static void sc_infile(void)
{
	MYSQL *m = connect_or_fail(g_db, 0);
	char path[] = "/tmp/shunt-e2e-infile.XXXXXX", sql[512], got[128], want[128];
	const long rows = 100000;
	unsigned long long sum = 0;
	uint32_t crc_x = 0;
	size_t fbytes = 0;
	int fd = -1;
	FILE *f;

	if (!m)
		return;
	fd = mkstemp(path);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		fail("setup", "temp file: %s", strerror(errno));
		goto out;
	}
	for (long i = 1; i <= rows; i++) {
		char name[64];
		int l = snprintf(name, sizeof(name), "name-%ld-%08lx", i, (unsigned long)(i * 2654435761u));

		crc_x ^= crc32_buf(0, name, (size_t)l);
		sum += (unsigned long long)i;
		fbytes += (size_t)fprintf(f, "%ld\t%s\n", i, name);
	}
	fclose(f);
	exec(m, "setup", "DROP TABLE IF EXISTS t_infile");
	exec(m, "setup", "CREATE TABLE t_infile (id INT PRIMARY KEY, name VARCHAR(64))");
	snprintf(sql, sizeof(sql), "LOAD DATA LOCAL INFILE '%s' INTO TABLE t_infile "
		 "FIELDS TERMINATED BY '\\t' (id, name)", path);
	if (mysql_query(m, sql)) {
		fail_my("load", m, "LOAD DATA LOCAL INFILE");
	} else if (mysql_affected_rows(m) != (my_ulonglong)rows) {
		fail("load", "affected rows %llu, expected %ld",
		     (unsigned long long)mysql_affected_rows(m), rows);
	} else {
		pass("load", "%zu-byte file, %ld rows loaded", fbytes, rows);
	}
	snprintf(want, sizeof(want), "%ld %llu %u", rows, sum, crc_x);
	if (scalar(m, "verify", "SELECT CONCAT(COUNT(*), ' ', SUM(id), ' ', BIT_XOR(CRC32(name))) "
		   "FROM t_infile", got, sizeof(got)) == 0) {
		if (!strcmp(got, want))
			pass("verify", "COUNT/SUM(id)/BIT_XOR(CRC32(name)) = client: %s", got);
		else
			fail("verify", "server '%s', client '%s'", got, want);
	}

	/* An empty file: zero rows, and the exchange still ends. */
	f = fopen(path, "w");
	if (f)
		fclose(f);
	if (mysql_query(m, sql))
		fail_my("empty_file", m, "LOAD DATA of an empty file");
	else if (mysql_affected_rows(m) != 0)
		fail("empty_file", "affected %llu", (unsigned long long)mysql_affected_rows(m));
	else
		pass("empty_file", "empty file -> 0 rows");

	/* A file the client cannot open: the client answers with an empty
	 * packet, the statement fails, the session must still work. */
	if (mysql_query(m, "LOAD DATA LOCAL INFILE '/nonexistent/shunt-e2e' INTO TABLE t_infile") == 0)
		fail("missing_file", "LOAD DATA of a missing file succeeded");
	else
		pass("missing_file", "missing local file -> error %u: %s", mysql_errno(m), mysql_error(m));
	expect_scalar(m, "after_infile", "SELECT COUNT(*) FROM t_infile", "100000");
	exec(m, "cleanup", "DROP TABLE t_infile");
out:
	unlink(path);
	mysql_close(m);
}

/* ------------------------------------------------------------ txn */

static int count_rows(MYSQL *m, const char *check, long *n)
{
	char got[64];

	if (scalar(m, check, "SELECT COUNT(*) FROM t_txn", got, sizeof(got)))
		return -1;
	*n = atol(got);
	return 0;
}

static unsigned server_status(MYSQL *m)
{
	unsigned st = 0;

	mariadb_get_infov(m, MARIADB_CONNECTION_SERVER_STATUS, &st);
	return st;
}

static void sc_txn(void)
{
	MYSQL *a = connect_or_fail(g_db, 0), *b = connect_or_fail(g_db, 0);
	long na = -1, nb = -1;
	unsigned st;

	if (!a || !b)
		goto out;
	exec(a, "setup", "DROP TABLE IF EXISTS t_txn");
	exec(a, "setup", "CREATE TABLE t_txn (id INT PRIMARY KEY) ENGINE=InnoDB");

	exec(a, "commit", "START TRANSACTION");
	st = server_status(a);
	if (st & SERVER_STATUS_IN_TRANS)
		pass("in_trans_flag", "SERVER_STATUS_IN_TRANS set after START TRANSACTION");
	else
		fail("in_trans_flag", "status 0x%x has no IN_TRANS", st);
	exec(a, "commit", "INSERT INTO t_txn VALUES (1),(2),(3)");
	if (count_rows(b, "commit", &nb) == 0 && nb == 0)
		pass("isolation", "uncommitted rows invisible to a second connection (0 rows)");
	else
		fail("isolation", "second connection saw %ld rows before COMMIT", nb);
	exec(a, "commit", "COMMIT");
	st = server_status(a);
	if (count_rows(b, "commit", &nb) == 0 && nb == 3 && !(st & SERVER_STATUS_IN_TRANS))
		pass("commit", "after COMMIT: IN_TRANS clear, second connection sees 3 rows");
	else
		fail("commit", "second connection sees %ld rows (want 3), status 0x%x", nb, st);

	exec(a, "rollback", "BEGIN");
	exec(a, "rollback", "INSERT INTO t_txn VALUES (4),(5)");
	count_rows(a, "rollback", &na);
	exec(a, "rollback", "ROLLBACK");
	st = server_status(a);
	if (na == 5 && count_rows(b, "rollback", &nb) == 0 && nb == 3 &&
	    count_rows(a, "rollback", &na) == 0 && na == 3 && !(st & SERVER_STATUS_IN_TRANS))
		pass("rollback", "5 rows inside the transaction, 3 after ROLLBACK on both connections");
	else
		fail("rollback", "after ROLLBACK: a=%ld b=%ld rows (want 3), status 0x%x", na, nb, st);

	/* autocommit off: status flag and implicit transaction. */
	if (mysql_autocommit(a, 0)) {
		fail_my("autocommit_off", a, "autocommit(0)");
	} else {
		exec(a, "autocommit_off", "INSERT INTO t_txn VALUES (6)");
		st = server_status(a);
		mysql_rollback(a);
		if (count_rows(b, "autocommit_off", &nb) == 0 && nb == 3 &&
		    !(st & SERVER_STATUS_AUTOCOMMIT) && (st & SERVER_STATUS_IN_TRANS))
			pass("autocommit_off", "AUTOCOMMIT clear, IN_TRANS set by an INSERT, "
			     "rolled back: still 3 rows");
		else
			fail("autocommit_off", "status 0x%x, rows %ld", st, nb);
		mysql_autocommit(a, 1);
	}
	exec(a, "cleanup", "DROP TABLE t_txn");
out:
	if (a)
		mysql_close(a);
	if (b)
		mysql_close(b);
}

/* ------------------------------------------------------------ badpass */

static void expect_denied(const char *check, const char *user, const char *pass_, const char *why)
{
	MYSQL *m = try_connect(user, pass_, g_db, 0);

	if (!m) {
		fail(check, "mysql_init failed");
		return;
	}
	if (mysql_errno(m) == 0)
		fail(check, "%s: login succeeded", why);
	else if (mysql_errno(m) == 1045 && !strcmp(mysql_sqlstate(m), "28000") &&
		 strstr(mysql_error(m), "Access denied"))
		pass(check, "%s -> error 1045 (28000): %s", why, mysql_error(m));
	else
		fail_my(check, m, "expected 1045 (28000) Access denied");
	mysql_close(m);
}

static void sc_badpass(void)
{
	char wrong[256];
	MYSQL *m;

	snprintf(wrong, sizeof(wrong), "%s-wrong", g_pass);
	expect_denied("wrong_password", g_user, wrong, "wrong password");
	expect_denied("empty_password", g_user, "", "empty password");
	expect_denied("unknown_user", "no_such_user_e2e", "x", "unknown user");
	m = connect_or_fail(g_db, 0);
	if (m) {
		expect_scalar(m, "good_after_bad", "SELECT 'in'", "in");
		mysql_close(m);
	}
}

/* ------------------------------------------------------------ killmid */

/* Starts a big streaming SELECT, reads a few rows, then drops the socket
 * without COM_QUIT (mode "fin": shutdown+close; "rst": SO_LINGER 0 reset)
 * and exits. The shell test checks what the proxy and the server did. */
static void sc_killmid(const char *mode)
{
	MYSQL *m = connect_or_fail(g_db, 0);
	MYSQL_RES *r;
	int n = 0, fd;
	char check[32];

	snprintf(check, sizeof(check), "start_%s", mode);
	if (!m)
		return;
	if (mysql_query(m, "SELECT /*e2e_killmid*/ seq, REPEAT('k', 200) FROM seq_1_to_50000000") ||
	    !(r = mysql_use_result(m))) {
		fail_my(check, m, "streaming SELECT");
		return;
	}
	while (n < 100 && mysql_fetch_row(r))
		n++;
	if (n != 100) {
		fail_my(check, m, "read 100 rows");
		return;
	}
	pass(check, "streaming SELECT of 50M rows, read %d rows, now dropping the socket (%s)",
	     n, mode);
	fd = (int)mysql_get_socket(m);
	if (!strcmp(mode, "rst")) {
		struct linger lg = { 1, 0 };

		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	} else {
		shutdown(fd, SHUT_RDWR);
	}
	close(fd);
	fflush(stdout);
	_exit(0);
}

/* ------------------------------------------------------------ sessions */

static void sc_sessions(long n)
{
	long ok = 0;
	double t0 = now_s();

	for (long i = 0; i < n; i++) {
		MYSQL *m = try_connect(g_user, g_pass, g_db, 0);
		MYSQL_RES *r;
		MYSQL_ROW row;

		if (!m || mysql_errno(m)) {
			if (m) {
				fail_my("sessions", m, "connect");
				mysql_close(m);
			}
			continue;
		}
		if (mysql_query(m, "SELECT 1") || !(r = mysql_store_result(m))) {
			fail_my("sessions", m, "SELECT 1");
		} else {
			row = mysql_fetch_row(r);
			if (row && row[0] && !strcmp(row[0], "1"))
				ok++;
			mysql_free_result(r);
		}
		mysql_close(m);    /* COM_QUIT + close */
	}
	if (ok == n)
		pass("sessions", "%ld sequential connect/SELECT 1/quit sessions in %.2f s", n,
		     now_s() - t0);
	else
		fail("sessions", "%ld of %ld sessions worked", ok, n);
}

/* ------------------------------------------------------------ main */

static int usage(void)
{
	fprintf(stderr,
		"usage: e2e_client HOST PORT USER PASSWORD DB SCENARIO [ARG]\n"
		"scenarios: simple multi prepared big huge [ROWS] infile txn badpass\n"
		"           killmid [fin|rst] sessions [N] all\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *scen, *arg;

	if (argc < 7)
		return usage();
	g_host = argv[1];
	g_port = (unsigned)atoi(argv[2]);
	g_user = argv[3];
	g_pass = argv[4];
	g_db = argv[5];
	scen = argv[6];
	arg = argc > 7 ? argv[7] : NULL;
	setvbuf(stdout, NULL, _IOLBF, 0);
	crc32_init();
	if (mysql_library_init(0, NULL, NULL))
		return 1;

#define RUN(name, call) do { if (!strcmp(scen, name) || (all && strcmp(name, "big"))) \
	{ g_scen = name; call; } } while (0)
	{
		int all = !strcmp(scen, "all"), known = all;

		if (!strcmp(scen, "huge")) {
			g_scen = "huge";
			sc_huge(arg ? atol(arg) : 2000000);
			known = 1;
		} else if (!strcmp(scen, "killmid")) {
			g_scen = "killmid";
			sc_killmid(arg ? arg : "fin");
			known = 1;
		} else if (!strcmp(scen, "sessions")) {
			g_scen = "sessions";
			sc_sessions(arg ? atol(arg) : 1000);
			known = 1;
		} else {
			static const char *names[] = { "simple", "multi", "prepared", "big",
						       "infile", "txn", "badpass" };

			for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
				known |= !strcmp(scen, names[i]);
			RUN("simple", sc_simple());
			RUN("multi", sc_multi());
			RUN("prepared", sc_prepared());
			RUN("big", sc_big());
			RUN("infile", sc_infile());
			RUN("txn", sc_txn());
			RUN("badpass", sc_badpass());
		}
		if (!known)
			return usage();
	}
	mysql_library_end();
	printf("e2e_client %s: %d passed, %d failed\n", scen, g_passes, g_fails);
	if (g_passes == 0 && g_fails == 0) {
		printf("FAIL: %s: no check ran\n", scen);
		return 1;
	}
	return g_fails ? 1 : 0;
}
