/* migrate_stmt.c — a Connector/C client that keeps executing server-side
 * prepared statements (COM_STMT_PREPARE / COM_STMT_EXECUTE, binary
 * protocol) while shunt moves its session to another backend
 * (tests/e2e/test_migrate.sh, driven by migrate_check.py).
 *
 *   migrate_stmt HOST PORT USER PASSWORD DB SECONDS INTERVAL_MS
 *
 * Connects with DB as the default schema and prepares, once:
 *   s1: SELECT ? + 1, @@port, DATABASE()       executed every INTERVAL_MS
 *   s2: SELECT CONCAT(?, '-', @@port), ? * 2   prepared at the start,
 *                                              executed only at the end
 * For SECONDS it executes s1 with a new parameter each time, through the
 * same statement handle (never re-prepared), and checks every row:
 * ? + 1 must be right and DATABASE() must stay DB. @@port says which
 * server answered; every change of it is printed. At the end s2 runs once,
 * then s1 once more, to show that a statement idle during the move was
 * carried too.
 *
 * Output (stdout, one record per line, read by migrate_check.py):
 *   ready id=<greeting connection id> port=<@@port> stmt=<s1 id>
 *   port t=<s> n=<execs so far> from=<port> to=<port> ms=<that execute's latency>
 *   error t=<s> n=<i> what=<step> errno=<n> sqlstate=<s> msg=<text>   (first 20)
 *   wrong t=<s> n=<i> detail=<text>                                    (first 20)
 *   done execs=<n> errors=<n> wrong=<n> changes=<n> first_port=<p> last_port=<p>
 *        max_ms=<f> p50_ms=<f> s2=<ok|text> stmt=<s1 id> after=<ok|text>
 * Exit status: 0 when errors=0 and wrong=0, 1 otherwise, 2 on a setup
 * failure (connect or prepare; an "error" line says why). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mysql.h>

static double t_start;
static unsigned g_errors, g_wrong;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void msleep(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void report_stmt_error(unsigned long n, const char *what, MYSQL_STMT *st)
{
	if (++g_errors <= 20)
		printf("error t=%.3f n=%lu what=%s errno=%u sqlstate=%s msg=%s\n", now_s() - t_start,
		       n, what, mysql_stmt_errno(st), mysql_stmt_sqlstate(st), mysql_stmt_error(st));
	fflush(stdout);
}

static void __attribute__((format(printf, 2, 3)))
report_wrong(unsigned long n, const char *fmt, ...)
{
	va_list ap;

	if (++g_wrong <= 20) {
		printf("wrong t=%.3f n=%lu detail=", now_s() - t_start, n);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf("\n");
	}
	fflush(stdout);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* One execution of s1 with parameter v; fills *port. 0 ok, -1 error
 * (reported), 1 wrong result (reported). */
static int run_s1(MYSQL_STMT *st, unsigned long n, long long v, const char *db, long *port)
{
	MYSQL_BIND p, r[3];
	long long in = v, sum = 0;
	long prt = 0;
	char dbuf[128] = "";
	unsigned long dlen = 0;
	my_bool dnull = 0, snull = 0, pnull = 0;
	int rc;

	memset(&p, 0, sizeof(p));
	p.buffer_type = MYSQL_TYPE_LONGLONG;
	p.buffer = &in;
	memset(r, 0, sizeof(r));
	r[0].buffer_type = MYSQL_TYPE_LONGLONG;
	r[0].buffer = &sum;
	r[0].is_null = &snull;
	r[1].buffer_type = MYSQL_TYPE_LONG;
	r[1].buffer = &prt;
	r[1].is_null = &pnull;
	r[2].buffer_type = MYSQL_TYPE_STRING;
	r[2].buffer = dbuf;
	r[2].buffer_length = sizeof(dbuf) - 1;
	r[2].length = &dlen;
	r[2].is_null = &dnull;
	if (mysql_stmt_bind_param(st, &p)) {
		report_stmt_error(n, "bind_param", st);
		return -1;
	}
	if (mysql_stmt_execute(st)) {
		report_stmt_error(n, "execute", st);
		return -1;
	}
	if (mysql_stmt_bind_result(st, r)) {
		report_stmt_error(n, "bind_result", st);
		mysql_stmt_free_result(st);
		return -1;
	}
	rc = mysql_stmt_fetch(st);
	if (rc == 1) {
		report_stmt_error(n, "fetch", st);
		mysql_stmt_free_result(st);
		return -1;
	}
	if (rc == MYSQL_NO_DATA) {
		report_wrong(n, "no row for parameter %lld", v);
		mysql_stmt_free_result(st);
		return 1;
	}
	/* exactly one row */
	rc = mysql_stmt_fetch(st);
	mysql_stmt_free_result(st);
	if (rc != MYSQL_NO_DATA) {
		report_wrong(n, "more than one row for parameter %lld", v);
		return 1;
	}
	dbuf[dlen < sizeof(dbuf) ? dlen : sizeof(dbuf) - 1] = '\0';
	*port = pnull ? -1 : prt;
	if (snull || sum != v + 1) {
		report_wrong(n, "? + 1 with ? = %lld gave %lld", v, snull ? -1 : sum);
		return 1;
	}
	if (dnull || strcmp(dbuf, db)) {
		report_wrong(n, "DATABASE() is '%s', expected '%s'", dnull ? "NULL" : dbuf, db);
		return 1;
	}
	return 0;
}

