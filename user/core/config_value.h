/* config_value.h — parsers of the configuration's value syntaxes (see
 * config_value.c). Reasons are written to err (errsz bytes) and start
 * with the quoted value; nothing is printed. */
#ifndef SHUNT_CONFIG_VALUE_H
#define SHUNT_CONFIG_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include "core/config_types.h"

/* Copies src when it fits in dstsz (with its NUL); false otherwise. */
bool cfgv_copy_str(char *dst, size_t dstsz, const char *src);
/* Listener and pool names: 1..63 of [A-Za-z0-9_.-]. */
bool cfgv_ident(const char *s);
/* User names: 1..63 bytes, no whitespace, control characters or ':'. */
bool cfgv_user_name(const char *s, size_t n);

/* A whole decimal number in [min, max]; with_suffix also takes k/K
 * (x1024) or m/M (x1048576). No sign, spaces or junk. 0 or -EINVAL. */
int cfgv_num(const char *s, unsigned long long min, unsigned long long max,
	     bool with_suffix, unsigned long long *out, char *err, size_t errsz);
/* A plain decimal fraction (0.2, 1) in [min, max]. 0 or -EINVAL. */
int cfgv_decimal(const char *s, double min, double max, double *out, char *err, size_t errsz);
/* "on" -> 1, "off" -> 0. 0 or -EINVAL. */
int cfgv_on_off(const char *v, int *out, char *err, size_t errsz);

/* "HOST:PORT" or "[V6]:PORT", resolved with getaddrinfo (first result).
 * *out is written only on success. 0 or -EINVAL. */
int cfgv_addr(const char *s, struct cfg_addr *out, char *err, size_t errsz);
/* cfgv_addr without the reason. 0 or -EINVAL. */
int config_parse_addr(const char *s, struct cfg_addr *out);
/* Same family, address and port (both resolved). */
bool cfgv_addr_equal(const struct cfg_addr *a, const struct cfg_addr *b);
/* A backend spec "HOST:PORT [weight=N]". 0 or -EINVAL. */
int cfgv_backend(const char *s, struct cfg_backend *out, char *err, size_t errsz);

/* Sets a user's stage-2 hash from a plain password ("" = no password). */
void cfgv_user_plain(struct cfg_user *u, const char *pw);
/* A spec that is "*" + 40 hex digits sets the stage-2 hash as in
 * mysql.user; anything else is a plain password. 0, or -EINVAL for NULL. */
int config_set_user_password(struct cfg_user *u, const char *spec);

#endif
