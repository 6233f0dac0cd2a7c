/* auth.h — mysql_native_password.
 *
 *   stage1 = SHA1(password)            (what shunt recovers and keeps)
 *   stage2 = SHA1(stage1)              (what mysql.user stores as "*HEX")
 *   token  = stage1 XOR SHA1(scramble || stage2)
 *
 * Verifying a client's token against stage2 yields stage1, which is all
 * shunt needs to compute a token for any backend scramble later. */
#ifndef SHUNT_AUTH_H
#define SHUNT_AUTH_H

#include <stddef.h>
#include <stdint.h>

#define AUTH_SHA1_LEN 20
#define AUTH_NATIVE_PLUGIN "mysql_native_password"

/* stage1/stage2 from a plain password. */
void auth_stage1_from_password(const char *pw, size_t len, uint8_t stage1[AUTH_SHA1_LEN]);
void auth_stage2_from_stage1(const uint8_t stage1[AUTH_SHA1_LEN], uint8_t stage2[AUTH_SHA1_LEN]);

/* Parses "*" + 40 hex digits (either case). 0 or -EINVAL. */
int auth_parse_stage2_hex(const char *s, uint8_t stage2[AUTH_SHA1_LEN]);

/* Computes the client token for scramble (20 bytes) from stage1. */
void auth_native_token(const uint8_t *scramble, const uint8_t stage1[AUTH_SHA1_LEN],
		       uint8_t token[AUTH_SHA1_LEN]);

/* Checks a client token; on success returns 0 and writes the recovered
 * stage1, otherwise -EACCES. Compares in constant time. */
int auth_native_verify(const uint8_t *scramble, const uint8_t *token, size_t token_len,
		       const uint8_t stage2[AUTH_SHA1_LEN], uint8_t stage1_out[AUTH_SHA1_LEN]);

/* Whether a login's auth response means "no password" (empty, or the
 * single NUL some clients send). */
int auth_token_empty(const uint8_t *token, size_t token_len);
/* Checks a login against an account: one without a password must get an
 * empty token; one with a password a matching native token (stage1_out
 * then holds the recovered SHA1(password)). 0 or -EACCES. */
int auth_check_account(int account_empty, const uint8_t stage2[AUTH_SHA1_LEN],
		       const uint8_t *scramble, const uint8_t *token, size_t token_len,
		       uint8_t stage1_out[AUTH_SHA1_LEN]);

/* Fills buf with len random scramble bytes (printable, no NUL or '$' as
 * servers do). 0 or -EIO. */
int auth_random_scramble(uint8_t *buf, size_t len);

/* Wipes secrets so the compiler cannot elide it. */
void auth_wipe(void *p, size_t len);

#endif
