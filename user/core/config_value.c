/* config_value.c — the value syntaxes of shunt's configuration: numbers,
 * decimals, on/off, addresses, names, backend specs and passwords. Each
 * parser checks the whole value and, on failure, writes a reason that
 * starts with the value quoted ('12abc' is not a number), so that the
 * caller only prefixes where it came from (a key, a flag). */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include "mysql/auth.h"
#include "core/config_value.h"

#define WEIGHT_MAX 1000ULL

bool cfgv_copy_str(char *dst, size_t dstsz, const char *src)
{
	size_t n = strlen(src);

	if (n >= dstsz)
		return false;
	memcpy(dst, src, n + 1);
	return true;
}

/* Listener and pool names: 1..63 of [A-Za-z0-9_.-]. */
bool cfgv_ident(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= CFG_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_.-", *s))
			return false;
	return true;
}

/* User names: 1..63 bytes, no whitespace, control characters or ':'
 * (':' separates name and password in --user). UTF-8 is fine. */
bool cfgv_user_name(const char *s, size_t n)
{
	if (n == 0 || n >= CFG_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch <= 0x20 || ch == 0x7f || ch == ':')
			return false;
	}
	return true;
}

/* Parses a whole decimal number in [min, max]; with_suffix also accepts a
 * trailing k/K (x1024) or m/M (x1048576). No sign, no spaces, no junk.
 * Returns 0, or -EINVAL with a reason in err. */
int cfgv_num(const char *s, unsigned long long min, unsigned long long max,
		     bool with_suffix, unsigned long long *out, char *err, size_t errsz)
{
	unsigned long long v, mult = 1;
	char *end;

	if (!isdigit((unsigned char)s[0])) {
		snprintf(err, errsz, "'%s' is not a number", s);
		return -EINVAL;
	}
	errno = 0;
	v = strtoull(s, &end, 10);
	if (with_suffix && (*end == 'k' || *end == 'K')) {
		mult = 1024;
		end++;
	} else if (with_suffix && (*end == 'm' || *end == 'M')) {
		mult = 1024 * 1024;
		end++;
	}
	if (*end != '\0') {
		snprintf(err, errsz, "'%s' is not a number%s", s,
			 with_suffix ? " (optionally followed by k or m)" : "");
		return -EINVAL;
	}
	if (errno == ERANGE || v > ULLONG_MAX / mult || v * mult < min || v * mult > max) {
		snprintf(err, errsz, "'%s' is out of range (%llu..%llu)", s, min, max);
		return -EINVAL;
	}
	*out = v * mult;
	return 0;
}

/* config_parse_addr with a reason for the failure in err. */
int cfgv_addr(const char *s, struct cfg_addr *out, char *err, size_t errsz)
{
	char host[CFG_ADDR_MAX], port_s[CFG_ADDR_MAX];
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	unsigned long long port;
	const char *colon;
	size_t hlen;
	int r;

	if (strlen(s) >= CFG_ADDR_MAX) {
		snprintf(err, errsz, "address is longer than %d characters", CFG_ADDR_MAX - 1);
		return -EINVAL;
	}
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');
		if (!rb || rb[1] != ':') {
			snprintf(err, errsz, "'%s': expected [IPV6]:PORT", s);
			return -EINVAL;
		}
		hlen = (size_t)(rb - s - 1);
		memcpy(host, s + 1, hlen);
		colon = rb + 1;
		hints.ai_family = AF_INET6;
		hints.ai_flags |= AI_NUMERICHOST;
	} else {
		colon = strrchr(s, ':');
		if (!colon) {
			snprintf(err, errsz, "'%s': expected HOST:PORT", s);
			return -EINVAL;
		}
		hlen = (size_t)(colon - s);
		if (memchr(s, ':', hlen)) {
			snprintf(err, errsz, "'%s': write IPv6 addresses as [ADDR]:PORT", s);
			return -EINVAL;
		}
		memcpy(host, s, hlen);
		hints.ai_family = AF_UNSPEC;
	}
	host[hlen] = '\0';
	if (hlen == 0) {
		snprintf(err, errsz, "'%s': missing host", s);
		return -EINVAL;
	}
	strcpy(port_s, colon + 1);
	if (cfgv_num(port_s, 1, 65535, false, &port, err, errsz) < 0) {
		snprintf(err, errsz, "'%s': port must be a number 1..65535", s);
		return -EINVAL;
	}
	r = getaddrinfo(host, port_s, &hints, &res);
	if (r != 0 || !res) {
		snprintf(err, errsz, "'%s': cannot resolve '%s': %s", s, host,
			 r ? gai_strerror(r) : "no address");
		return -EINVAL;
	}
	if (res->ai_addrlen > sizeof(out->sa)) {
		freeaddrinfo(res);
		snprintf(err, errsz, "'%s': unsupported address", s);
		return -EINVAL;
	}
	memset(out, 0, sizeof(*out));
	strcpy(out->text, s);
	memcpy(&out->sa, res->ai_addr, res->ai_addrlen);
	out->salen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/* Parses "HOST:PORT" or "[V6]:PORT" (numeric port 1..65535) and resolves
 * the host with getaddrinfo (first result). *out is written only on
 * success. Returns 0 or -EINVAL; prints nothing. */
