/* test_auth.c — mysql_native_password: known vectors, round trips, refusals,
 * and the scramble generator. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include "test.h"
#include "mysql/auth.h"

static void hex_to_bytes(const char *hex, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		sscanf(hex + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
}

static void stage2_of(const char *pw, uint8_t stage2[AUTH_SHA1_LEN])
{
	uint8_t s1[AUTH_SHA1_LEN];

	auth_stage1_from_password(pw, strlen(pw), s1);
	auth_stage2_from_stage1(s1, stage2);
}

/* SHA1(SHA1("password")) is the well-known mysql.user value
 * "*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19". */
static void test_known_stage2_password(void)
{
	uint8_t got[AUTH_SHA1_LEN], want[AUTH_SHA1_LEN], parsed[AUTH_SHA1_LEN];

	stage2_of("password", got);
	hex_to_bytes("2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19", want, sizeof(want));
	CHECK_MEM(got, want, AUTH_SHA1_LEN);
	CHECK_EQ(auth_parse_stage2_hex("*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19", parsed), 0);
	CHECK_MEM(parsed, want, AUTH_SHA1_LEN);
	CHECK_EQ(auth_parse_stage2_hex("*2470c0c06dee42fd1618bb99005adca2ec9d1e19", parsed), 0);
	CHECK_MEM(parsed, want, AUTH_SHA1_LEN);
}

/* Cross-checked against a real server, MariaDB 10.11.19 (Debian 12):
 *   SELECT PASSWORD('secret')  -> *14E65567ABDB5135D0CFD9A70B3032C179A49EE7
 *   SELECT SHA1('secret')      -> e5e9fa1ba31ecd1ae84f75caaa474f3a663f05f4
 *   SELECT SHA1(CONCAT('0123456789abcdefghij',
 *                      UNHEX('14E65567ABDB5135D0CFD9A70B3032C179A49EE7')))
 *                              -> 102339e810c1ec2916fa087c28805154b20cac7c
 * so the token for that scramble is their XOR:
 *                                 f5cac3f3b3df2133feb57db682c71e6ed433a988 */
static void test_mariadb_vector_secret(void)
{
	const uint8_t *scramble = (const uint8_t *)"0123456789abcdefghij";
	uint8_t s1[AUTH_SHA1_LEN], s2[AUTH_SHA1_LEN], want[AUTH_SHA1_LEN];
	uint8_t token[AUTH_SHA1_LEN], got1[AUTH_SHA1_LEN], parsed[AUTH_SHA1_LEN];

	auth_stage1_from_password("secret", 6, s1);
	hex_to_bytes("e5e9fa1ba31ecd1ae84f75caaa474f3a663f05f4", want, sizeof(want));
	CHECK_MEM(s1, want, AUTH_SHA1_LEN);

	auth_stage2_from_stage1(s1, s2);
	CHECK_EQ(auth_parse_stage2_hex("*14E65567ABDB5135D0CFD9A70B3032C179A49EE7", parsed), 0);
	CHECK_MEM(s2, parsed, AUTH_SHA1_LEN);

	auth_native_token(scramble, s1, token);
	hex_to_bytes("f5cac3f3b3df2133feb57db682c71e6ed433a988", want, sizeof(want));
	CHECK_MEM(token, want, AUTH_SHA1_LEN);

	CHECK_EQ(auth_native_verify(scramble, token, sizeof(token), parsed, got1), 0);
	CHECK_MEM(got1, s1, AUTH_SHA1_LEN);
}

static void test_round_trip_recovers_stage1(void)
{
	const uint8_t scramble[20] = "!#%&()*+,-./0123456";  /* 19 chars + NUL = 20 bytes */
	uint8_t s1[AUTH_SHA1_LEN], s2[AUTH_SHA1_LEN], token[AUTH_SHA1_LEN];
	uint8_t out[AUTH_SHA1_LEN];

	auth_stage1_from_password("hunter2", 7, s1);
	auth_stage2_from_stage1(s1, s2);
	auth_native_token(scramble, s1, token);
	memset(out, 0, sizeof(out));
	CHECK_EQ(auth_native_verify(scramble, token, AUTH_SHA1_LEN, s2, out), 0);
	CHECK_MEM(out, s1, AUTH_SHA1_LEN);
}