/* s2 with ("tail", 21): expects "tail-<port>" and 42; *out gets "ok" or why. */
static void run_s2(MYSQL_STMT *st, long port, char *out, size_t outsz)
{
	MYSQL_BIND p[2], r[2];
	char sin[] = "tail", sbuf[64] = "", want[64];
	unsigned long slen = 4, rlen = 0;
	long long k = 21, twice = 0;
	my_bool n0 = 0, n1 = 0;

	memset(p, 0, sizeof(p));
	p[0].buffer_type = MYSQL_TYPE_STRING;
	p[0].buffer = sin;
	p[0].buffer_length = slen;
	p[0].length = &slen;
	p[1].buffer_type = MYSQL_TYPE_LONGLONG;
	p[1].buffer = &k;
	memset(r, 0, sizeof(r));
	r[0].buffer_type = MYSQL_TYPE_STRING;
	r[0].buffer = sbuf;
	r[0].buffer_length = sizeof(sbuf) - 1;
	r[0].length = &rlen;
	r[0].is_null = &n0;
	r[1].buffer_type = MYSQL_TYPE_LONGLONG;
	r[1].buffer = &twice;
	r[1].is_null = &n1;
	if (mysql_stmt_bind_param(st, p) || mysql_stmt_execute(st) ||
	    mysql_stmt_bind_result(st, r) || mysql_stmt_fetch(st)) {
		snprintf(out, outsz, "error_%u:%s", mysql_stmt_errno(st), mysql_stmt_error(st));
		for (char *c = out; *c; c++)
			if (*c == ' ')
				*c = '_';
		mysql_stmt_free_result(st);
		return;
	}
	mysql_stmt_free_result(st);
	sbuf[rlen < sizeof(sbuf) ? rlen : sizeof(sbuf) - 1] = '\0';
	snprintf(want, sizeof(want), "tail-%ld", port);
	if (n0 || n1 || strcmp(sbuf, want) || twice != 42)
		snprintf(out, outsz, "wrong:'%s',%lld(expected:'%s',42)", n0 ? "NULL" : sbuf,
			 n1 ? -1 : twice, want);
	else
		snprintf(out, outsz, "ok");
}

