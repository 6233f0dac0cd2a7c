/* test.h — a tiny assertion harness for the host unit tests.
 *
 * Each check that fails prints file:line and the expression; each test case
 * prints one "PASS: name" or "FAIL: name" line, and main() ends with the
 * "N passed, N failed" line that tools/run-tests.sh adds up. */
#ifndef SHUNT_TEST_H
#define SHUNT_TEST_H

#include <stdio.h>
#include <string.h>
#include <inttypes.h>

static int t_failed_checks;   /* failed checks in the current case */
static int t_cases_passed, t_cases_failed;

#define CHECK(cond) do { \
	if (!(cond)) { \
		t_failed_checks++; \
		fprintf(stderr, "  %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
	} } while (0)

#define CHECK_EQ(a, b) do { \
	long long _a = (long long)(a), _b = (long long)(b); \
	if (_a != _b) { \
		t_failed_checks++; \
		fprintf(stderr, "  %s:%d: %s == %lld, expected %s == %lld\n", \
			__FILE__, __LINE__, #a, _a, #b, _b); \
	} } while (0)

#define CHECK_MEM(a, b, n) do { \
	if (memcmp((a), (b), (n)) != 0) { \
		t_failed_checks++; \
		fprintf(stderr, "  %s:%d: memory differs: %s vs %s (%zu bytes)\n", \
			__FILE__, __LINE__, #a, #b, (size_t)(n)); \
	} } while (0)

#define CHECK_STR(slice, cstr) do { \
	size_t _n = strlen(cstr); \
	if ((slice).len != _n || (_n && memcmp((slice).p, (cstr), _n) != 0)) { \
		t_failed_checks++; \
		fprintf(stderr, "  %s:%d: %s = '%.*s', expected '%s'\n", __FILE__, __LINE__, \
			#slice, (int)(slice).len, (const char *)(slice).p, (cstr)); \
	} } while (0)

#define RUN(fn) do { \
	t_failed_checks = 0; \
	fn(); \
	if (t_failed_checks) { t_cases_failed++; printf("FAIL: %s\n", #fn); } \
	else { t_cases_passed++; printf("PASS: %s\n", #fn); } \
	fflush(stdout); \
	} while (0)

#define TEST_SUMMARY() (printf("%d passed, %d failed\n", t_cases_passed, t_cases_failed), \
			t_cases_failed ? 1 : 0)

#endif
