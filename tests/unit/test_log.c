/* test_log.c — every log line is one line: bytes from clients, backends or
 * files (a user name with a newline, a terminal escape) are escaped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "test.h"
#include "util/log.h"

/* Runs one log_msg with stderr sent to a file; returns what was written. */
static char *logged(const char *fmt, const char *arg)
{
	static char out[8192];
	FILE *f = tmpfile();
	int saved = dup(STDERR_FILENO);

	fflush(stderr);
	dup2(fileno(f), STDERR_FILENO);
	log_msg(LOG_WARN, fmt, arg);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(f);
	size_t n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	fclose(f);
	return out;
}

static int lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void test_newline_in_a_name(void)
{
	char *out = logged("conn=7 access denied for user '%s'",
			   "evil\n2026-12-02T10:00:00.000Z INFO conn=1 forged line");
	CHECK_EQ(lines(out), 1);
	CHECK(strstr(out, "user 'evil\\x0a2026-12-02T10:00:00.000Z INFO conn=1 forged line'\n") != NULL);
	out = logged("%s", "a\rb\x1b[31mc\x7f\td");
	CHECK_EQ(lines(out), 1);
	CHECK(strstr(out, " a\\x0db\\x1b[31mc\\x7f\\x09d\n") != NULL);
}

/* UTF-8 stays as it is; one trailing newline (libraries add it) is dropped,
 * a second one is shown. */
static void test_utf8_and_trailing_newline(void)
{
	char *out = logged("user %s", "J\xc3\xbcrgen\n");
	CHECK(strstr(out, " user J\xc3\xbcrgen\n") != NULL && lines(out) == 1);
	out = logged("%s", "two\n\n");
	CHECK(strstr(out, " two\\x0a\n") != NULL && lines(out) == 1);
}

/* A message that does not fit is cut, ends in "...", and is still one line
 * (escapes count against the room). */
static void test_long_message(void)
{
	char *big = malloc(6000);
	memset(big, '\n', 5999);
	big[5999] = '\0';
	char *out = logged("%s", big);
	CHECK_EQ(lines(out), 1);
	CHECK(strlen(out) <= 2048);
	CHECK(strstr(out, "...\n") != NULL);
	memset(big, 'x', 5999);
	out = logged("%s", big);
	CHECK_EQ(lines(out), 1);
	CHECK(strstr(out, "xxx...\n") != NULL);
	free(big);
}

int main(void)
{
	RUN(test_newline_in_a_name);
	RUN(test_utf8_and_trailing_newline);
	RUN(test_long_message);
	return TEST_SUMMARY();
}