int config_parse_addr(const char *s, struct cfg_addr *out)
{
	char err[CFG_ADDR_MAX + 128];

	return cfgv_addr(s, out, err, sizeof(err));
}

bool cfgv_addr_equal(const struct cfg_addr *a, const struct cfg_addr *b)
{
	if (a->salen == 0 || b->salen == 0 || a->sa.ss_family != b->sa.ss_family)
		return false;
	if (a->sa.ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)&a->sa, *y = (const void *)&b->sa;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->sa.ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)&a->sa, *y = (const void *)&b->sa;
		return x->sin6_port == y->sin6_port && x->sin6_scope_id == y->sin6_scope_id &&
		       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
	}
	return a->salen == b->salen && memcmp(&a->sa, &b->sa, a->salen) == 0;
}

/* Parses a backend spec "HOST:PORT [weight=N]" into *out. */
int cfgv_backend(const char *s, struct cfg_backend *out, char *err, size_t errsz)
{
	char buf[CFG_ADDR_MAX + 64], *tok, *save = NULL;
	unsigned long long w = 1;
	struct cfg_backend b = { .weight = 1 };

	if (!cfgv_copy_str(buf, sizeof(buf), s)) {
		snprintf(err, errsz, "backend spec is too long");
		return -EINVAL;
	}
	tok = strtok_r(buf, " \t", &save);
	if (!tok) {
		snprintf(err, errsz, "expected HOST:PORT [weight=N]");
		return -EINVAL;
	}
	if (cfgv_addr(tok, &b.addr, err, errsz) < 0)
		return -EINVAL;
	tok = strtok_r(NULL, " \t", &save);
	if (tok) {
		char nerr[128];
		if (strncmp(tok, "weight=", 7) != 0) {
			snprintf(err, errsz, "unexpected '%s' after the address (expected weight=N)", tok);
			return -EINVAL;
		}
		if (cfgv_num(tok + 7, 1, WEIGHT_MAX, false, &w, nerr, sizeof(nerr)) < 0) {
			snprintf(err, errsz, "weight: %s", nerr);
			return -EINVAL;
		}
		b.weight = (unsigned)w;
		tok = strtok_r(NULL, " \t", &save);
		if (tok) {
			snprintf(err, errsz, "unexpected '%s' after weight", tok);
			return -EINVAL;
		}
	}
	*out = b;
	return 0;
}

void cfgv_user_plain(struct cfg_user *u, const char *pw)
{
	uint8_t stage1[AUTH_SHA1_LEN];

	if (pw[0] == '\0') {
		memset(u->stage2, 0, sizeof(u->stage2));
		u->empty_password = 1;
		return;
	}
	auth_stage1_from_password(pw, strlen(pw), stage1);
	auth_stage2_from_stage1(stage1, u->stage2);
	auth_wipe(stage1, sizeof(stage1));
	u->empty_password = 0;
}

/* A spec that is "*" + 40 hex digits sets the stage-2 hash directly; any
 * other string (including one that merely starts with '*') is a plain
 * password, and "" makes an account without a password.
 * Returns 0, or -EINVAL for a NULL spec. */
int config_set_user_password(struct cfg_user *u, const char *spec)
{
	if (!u || !spec)
		return -EINVAL;
	if (spec[0] == '*' && auth_parse_stage2_hex(spec, u->stage2) == 0) {
		u->empty_password = 0;
		return 0;
	}
	cfgv_user_plain(u, spec);
	return 0;
}

/* "on" -> 1, "off" -> 0. 0 or -EINVAL with err filled. */
int cfgv_on_off(const char *v, int *out, char *err, size_t errsz)
{
	if (strcmp(v, "on") == 0)
		*out = 1;
	else if (strcmp(v, "off") == 0)
		*out = 0;
	else {
		snprintf(err, errsz, "'%s': expected on or off", v);
		return -EINVAL;
	}
	return 0;
}

/* A plain decimal fraction such as 0.2 or 1 in [min, max]: digits with at
 * most one '.', no sign, exponent, spaces or junk (strtod alone would take
 * "0x1p3", "inf" and " 1"). 0 or -EINVAL with err filled. */
int cfgv_decimal(const char *s, double min, double max, double *out,
			 char *err, size_t errsz)
{
	size_t digits = 0, dots = 0;
	char *end;
	double v;

	for (const char *p = s; *p; p++) {
		if (isdigit((unsigned char)*p))
			digits++;
		else if (*p == '.')
			dots++;
		else
			dots = 2;       /* anything else: refuse */
	}
	if (digits == 0 || dots > 1 || strlen(s) > 32) {
		snprintf(err, errsz, "'%s' is not a decimal number such as 0.2", s);
		return -EINVAL;
	}
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || v < min || v > max) {
		snprintf(err, errsz, "'%s' is out of range (%g..%g)", s, min, max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

