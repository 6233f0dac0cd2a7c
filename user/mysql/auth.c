/* auth.c — mysql_native_password on OpenSSL 3's EVP interface.
 *
 * Only SHA-1 and XOR are involved (see auth.h). All intermediate secrets
 * live on the stack and are wiped with OPENSSL_cleanse before returning. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include "mysql/auth.h"

/* SHA-1 of len bytes. EVP_Digest only fails when it cannot allocate its
 * context; the auth API has no error path for that (a process that cannot
 * allocate 200 bytes is lost anyway), so this aborts rather than hand out
 * an uninitialised digest. */
static void sha1(const void *data, size_t len, uint8_t out[AUTH_SHA1_LEN])
{
	unsigned int outlen = 0;

	if (!data)
		data = "";
	if (EVP_Digest(data, len, out, &outlen, EVP_sha1(), NULL) != 1 ||
	    outlen != AUTH_SHA1_LEN)
		abort();
}

void auth_stage1_from_password(const char *pw, size_t len, uint8_t stage1[AUTH_SHA1_LEN])
{
	sha1(pw, len, stage1);
}

void auth_stage2_from_stage1(const uint8_t stage1[AUTH_SHA1_LEN], uint8_t stage2[AUTH_SHA1_LEN])
{
	sha1(stage1, AUTH_SHA1_LEN, stage2);
}

static int hex_val(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Parses exactly "*" + 40 hex digits (NUL-terminated, nothing after).
 * Writes stage2 only on success. Returns 0 or -EINVAL. */
int auth_parse_stage2_hex(const char *s, uint8_t stage2[AUTH_SHA1_LEN])
{
	uint8_t tmp[AUTH_SHA1_LEN];

	if (!s || s[0] != '*' || strlen(s) != 1 + 2 * AUTH_SHA1_LEN)
		return -EINVAL;
	for (size_t i = 0; i < AUTH_SHA1_LEN; i++) {
		int hi = hex_val(s[1 + 2 * i]), lo = hex_val(s[2 + 2 * i]);
		if (hi < 0 || lo < 0) {
			OPENSSL_cleanse(tmp, sizeof(tmp));
			return -EINVAL;
		}
		tmp[i] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(stage2, tmp, AUTH_SHA1_LEN);
	OPENSSL_cleanse(tmp, sizeof(tmp));
	return 0;
}

/* SHA1(scramble[0..20) || stage2): the mask XORed onto stage1. */
static void native_mask(const uint8_t *scramble, const uint8_t stage2[AUTH_SHA1_LEN],
			uint8_t mask[AUTH_SHA1_LEN])
{
	uint8_t buf[2 * AUTH_SHA1_LEN];

	memcpy(buf, scramble, AUTH_SHA1_LEN);
	memcpy(buf + AUTH_SHA1_LEN, stage2, AUTH_SHA1_LEN);
	sha1(buf, sizeof(buf), mask);
	OPENSSL_cleanse(buf, sizeof(buf));
}

/* token = stage1 XOR SHA1(scramble || SHA1(stage1)); scramble is the 20
 * bytes of the server's auth-plugin-data (without its trailing NUL). */
void auth_native_token(const uint8_t *scramble, const uint8_t stage1[AUTH_SHA1_LEN],
		       uint8_t token[AUTH_SHA1_LEN])
{
	uint8_t stage2[AUTH_SHA1_LEN], mask[AUTH_SHA1_LEN];

	sha1(stage1, AUTH_SHA1_LEN, stage2);
	native_mask(scramble, stage2, mask);
	for (size_t i = 0; i < AUTH_SHA1_LEN; i++)
		token[i] = stage1[i] ^ mask[i];
	OPENSSL_cleanse(stage2, sizeof(stage2));
	OPENSSL_cleanse(mask, sizeof(mask));
}

/* Recovers candidate = token XOR SHA1(scramble || stage2) and accepts it
 * when SHA1(candidate) == stage2 (CRYPTO_memcmp: constant time). Any
 * token_len other than 20 is refused, including 0: whether an empty token
 * is fine for an empty-password account is the caller's decision.
 * Returns 0 and writes stage1_out, or -EACCES (stage1_out untouched). */
int auth_native_verify(const uint8_t *scramble, const uint8_t *token, size_t token_len,
		       const uint8_t stage2[AUTH_SHA1_LEN], uint8_t stage1_out[AUTH_SHA1_LEN])
{
	uint8_t mask[AUTH_SHA1_LEN], cand[AUTH_SHA1_LEN], check[AUTH_SHA1_LEN];
	int ret = -EACCES;

	if (!scramble || !token || token_len != AUTH_SHA1_LEN)
		return -EACCES;
	native_mask(scramble, stage2, mask);
	for (size_t i = 0; i < AUTH_SHA1_LEN; i++)
		cand[i] = token[i] ^ mask[i];
	sha1(cand, sizeof(cand), check);
	if (CRYPTO_memcmp(check, stage2, AUTH_SHA1_LEN) == 0) {
		memcpy(stage1_out, cand, AUTH_SHA1_LEN);
		ret = 0;
	}
	OPENSSL_cleanse(mask, sizeof(mask));
	OPENSSL_cleanse(cand, sizeof(cand));
	OPENSSL_cleanse(check, sizeof(check));
	return ret;
}

/* Random bytes from RAND_bytes mapped onto the 93 printable characters
 * 0x21..0x7e other than '$' (byte % 93, then skip '$'). The modulo leaves
 * a bias of under 1/93 per character, which is irrelevant for a challenge
 * that only has to be unpredictable, not uniform. No NUL and no '$', as
 * MySQL/MariaDB servers guarantee, because some clients treat the
 * scramble as a C string and '$' separates fields in some auth formats.
 * Returns 0, or -EIO when the RNG fails (buf is then zeroed). */
int auth_random_scramble(uint8_t *buf, size_t len)
{
	if (len == 0)
		return 0;
	if (len > INT_MAX || RAND_bytes(buf, (int)len) != 1) {
		memset(buf, 0, len);
		return -EIO;
	}
	for (size_t i = 0; i < len; i++) {
		uint8_t c = (uint8_t)(0x21 + buf[i] % 93);
		if (c >= '$')
			c++;
		buf[i] = c;
	}
	return 0;
}

void auth_wipe(void *p, size_t len)
{
	if (p && len)
		OPENSSL_cleanse(p, len);
}

int auth_token_empty(const uint8_t *token, size_t token_len)
{
	return token_len == 0 || (token_len == 1 && token[0] == 0);
}

int auth_check_account(int account_empty, const uint8_t stage2[AUTH_SHA1_LEN],
		       const uint8_t *scramble, const uint8_t *token, size_t token_len,
		       uint8_t stage1_out[AUTH_SHA1_LEN])
{
	int empty = auth_token_empty(token, token_len);

	if (account_empty)
		return empty ? 0 : -EACCES;
	if (empty)
		return -EACCES;
	return auth_native_verify(scramble, token, token_len, stage2, stage1_out);
}