int main(int argc, char **argv)
{
	const char *host, *user, *pass, *db;
	unsigned port, secs, interval;
	unsigned int tmo_c = 10, tmo_rw = 30;
	MYSQL *m;
	MYSQL_STMT *s1, *s2;
	static const char q1[] = "SELECT ? + 1, @@port, DATABASE()";
	static const char q2[] = "SELECT CONCAT(?, '-', @@port), ? * 2";
	unsigned long n = 0, changes = 0, cap = 1 << 16;
	long first_port = 0, last_port = 0, prt = 0;
	double *lat, max_ms = 0, p50 = 0, t_end;
	char s2res[256] = "not-run", after[256] = "not-run";
	unsigned long s1_id;
	int consecutive_errors = 0;

	if (argc != 8) {
		fprintf(stderr, "usage: %s HOST PORT USER PASSWORD DB SECONDS INTERVAL_MS\n", argv[0]);
		return 2;
	}
	host = argv[1];
	port = (unsigned)atoi(argv[2]);
	user = argv[3];
	pass = argv[4];
	db = argv[5];
	secs = (unsigned)atoi(argv[6]);
	interval = (unsigned)atoi(argv[7]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	t_start = now_s();
	lat = calloc(cap, sizeof(*lat));
	m = mysql_init(NULL);
	if (!m || !lat) {
		printf("error t=0 n=0 what=init errno=0 sqlstate=- msg=out of memory\n");
		return 2;
	}
	mysql_optionsv(m, MYSQL_OPT_CONNECT_TIMEOUT, &tmo_c);
	mysql_optionsv(m, MYSQL_OPT_READ_TIMEOUT, &tmo_rw);
	mysql_optionsv(m, MYSQL_OPT_WRITE_TIMEOUT, &tmo_rw);
	if (!mysql_real_connect(m, host, user, pass, db, port, NULL, 0)) {
		printf("error t=%.3f n=0 what=connect errno=%u sqlstate=%s msg=%s\n", now_s() - t_start,
		       mysql_errno(m), mysql_sqlstate(m), mysql_error(m));
		return 2;
	}
	s1 = mysql_stmt_init(m);
	s2 = mysql_stmt_init(m);
	if (!s1 || !s2) {
		printf("error t=0 n=0 what=stmt_init errno=%u sqlstate=%s msg=%s\n",
		       mysql_errno(m), mysql_sqlstate(m), mysql_error(m));
		return 2;
	}
	if (mysql_stmt_prepare(s1, q1, sizeof(q1) - 1)) {
		report_stmt_error(0, "prepare_s1", s1);
		return 2;
	}
	if (mysql_stmt_prepare(s2, q2, sizeof(q2) - 1)) {
		report_stmt_error(0, "prepare_s2", s2);
		return 2;
	}
	s1_id = s1->stmt_id;
	if (run_s1(s1, 0, 1000, db, &first_port)) {
		printf("error t=%.3f n=0 what=first_execute errno=0 sqlstate=- msg=see above\n",
		       now_s() - t_start);
		return 2;
	}
	last_port = first_port;
	printf("ready id=%lu port=%ld stmt=%lu\n", mysql_thread_id(m), first_port, s1_id);

	t_end = now_s() + secs;
	while (now_s() < t_end) {
		double t0 = now_s(), ms;
		int rc;

		n++;
		rc = run_s1(s1, n, (long long)n * 7 + 1000, db, &prt);
		ms = (now_s() - t0) * 1000.0;
		if (n <= cap)
			lat[n - 1] = ms;
		if (ms > max_ms)
			max_ms = ms;
		if (rc < 0) {
			/* a lost connection fails every later execute: stop soon */
			if (++consecutive_errors >= 50)
				break;
		} else {
			consecutive_errors = 0;
		}
		if (rc == 0 && prt != last_port) {
			changes++;
			printf("port t=%.3f n=%lu from=%ld to=%ld ms=%.3f\n", now_s() - t_start, n,
			       last_port, prt, ms);
			last_port = prt;
		}
		if (interval)
			msleep(interval);
	}
	run_s2(s2, last_port, s2res, sizeof(s2res));
	if (run_s1(s1, n + 1, 5, db, &prt) == 0)
		snprintf(after, sizeof(after), prt == last_port ? "ok" : "port-changed:%ld", prt);
	else
		snprintf(after, sizeof(after), "failed");
	if (n) {
		unsigned long k = n < cap ? n : cap;

		qsort(lat, k, sizeof(*lat), cmp_double);
		p50 = lat[k / 2];
	}
	printf("done execs=%lu errors=%u wrong=%u changes=%lu first_port=%ld last_port=%ld "
	       "max_ms=%.3f p50_ms=%.3f s2=%s stmt=%lu after=%s\n",
	       n, g_errors, g_wrong, changes, first_port, last_port, max_ms, p50, s2res,
	       (unsigned long)s1->stmt_id, after);
	mysql_stmt_close(s1);
	mysql_stmt_close(s2);
	mysql_close(m);
	free(lat);
	return g_errors || g_wrong ? 1 : 0;
}