static void test_wrong_password_fails(void)
{
	const uint8_t *scramble = (const uint8_t *)"abcdefghijklmnopqrst";
	uint8_t s1[AUTH_SHA1_LEN], s2[AUTH_SHA1_LEN], bad1[AUTH_SHA1_LEN];
	uint8_t token[AUTH_SHA1_LEN], out[AUTH_SHA1_LEN], before[AUTH_SHA1_LEN];

	auth_stage1_from_password("right", 5, s1);
	auth_stage2_from_stage1(s1, s2);
	auth_stage1_from_password("wrong", 5, bad1);
	auth_native_token(scramble, bad1, token);
	memset(out, 0xAA, sizeof(out));
	memcpy(before, out, sizeof(out));
	CHECK_EQ(auth_native_verify(scramble, token, AUTH_SHA1_LEN, s2, out), -EACCES);
	CHECK_MEM(out, before, AUTH_SHA1_LEN);          /* untouched on failure */

	/* the right token against a different scramble fails too */
	auth_native_token(scramble, s1, token);
	CHECK_EQ(auth_native_verify((const uint8_t *)"ABCDEFGHIJKLMNOPQRST", token,
				    AUTH_SHA1_LEN, s2, out), -EACCES);
	/* one flipped bit */
	token[7] ^= 0x01;
	CHECK_EQ(auth_native_verify(scramble, token, AUTH_SHA1_LEN, s2, out), -EACCES);
}

static void test_wrong_token_length_fails(void)
{
	const uint8_t *scramble = (const uint8_t *)"abcdefghijklmnopqrst";
	uint8_t s1[AUTH_SHA1_LEN], s2[AUTH_SHA1_LEN], token[AUTH_SHA1_LEN + 1], out[AUTH_SHA1_LEN];

	auth_stage1_from_password("pw", 2, s1);
	auth_stage2_from_stage1(s1, s2);
	auth_native_token(scramble, s1, token);
	token[AUTH_SHA1_LEN] = 0;
	CHECK_EQ(auth_native_verify(scramble, token, 0, s2, out), -EACCES);
	CHECK_EQ(auth_native_verify(scramble, token, 19, s2, out), -EACCES);
	CHECK_EQ(auth_native_verify(scramble, token, 21, s2, out), -EACCES);
	CHECK_EQ(auth_native_verify(scramble, token, 20, s2, out), 0);
}

static void test_parse_stage2_hex_rejects(void)
{
	uint8_t s2[AUTH_SHA1_LEN], keep[AUTH_SHA1_LEN];

	memset(s2, 0x55, sizeof(s2));
	memcpy(keep, s2, sizeof(s2));
	CHECK_EQ(auth_parse_stage2_hex("2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19", s2), -EINVAL);
	CHECK_EQ(auth_parse_stage2_hex("*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E1", s2), -EINVAL);
	CHECK_EQ(auth_parse_stage2_hex("*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E199", s2), -EINVAL);
	CHECK_EQ(auth_parse_stage2_hex("*2470C0C06DEE42FD1618BB99005ADCA2EC9D1EG9", s2), -EINVAL);
	CHECK_EQ(auth_parse_stage2_hex("", s2), -EINVAL);
	CHECK_EQ(auth_parse_stage2_hex("*", s2), -EINVAL);
	CHECK_MEM(s2, keep, AUTH_SHA1_LEN);
}

static void test_scramble_printable_and_random(void)
{
	uint8_t a[20], b[20];

	CHECK_EQ(auth_random_scramble(a, sizeof(a)), 0);
	CHECK_EQ(auth_random_scramble(b, sizeof(b)), 0);
	CHECK(memcmp(a, b, sizeof(a)) != 0);
	for (size_t i = 0; i < sizeof(a); i++) {
		CHECK(a[i] != 0 && a[i] != '$' && a[i] >= 0x21 && a[i] <= 0x7e);
		CHECK(b[i] != 0 && b[i] != '$' && b[i] >= 0x21 && b[i] <= 0x7e);
	}
	/* many bytes: still never NUL or '$', and the range is actually used */
	uint8_t big[4096];
	int seen_lo = 0, seen_hi = 0, bad = 0;
	CHECK_EQ(auth_random_scramble(big, sizeof(big)), 0);
	for (size_t i = 0; i < sizeof(big); i++) {
		bad += big[i] < 0x21 || big[i] > 0x7e || big[i] == '$';
		seen_lo |= big[i] == 0x21;
		seen_hi |= big[i] == 0x7e;
	}
	CHECK_EQ(bad, 0);
	CHECK(seen_lo && seen_hi);
	CHECK_EQ(auth_random_scramble(big, 0), 0);
}

static void test_wipe(void)
{
	uint8_t buf[32];
	uint8_t zero[32] = { 0 };

	memset(buf, 0xFF, sizeof(buf));
	auth_wipe(buf, sizeof(buf));
	CHECK_MEM(buf, zero, sizeof(buf));
	auth_wipe(NULL, 0);
}

int main(void)
{
	RUN(test_known_stage2_password);
	RUN(test_mariadb_vector_secret);
	RUN(test_round_trip_recovers_stage1);
	RUN(test_wrong_password_fails);
	RUN(test_wrong_token_length_fails);
	RUN(test_parse_stage2_hex_rejects);
	RUN(test_scramble_printable_and_random);
	RUN(test_wipe);
	return TEST_SUMMARY();
}
