/* config.c — the INI file (libinih), the command line, defaults, validation.
 *
 * libinih does the key = value splitting, comment and whitespace handling.
 * Its handler is not told the line number, so the file is fed to
 * ini_parse_stream() through our own line reader (ini_read_line), which
 * counts lines and also takes over everything that needs a line of its own:
 * section headers (so empty sections, unknown sections and duplicates are
 * reported where they are), syntax errors and over-long lines (libinih only
 * returns the first of those). Every problem is printed as "FILE:LINE: msg"
 * and counted; parsing always continues to the end of the file.
 *
 * Cross-references (listener -> pool) are checked after the command line
 * has been applied, because flags may supply the pool a file refers to. To
 * still point at the right line, config_from_args keeps a "source map" of
 * where each section was defined and hands it to the validator. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <ini.h>
#include "mysql/auth.h"
#include "core/config.h"


#define DEFAULT_NAME          "default"
/* Where problems are printed: stderr, or a reload's message buffer. */
static FILE *err_stream;

static FILE *cfg_err_out(void)
{
	return err_stream ? err_stream : stderr;
}

void config_set_error_stream(FILE *f)
{
	err_stream = f;
}

#define DEFAULT_LISTEN        "127.0.0.1:6033"
#define DEFAULT_ADMIN         "127.0.0.1:6032"
#define DEFAULT_HTTP          "127.0.0.1:6080"
#define MS_MAX                3600000ULL          /* one hour */
#define RELAY_BUFFER_MIN      4096ULL
#define RELAY_BUFFER_MAX      (1ULL << 30)        /* 1 GiB */
#define THREADS_MAX           1024ULL
#define MAX_CONNECTIONS_MAX   1000000ULL
#define WEIGHT_MAX            1000ULL

enum sect_kind { SECT_NONE = 0, SECT_GLOBAL, SECT_LISTENER, SECT_POOL, SECT_USER,
		 SECT_BAD /* header was wrong: its keys are skipped silently */ };

static const char *const sect_names[] = {
	[SECT_NONE] = "", [SECT_GLOBAL] = "global", [SECT_LISTENER] = "listener",
	[SECT_POOL] = "pool", [SECT_USER] = "user", [SECT_BAD] = "",
};

/* Where a section was defined, for messages about it after parsing. */
struct src_entry {
	enum sect_kind kind;
	char name[CFG_NAME_MAX];
	unsigned line;
};

struct src_map {
	const char *path;          /* borrowed; NULL when no file was read */
	struct src_entry *v;
	size_t n;
};

/* State of one config_load_file() run, shared by reader and handler. */
struct parse_ctx {
	struct shunt_config *cfg;
	FILE *f;
	const char *path;
	unsigned lineno;           /* line the reader returned last */
	int errors;
	struct src_map *map;
	char *buf;                 /* getline buffer */
	size_t bufcap;

	/* the section being read */
	enum sect_kind kind;
	char name[CFG_NAME_MAX];
	unsigned sect_line;
	unsigned seen;             /* bit per key of the section's table */
	bool pool_fresh;           /* pool backends replaced by this section yet */
};

/* ---- small helpers ------------------------------------------------------ */

static void __attribute__((format(printf, 3, 4)))
file_err(struct parse_ctx *c, unsigned line, const char *fmt, ...)
{
	va_list ap;

	fprintf(cfg_err_out(), "%s:%u: ", c->path, line);
	va_start(ap, fmt);
	vfprintf(cfg_err_out(), fmt, ap);
	va_end(ap);
	fputc('\n', cfg_err_out());
	c->errors++;
}

static void __attribute__((format(printf, 1, 2))) cli_err(const char *fmt, ...)
{
	va_list ap;

	fputs("shunt: ", cfg_err_out());
	va_start(ap, fmt);
	vfprintf(cfg_err_out(), fmt, ap);
	va_end(ap);
	fputc('\n', cfg_err_out());
}

/* Appends one zeroed element to *arr (n elements of size sz).
 * Returns the new element, or NULL (arr unchanged) when out of memory. */
static void *arr_push(void *arr_p, size_t *n, size_t sz)
{
	void **arr = arr_p;
	char *p = realloc(*arr, (*n + 1) * sz);

	if (!p)
		return NULL;
	*arr = p;
	memset(p + *n * sz, 0, sz);
	return p + (*n)++ * sz;
}

static bool copy_str(char *dst, size_t dstsz, const char *src)
{
	size_t n = strlen(src);

	if (n >= dstsz)
		return false;
	memcpy(dst, src, n + 1);
	return true;
}

/* Listener and pool names: 1..63 of [A-Za-z0-9_.-]. */
static bool valid_ident(const char *s)
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
static bool valid_user_name(const char *s, size_t n)
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
static int parse_num(const char *s, unsigned long long min, unsigned long long max,
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
static int parse_addr(const char *s, struct cfg_addr *out, char *err, size_t errsz)
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
	if (parse_num(port_s, 1, 65535, false, &port, err, errsz) < 0) {
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

	return parse_addr(s, out, err, sizeof(err));
}

static bool addr_equal(const struct cfg_addr *a, const struct cfg_addr *b)
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
static int parse_backend(const char *s, struct cfg_backend *out, char *err, size_t errsz)
{
	char buf[CFG_ADDR_MAX + 64], *tok, *save = NULL;
	unsigned long long w = 1;
	struct cfg_backend b = { .weight = 1 };

	if (!copy_str(buf, sizeof(buf), s)) {
		snprintf(err, errsz, "backend spec is too long");
		return -EINVAL;
	}
	tok = strtok_r(buf, " \t", &save);
	if (!tok) {
		snprintf(err, errsz, "expected HOST:PORT [weight=N]");
		return -EINVAL;
	}
	if (parse_addr(tok, &b.addr, err, errsz) < 0)
		return -EINVAL;
	tok = strtok_r(NULL, " \t", &save);
	if (tok) {
		char nerr[128];
		if (strncmp(tok, "weight=", 7) != 0) {
			snprintf(err, errsz, "unexpected '%s' after the address (expected weight=N)", tok);
			return -EINVAL;
		}
		if (parse_num(tok + 7, 1, WEIGHT_MAX, false, &w, nerr, sizeof(nerr)) < 0) {
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

static void user_set_plain(struct cfg_user *u, const char *pw)
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
	user_set_plain(u, spec);
	return 0;
}

struct cfg_pool *config_find_pool(struct shunt_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_pools; i++)
		if (strcmp(cfg->pools[i].name, name) == 0)
			return &cfg->pools[i];
	return NULL;
}

/* name need not be NUL-terminated (it comes from a login packet). */
const struct cfg_user *config_find_user(const struct shunt_config *cfg,
				       const char *name, size_t len)
{
	if (len >= CFG_NAME_MAX)
		return NULL;
	for (size_t i = 0; i < cfg->n_users; i++) {
		const struct cfg_user *u = &cfg->users[i];
		if (strlen(u->name) == len && memcmp(u->name, name, len) == 0)
			return u;
	}
	return NULL;
}

static struct cfg_listener *find_listener(struct shunt_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_listeners; i++)
		if (strcmp(cfg->listeners[i].name, name) == 0)
			return &cfg->listeners[i];
	return NULL;
}

static struct cfg_user *find_user_mut(struct shunt_config *cfg, const char *name)
{
	return (struct cfg_user *)config_find_user(cfg, name, strlen(name));
}

/* find-or-create helpers: return NULL only when out of memory. */
static struct cfg_pool *get_pool(struct shunt_config *cfg, const char *name)
{
	struct cfg_pool *p = config_find_pool(cfg, name);

	if (!p && (p = arr_push(&cfg->pools, &cfg->n_pools, sizeof(*p))))
		copy_str(p->name, sizeof(p->name), name);
	return p;
}

static struct cfg_listener *get_listener(struct shunt_config *cfg, const char *name)
{
	struct cfg_listener *l = find_listener(cfg, name);

	if (!l && (l = arr_push(&cfg->listeners, &cfg->n_listeners, sizeof(*l))))
		copy_str(l->name, sizeof(l->name), name);
	return l;
}

static struct cfg_user *get_user(struct shunt_config *cfg, const char *name)
{
	struct cfg_user *u = find_user_mut(cfg, name);

	if (!u && (u = arr_push(&cfg->users, &cfg->n_users, sizeof(*u))))
		copy_str(u->name, sizeof(u->name), name);
	return u;
}

static void pool_clear(struct cfg_pool *p)
{
	free(p->backends);
	p->backends = NULL;
	p->n_backends = 0;
}

/* ---- init / free ---------------------------------------------------------- */

void config_init(struct shunt_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->log_level = LOG_INFO;
	cfg->threads = 0;
	cfg->connect_timeout_ms = 2000;
	cfg->backend_login_timeout_ms = 5000;
	cfg->auth_timeout_ms = 10000;
	cfg->relay_buffer = 1024 * 1024;
	cfg->max_connections = 10000;
	strcpy(cfg->server_version, "5.5.5-10.11.0-shunt");
	cfg->fastpath = FASTPATH_AUTO;
	strcpy(cfg->pin_path, "/sys/fs/bpf/shunt");
	cfg->admin_on = 1;
	cfg->http_on = 1;
	config_parse_addr(DEFAULT_ADMIN, &cfg->admin);
	config_parse_addr(DEFAULT_HTTP, &cfg->http);
	strcpy(cfg->admin_user.name, "admin");
	cfg->http_write = 1;
	cfg->health_interval_ms = 2000;
	cfg->health_fail_threshold = 3;
	cfg->migrate_timeout_ms = 10000;
	cfg->rebalance = 0;
	cfg->rebalance_interval_ms = 5000;
	cfg->rebalance_tolerance = 0.2;
	cfg->rebalance_max_moves = 8;
	cfg->rebalance_policy = REBALANCE_PASSIVE;
}

/* Frees all arrays and the path, wiping the users' hashes first, and leaves
 * cfg zeroed (so a second config_free is harmless). */
void config_free(struct shunt_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->n_pools; i++)
		free(cfg->pools[i].backends);
	free(cfg->pools);
	free(cfg->listeners);
	if (cfg->users)
		auth_wipe(cfg->users, cfg->n_users * sizeof(*cfg->users));
	free(cfg->users);
	free(cfg->path);
	memset(cfg, 0, sizeof(*cfg));
}

/* ---- source map ----------------------------------------------------------- */

static const struct src_entry *map_find(const struct src_map *m, enum sect_kind k,
					const char *name)
{
	for (size_t i = 0; m && i < m->n; i++)
		if (m->v[i].kind == k && strcmp(m->v[i].name, name) == 0)
			return &m->v[i];
	return NULL;
}

static int map_add(struct src_map *m, enum sect_kind k, const char *name, unsigned line)
{
	struct src_entry *e = arr_push(&m->v, &m->n, sizeof(*e));

	if (!e)
		return -ENOMEM;
	e->kind = k;
	copy_str(e->name, sizeof(e->name), name);
	e->line = line;
	return 0;
}

static void map_free(struct src_map *m)
{
	free(m->v);
	m->v = NULL;
	m->n = 0;
}

/* ---- sections --------------------------------------------------------------- */

enum { K_LISTEN = 0, K_POOL };
enum { K_PASSWORD = 0, K_PASSWORD_HASH };

/* Checks what a finished section must contain; reported at its header. */
static void section_end(struct parse_ctx *c)
{
	switch (c->kind) {
	case SECT_LISTENER:
		if (!(c->seen & (1u << K_LISTEN)))
			file_err(c, c->sect_line, "[listener %s]: missing 'listen = HOST:PORT'", c->name);
		if (!(c->seen & (1u << K_POOL)))
			file_err(c, c->sect_line, "[listener %s]: missing 'pool = NAME'", c->name);
		break;
	case SECT_USER:
		if (!(c->seen & (1u << K_PASSWORD | 1u << K_PASSWORD_HASH)))
			file_err(c, c->sect_line, "[user %s]: needs 'password' or 'password_hash'",
				 c->name);
		break;
	default:
		break;
	}
	c->kind = SECT_NONE;
}

/* Handles a "[...]" line; inner is the text between the brackets. Sets the
 * current section, creating its object in cfg. A section whose object
 * already exists in cfg from an earlier load is merged into (its keys
 * replace what was there); defining it twice in one file is an error. */
static void section_begin(struct parse_ctx *c, char *inner)
{
	char *type = inner, *name, *end;
	enum sect_kind k = SECT_NONE;
	const struct src_entry *prev;

	c->kind = SECT_BAD;
	c->seen = 0;
	c->sect_line = c->lineno;
	c->name[0] = '\0';

	while (isspace((unsigned char)*type))
		type++;
	end = type + strlen(type);
	while (end > type && isspace((unsigned char)end[-1]))
		*--end = '\0';
	name = type;
	while (*name && !isspace((unsigned char)*name))
		name++;
	if (*name) {
		*name++ = '\0';
		while (isspace((unsigned char)*name))
			name++;
	}

	for (enum sect_kind i = SECT_GLOBAL; i <= SECT_USER; i++)
		if (strcmp(type, sect_names[i]) == 0)
			k = i;
	if (k == SECT_NONE) {
		file_err(c, c->lineno, "unknown section [%s%s%s] (expected global, listener NAME, "
			 "pool NAME or user NAME)", type, *name ? " " : "", name);
		return;
	}
	if (k == SECT_GLOBAL && *name) {
		file_err(c, c->lineno, "[global] takes no name");
		return;
	}
	if ((k == SECT_LISTENER || k == SECT_POOL) && !valid_ident(name)) {
		file_err(c, c->lineno, "[%s%s%s]: %s", type, *name ? " " : "", name,
			 *name ? "names are 1..63 characters of A-Z a-z 0-9 _ . -"
			       : "missing name");
		return;
	}
	if (k == SECT_USER && !valid_user_name(name, strlen(name))) {
		file_err(c, c->lineno, "[user%s%s]: %s", *name ? " " : "", name,
			 *name ? "user names are 1..63 bytes without spaces or ':'"
			       : "missing name");
		return;
	}

	prev = map_find(c->map, k, name);
	if (prev) {
		file_err(c, c->lineno, "duplicate section [%s%s%s] (first defined at line %u)",
			 type, *name ? " " : "", name, prev->line);
		return;
	}
	if (map_add(c->map, k, name, c->lineno) < 0 ||
	    (k == SECT_LISTENER && !get_listener(c->cfg, name)) ||
	    (k == SECT_POOL && !get_pool(c->cfg, name)) ||
	    (k == SECT_USER && !get_user(c->cfg, name))) {
		file_err(c, c->lineno, "out of memory");
		return;
	}
	c->kind = k;
	c->pool_fresh = false;
	copy_str(c->name, sizeof(c->name), name);
}

/* ---- the line reader ---------------------------------------------------------- */

/* libinih's own scan for a delimiter or an inline comment (';' after
 * whitespace), so that we predict exactly which lines it will reject. */
static const char *find_chars_or_comment(const char *s, const char *chars)
{
	bool was_space = false;

	while (*s && !strchr(chars, *s) && !(was_space && *s == ';')) {
		was_space = isspace((unsigned char)*s);
		s++;
	}
	return s;
}

/* fgets-style reader for ini_parse_stream. Reads one whole line, counts
 * it, and hands libinih only what it should see:
 *   - leading whitespace is removed, so an indented key is just a key
 *     (libinih would take it as a continuation of the previous value);
 *   - section headers, syntax errors and over-long lines are handled and
 *     reported here and passed on as blank lines.
 * Returns str, or NULL at end of file. */
static char *ini_read_line(char *str, int num, void *stream)
{
	struct parse_ctx *c = stream;
	ssize_t n = getline(&c->buf, &c->bufcap, c->f);
	char *s;
	size_t len;

	if (n < 0)
		return NULL;
	c->lineno++;
	s = c->buf;
	if (c->lineno == 1 && strncmp(s, "\xEF\xBB\xBF", 3) == 0)
		s += 3;
	len = strlen(s);        /* a NUL byte ends the line early; fine */
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		s[--len] = '\0';
	while (isspace((unsigned char)*s)) {
		s++;
		len--;
	}

	strcpy(str, "\n");
	if (len == 0 || *s == ';' || *s == '#')
		return str;

	if (*s == '[') {
		char *rb = strchr(s + 1, ']');
		const char *after = rb ? rb + 1 : NULL;

		while (after && isspace((unsigned char)*after))
			after++;
		section_end(c);
		if (!rb || (*after && *after != ';' && *after != '#')) {
			file_err(c, c->lineno, "bad section header: expected [TYPE NAME]");
			c->kind = SECT_BAD;
			return str;
		}
		*rb = '\0';
		section_begin(c, s + 1);
		return str;
	}

	if (*find_chars_or_comment(s, "=:") == '\0' ||
	    *find_chars_or_comment(s, "=:") == ';') {
		file_err(c, c->lineno, "syntax error: expected 'key = value' or '[section]'");
		return str;
	}
	if (len + 2 > (size_t)num) {
		file_err(c, c->lineno, "line is longer than %d characters", num - 2);
		return str;
	}
	memcpy(str, s, len);
	str[len] = '\n';
	str[len + 1] = '\0';
	return str;
}

/* ---- the key handler ------------------------------------------------------------ */

/* Indexes into global_keys[]; keep the two in the same order. */
enum {
	G_LOG_LEVEL, G_THREADS, G_CONNECT_TIMEOUT, G_LOGIN_TIMEOUT, G_AUTH_TIMEOUT,
	G_RELAY_BUFFER, G_MAX_CONNECTIONS, G_SERVER_VERSION, G_FASTPATH, G_PIN_PATH,
	G_ADMIN, G_HTTP, G_FASTPATH_MODE, G_ADMIN_USER, G_ADMIN_PASSWORD, G_ADMIN_PASSWORD_HASH,
	G_HTTP_TOKEN, G_HTTP_WRITE, G_HEALTH_INTERVAL, G_HEALTH_THRESHOLD,
	G_MIGRATE_TIMEOUT, G_REBALANCE, G_REBALANCE_INTERVAL, G_REBALANCE_TOLERANCE,
	G_REBALANCE_MAX_MOVES, G_REBALANCE_POLICY,
	G__COUNT
};
static const char *const global_keys[] = {
	"log_level", "threads", "connect_timeout_ms", "backend_login_timeout_ms",
	"auth_timeout_ms", "relay_buffer", "max_connections", "server_version",
	"fastpath", "pin_path", "admin", "http", "fastpath_mode", "admin_user",
	"admin_password", "admin_password_hash", "http_token", "http_write",
	"health_interval_ms", "health_fail_threshold", "migrate_timeout_ms", "rebalance",
	"rebalance_interval_ms", "rebalance_tolerance", "rebalance_max_moves",
	"rebalance_policy", NULL,
};
/* parse_ctx.seen has one bit per key of a section. */
_Static_assert(G__COUNT <= 32, "too many [global] keys for parse_ctx.seen");
_Static_assert(sizeof(global_keys) / sizeof(global_keys[0]) == G__COUNT + 1,
	       "global_keys[] and the G_ enum differ");
static const char *const listener_keys[] = { "listen", "pool", NULL };
static const char *const pool_keys[] = { "backend", NULL };
static const char *const user_keys[] = { "password", "password_hash", NULL };

static int key_index(const char *const *keys, const char *name)
{
	for (int i = 0; keys[i]; i++)
		if (strcmp(keys[i], name) == 0)
			return i;
	return -1;
}

static int parse_fastpath(const char *v, enum fastpath_mode *out)
{
	if (strcmp(v, "auto") == 0)
		*out = FASTPATH_AUTO;
	else if (strcmp(v, "on") == 0)
		*out = FASTPATH_ON;
	else if (strcmp(v, "off") == 0)
		*out = FASTPATH_OFF;
	else
		return -EINVAL;
	return 0;
}

/* A greeting version: printable ASCII starting with a digit (clients parse
 * the leading X.Y.Z), shorter than the field. */
static bool valid_server_version(const char *v)
{
	if (!isdigit((unsigned char)v[0]) || strlen(v) >= sizeof(((struct shunt_config *)0)->server_version))
		return false;
	for (; *v; v++)
		if (*v < 0x20 || *v > 0x7e)
			return false;
	return true;
}

static bool valid_pin_path(const char *v)
{
	return v[0] == '/' && strlen(v) < sizeof(((struct shunt_config *)0)->pin_path);
}

/* admin = / http = : an address turns the listener on, "off" turns it off. */
static int set_listen_or_off(struct shunt_config *cfg, int admin, const char *v,
			     char *err, size_t errsz)
{
	int *on = admin ? &cfg->admin_on : &cfg->http_on;

	if (strcmp(v, "off") == 0) {
		*on = 0;
	} else {
		if (parse_addr(v, admin ? &cfg->admin : &cfg->http, err, errsz) < 0)
			return -EINVAL;
		*on = 1;
	}
	*(admin ? &cfg->admin_set : &cfg->http_set) = 1;
	return 0;
}

/* "on" -> 1, "off" -> 0. 0 or -EINVAL with err filled. */
static int parse_on_off(const char *v, int *out, char *err, size_t errsz)
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
static int parse_decimal(const char *s, double min, double max, double *out,
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

/* Sets one [global] key from v. Returns 0 or -EINVAL with err filled. */
static int set_global(struct shunt_config *cfg, int key, const char *v, char *err, size_t errsz)
{
	unsigned long long n;

	switch (key) {
	case G_LOG_LEVEL:
		if (log_parse_level(v, &cfg->log_level) < 0)
			goto bad_enum;
		return 0;
	case G_THREADS:
		if (parse_num(v, 0, THREADS_MAX, false, &n, err, errsz) < 0)
			return -EINVAL;
		cfg->threads = (unsigned)n;
		return 0;
	case G_CONNECT_TIMEOUT: case G_LOGIN_TIMEOUT: case G_AUTH_TIMEOUT:
		if (parse_num(v, 1, MS_MAX, false, &n, err, errsz) < 0)
			return -EINVAL;
		*(key == G_CONNECT_TIMEOUT ? &cfg->connect_timeout_ms :
		  key == G_LOGIN_TIMEOUT ? &cfg->backend_login_timeout_ms : &cfg->auth_timeout_ms) = (unsigned)n;
		return 0;
	case G_RELAY_BUFFER:
		if (parse_num(v, RELAY_BUFFER_MIN, RELAY_BUFFER_MAX, true, &n, err, errsz) < 0)
			return -EINVAL;
		cfg->relay_buffer = (size_t)n;
		return 0;
	case G_MAX_CONNECTIONS:
		if (parse_num(v, 1, MAX_CONNECTIONS_MAX, false, &n, err, errsz) < 0)
			return -EINVAL;
		cfg->max_connections = (unsigned)n;
		return 0;
	case G_SERVER_VERSION:
		if (!valid_server_version(v)) {
			snprintf(err, errsz, "'%s': expected printable text starting with a digit, "
				 "at most %zu characters", v, sizeof(cfg->server_version) - 1);
			return -EINVAL;
		}
		strcpy(cfg->server_version, v);
		return 0;
	case G_FASTPATH:
		if (parse_fastpath(v, &cfg->fastpath) < 0)
			goto bad_enum;
		cfg->fastpath_set = 1;
		return 0;
	case G_PIN_PATH:
		if (!valid_pin_path(v)) {
			snprintf(err, errsz, "'%s': expected an absolute path shorter than %zu",
				 v, sizeof(cfg->pin_path));
			return -EINVAL;
		}
		strcpy(cfg->pin_path, v);
		cfg->pin_path_set = 1;
		return 0;
	case G_FASTPATH_MODE:
		if (strcmp(v, "auto") == 0)
			cfg->fastpath_kind = FASTPATH_KIND_AUTO;
		else if (strcmp(v, "verdict") == 0)
			cfg->fastpath_kind = FASTPATH_KIND_VERDICT;
		else if (strcmp(v, "stream_parser") == 0)
			cfg->fastpath_kind = FASTPATH_KIND_STREAM_PARSER;
		else {
			snprintf(err, errsz, "'%s': expected auto, verdict or stream_parser", v);
			return -EINVAL;
		}
		return 0;
	case G_ADMIN: case G_HTTP:
		return set_listen_or_off(cfg, key == G_ADMIN, v, err, errsz);
	case G_ADMIN_USER:
		if (!valid_user_name(v, strlen(v))) {
			snprintf(err, errsz, "'%s': expected a name of 1..63 bytes without spaces or ':'", v);
			return -EINVAL;
		}
		strcpy(cfg->admin_user.name, v);
		return 0;
	case G_ADMIN_PASSWORD:
		config_set_user_password(&cfg->admin_user, v);
		cfg->admin_password_set = 1;
		return 0;
	case G_ADMIN_PASSWORD_HASH:
		if (v[0] != '*' || auth_parse_stage2_hex(v, cfg->admin_user.stage2) < 0) {
			snprintf(err, errsz, "'%s': expected '*' followed by 40 hex digits", v);
			return -EINVAL;
		}
		cfg->admin_user.empty_password = 0;
		cfg->admin_password_set = 1;
		return 0;
	case G_HTTP_TOKEN:
		if (strlen(v) >= sizeof(cfg->http_token) || strpbrk(v, " \t\"")) {
			snprintf(err, errsz, "expected at most %zu characters without spaces or quotes",
				 sizeof(cfg->http_token) - 1);
			return -EINVAL;
		}
		strcpy(cfg->http_token, v);
		return 0;
	case G_HTTP_WRITE:
		return parse_on_off(v, &cfg->http_write, err, errsz);
	case G_HEALTH_INTERVAL:
		if (parse_num(v, 100, MS_MAX, false, &n, err, errsz) < 0)
			return -EINVAL;
		cfg->health_interval_ms = (unsigned)n;
		return 0;
	case G_HEALTH_THRESHOLD:
		if (parse_num(v, 0, 1000, false, &n, err, errsz) < 0)
			return -EINVAL;
		cfg->health_fail_threshold = (unsigned)n;
		return 0;
	case G_MIGRATE_TIMEOUT:
		if (parse_num(v, 100, MS_MAX, false, &n, err, errsz) < 0)
			return -EINVAL;
		cfg->migrate_timeout_ms = (unsigned)n;
		return 0;
	case G_REBALANCE:
		return parse_on_off(v, &cfg->rebalance, err, errsz);
	case G_REBALANCE_INTERVAL:
		if (parse_num(v, 100, MS_MAX, false, &n, err, errsz) < 0)
			return -EINVAL;
		cfg->rebalance_interval_ms = (unsigned)n;
		return 0;
	case G_REBALANCE_TOLERANCE:
		return parse_decimal(v, 0, 10, &cfg->rebalance_tolerance, err, errsz);
	case G_REBALANCE_MAX_MOVES:
		if (parse_num(v, 1, 10000, false, &n, err, errsz) < 0)
			return -EINVAL;
		cfg->rebalance_max_moves = (unsigned)n;
		return 0;
	case G_REBALANCE_POLICY:
		if (strcmp(v, "passive") == 0)
			cfg->rebalance_policy = REBALANCE_PASSIVE;
		else if (strcmp(v, "active") == 0)
			cfg->rebalance_policy = REBALANCE_ACTIVE;
		else {
			snprintf(err, errsz, "'%s': expected active or passive", v);
			return -EINVAL;
		}
		return 0;
	}
	return -EINVAL;
bad_enum:
	snprintf(err, errsz, "'%s': expected %s", v,
		 key == G_LOG_LEVEL ? "error, warn, info or debug" : "auto, on or off");
	return -EINVAL;
}

/* libinih handler: one "name = value" of the current section (tracked by
 * the reader; libinih's section argument is always "" here). Problems are
 * reported and counted in ctx; always returns 1 so libinih carries on. */
static int ini_on_key(void *user, const char *section, const char *name, const char *value)
{
	struct parse_ctx *c = user;
	struct shunt_config *cfg = c->cfg;
	const char *const *keys;
	char err[CFG_ADDR_MAX + 256];
	int k;

	(void)section;
	switch (c->kind) {
	case SECT_BAD:
		return 1;
	case SECT_NONE:
		file_err(c, c->lineno, "'%s' is outside any section", name);
		return 1;
	case SECT_GLOBAL:   keys = global_keys; break;
	case SECT_LISTENER: keys = listener_keys; break;
	case SECT_POOL:     keys = pool_keys; break;
	default:            keys = user_keys; break;
	}

	k = key_index(keys, name);
	if (k < 0) {
		file_err(c, c->lineno, "unknown key '%s' in [%s%s%s]", name,
			 sect_names[c->kind], c->name[0] ? " " : "", c->name);
		return 1;
	}
	if (c->kind != SECT_POOL && (c->seen & (1u << k))) {
		file_err(c, c->lineno, "duplicate key '%s' in [%s%s%s]", name,
			 sect_names[c->kind], c->name[0] ? " " : "", c->name);
		return 1;
	}
	c->seen |= 1u << k;

	switch (c->kind) {
	case SECT_GLOBAL:
		if (set_global(cfg, k, value, err, sizeof(err)) < 0)
			file_err(c, c->lineno, "%s: %s", name, err);
		break;
	case SECT_LISTENER: {
		struct cfg_listener *l = find_listener(cfg, c->name);
		if (k == K_LISTEN) {
			if (parse_addr(value, &l->addr, err, sizeof(err)) < 0)
				file_err(c, c->lineno, "listen: %s", err);
		} else if (!valid_ident(value)) {
			file_err(c, c->lineno, "pool: '%s' is not a valid pool name", value);
		} else {
			strcpy(l->pool, value);
		}
		break;
	}
	case SECT_POOL: {
		struct cfg_pool *p = config_find_pool(cfg, c->name);
		struct cfg_backend b, *slot;
		if (parse_backend(value, &b, err, sizeof(err)) < 0) {
			file_err(c, c->lineno, "backend: %s", err);
			break;
		}
		if (!c->pool_fresh) {   /* a redefined pool replaces its backends */
			pool_clear(p);
			c->pool_fresh = true;
		}
		slot = arr_push(&p->backends, &p->n_backends, sizeof(*slot));
		if (!slot)
			file_err(c, c->lineno, "out of memory");
		else
			*slot = b;
		break;
	}
	case SECT_USER: {
		struct cfg_user *u = find_user_mut(cfg, c->name);
		if (c->seen == (1u << K_PASSWORD | 1u << K_PASSWORD_HASH)) {
			file_err(c, c->lineno, "[user %s]: give either password or password_hash, "
				 "not both", c->name);
		} else if (k == K_PASSWORD) {
			user_set_plain(u, value);
		} else if (auth_parse_stage2_hex(value, u->stage2) < 0) {
			file_err(c, c->lineno, "password_hash: expected '*' followed by 40 hex "
				 "digits (as in mysql.user)");
		} else {
			u->empty_password = 0;
		}
		break;
	}
	default:
		break;
	}
	return 1;
}

/* ---- loading ------------------------------------------------------------------------ */

/* config_load_file recording section lines in map (which the caller owns
 * and frees). */
static int load_file(struct shunt_config *cfg, const char *path, struct src_map *map)
{
	struct parse_ctx c = { .cfg = cfg, .path = path, .map = map };
	struct stat st;
	int r;

	c.f = fopen(path, "r");
	if (!c.f)
		return -errno;
	if (fstat(fileno(c.f), &st) == 0 && S_ISDIR(st.st_mode)) {
		fclose(c.f);
		return -EISDIR;
	}
	map->path = path;
	r = ini_parse_stream(ini_read_line, &c, ini_on_key, &c);
	section_end(&c);
	if (ferror(c.f))
		file_err(&c, c.lineno, "read error");
	else if (r > 0 && c.errors == 0)   /* a line libinih rejected that we let through */
		file_err(&c, (unsigned)r, "syntax error");
	free(c.buf);
	fclose(c.f);
	return c.errors;
}

/* Reads path into cfg; see config.h. */
int config_load_file(struct shunt_config *cfg, const char *path)
{
	struct src_map map = { 0 };
	int r = load_file(cfg, path, &map);

	map_free(&map);
	return r;
}

/* ---- validation ------------------------------------------------------------------------ */

/* Prints "FILE:LINE: msg" when the section came from the file, else
 * "shunt: msg". */
static void __attribute__((format(printf, 4, 5)))
val_err(const struct src_map *m, enum sect_kind k, const char *name, const char *fmt, ...)
{
	const struct src_entry *e = map_find(m, k, name);
	va_list ap;

	if (e && m->path)
		fprintf(cfg_err_out(), "%s:%u: ", m->path, e->line);
	else
		fputs("shunt: ", cfg_err_out());
	va_start(ap, fmt);
	vfprintf(cfg_err_out(), fmt, ap);
	va_end(ap);
	fputc('\n', cfg_err_out());
}

static int validate(struct shunt_config *cfg, const struct src_map *m)
{
	int errors = 0;

	if (cfg->admin_set && cfg->admin_on && !cfg->admin_password_set) {
		cli_err("admin = %s: the admin port needs admin_password (or "
			"admin_password_hash, or --admin-user NAME:PASSWORD)", cfg->admin.text);
		errors++;
	}
	if (cfg->admin_on && cfg->http_on && addr_equal(&cfg->admin, &cfg->http)) {
		cli_err("admin and http are both %s", cfg->admin.text);
		errors++;
	}

	if (cfg->n_users == 0) {
		cli_err("no users defined: add a [user NAME] section or --user NAME:PASSWORD");
		errors++;
	}
	if (cfg->n_listeners == 0) {
		struct cfg_listener *l = get_listener(cfg, DEFAULT_NAME);
		if (!l || config_parse_addr(DEFAULT_LISTEN, &l->addr) < 0) {
			cli_err("cannot set up the default listener %s", DEFAULT_LISTEN);
			return errors + 1;
		}
		strcpy(l->pool, DEFAULT_NAME);
	}
	for (size_t i = 0; i < cfg->n_listeners; i++) {
		struct cfg_listener *l = &cfg->listeners[i];
		struct cfg_pool *p = l->pool[0] ? config_find_pool(cfg, l->pool) : NULL;

		if (l->pool[0] && !p) {
			val_err(m, SECT_LISTENER, l->name, "[listener %s]: pool '%s' is not defined%s",
				l->name, l->pool, strcmp(l->pool, DEFAULT_NAME) == 0 ?
				" (add a [pool default] section or --backend HOST:PORT)" : "");
			errors++;
		} else if (p && p->n_backends == 0) {
			val_err(m, SECT_POOL, p->name, "[pool %s]: no backends (used by listener %s)",
				p->name, l->name);
			errors++;
		}
		for (size_t j = 0; j < i; j++) {
			if (addr_equal(&cfg->listeners[j].addr, &l->addr)) {
				val_err(m, SECT_LISTENER, l->name, "[listener %s]: address %s is "
					"already used by listener %s", l->name, l->addr.text,
					cfg->listeners[j].name);
				errors++;
				break;
			}
		}
	}
	return errors;
}

/* See config.h. Messages come without line numbers ("shunt: ..."). */
int config_validate(struct shunt_config *cfg)
{
	return validate(cfg, NULL);
}

/* ---- the command line ---------------------------------------------------------------- */

enum {
	OPT_LISTEN = 256, OPT_BACKEND, OPT_USER, OPT_FASTPATH, OPT_PIN_PATH,
	OPT_ADMIN, OPT_HTTP, OPT_LOG_LEVEL, OPT_CHECK, OPT_FASTPATH_MODE, OPT_ADMIN_USER,
};

static const struct option long_opts[] = {
	{ "listen",       required_argument, NULL, OPT_LISTEN },
	{ "backend",      required_argument, NULL, OPT_BACKEND },
	{ "user",         required_argument, NULL, OPT_USER },
	{ "fastpath",     required_argument, NULL, OPT_FASTPATH },
	{ "fastpath-mode", required_argument, NULL, OPT_FASTPATH_MODE },
	{ "pin-path",     required_argument, NULL, OPT_PIN_PATH },
	{ "admin",        required_argument, NULL, OPT_ADMIN },
	{ "http",         required_argument, NULL, OPT_HTTP },
	{ "admin-user",   required_argument, NULL, OPT_ADMIN_USER },
	{ "log-level",    required_argument, NULL, OPT_LOG_LEVEL },
	{ "check-config", no_argument,       NULL, OPT_CHECK },
	{ "help",         no_argument,       NULL, 'h' },
	{ "version",      no_argument,       NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *f)
{
	fputs("Usage: shunt [-c FILE] [--listen HOST:PORT] [--backend HOST:PORT]...\n"
	      "             [--user NAME:PASSWORD]... [--fastpath auto|on|off]\n"
	      "             [--pin-path DIR] [--admin HOST:PORT|off] [--http HOST:PORT|off]\n"
	      "             [--admin-user NAME:PASSWORD] [--log-level error|warn|info|debug] [--check-config]\n"
	      "\n"
	      "A MySQL-protocol proxy. Flags override the configuration file.\n"
	      "\n"
	      "  -c FILE                 read the INI configuration FILE first\n"
	      "  --listen HOST:PORT      address of listener \"default\" (or of the file's\n"
	      "                          only listener); default 127.0.0.1:6033\n"
	      "  --backend HOST:PORT     a backend of pool \"default\" (repeatable; replaces\n"
	      "                          the pool's backends from the file)\n"
	      "  --user NAME:PASSWORD    add or replace a user (repeatable); PASSWORD may be\n"
	      "                          \"*\" + 40 hex digits as in mysql.user\n"
	      "  --fastpath MODE         auto, on or off\n"
	      "  --fastpath-mode KIND    auto, verdict or stream_parser (how the program attaches)\n"
	      "  --pin-path DIR          bpffs directory for pinned maps\n"
	      "  --admin HOST:PORT|off   SQL admin port (default 127.0.0.1:6032, opened\n"
	      "                          when an admin password is set)\n"
	      "  --http HOST:PORT|off    HTTP API and /metrics (default 127.0.0.1:6080)\n"
	      "  --admin-user NAME:PASSWORD  the admin port's account\n"
	      "  --log-level LEVEL       error, warn, info or debug\n"
	      "  --check-config          check the configuration and exit\n"
	      "  -h, --help              show this help\n"
	      "  -V, --version           show the version\n"
	      "\n"
	      "See docs/configuration.md.\n", f);
}

/* Flags whose effect is applied after the file has been loaded. */
struct pending {
	const char *file;
	const char *listen;
	const char *log_level, *fastpath, *pin_path, *admin, *http, *fastpath_mode, *admin_user;
	const char **backends;  size_t n_backends;   /* point into argv */
	const char **users;     size_t n_users;
};

/* Applies p's flags on top of cfg. Returns the number of errors printed. */
static int apply_flags(struct shunt_config *cfg, const struct pending *p)
{
	char err[CFG_ADDR_MAX + 256];
	int errors = 0;

	if (p->log_level && log_parse_level(p->log_level, &cfg->log_level) < 0) {
		cli_err("--log-level '%s': expected error, warn, info or debug", p->log_level);
		errors++;
	}
	if (p->fastpath) {
		if (parse_fastpath(p->fastpath, &cfg->fastpath) < 0) {
			cli_err("--fastpath '%s': expected auto, on or off", p->fastpath);
			errors++;
		} else {
			cfg->fastpath_set = 1;
		}
	}
	if (p->fastpath_mode && set_global(cfg, G_FASTPATH_MODE, p->fastpath_mode, err, sizeof(err)) < 0) {
		cli_err("--fastpath-mode %s", err);
		errors++;
	}
	if (p->pin_path) {
		if (!valid_pin_path(p->pin_path)) {
			cli_err("--pin-path '%s': expected an absolute path shorter than %zu",
				p->pin_path, sizeof(cfg->pin_path));
			errors++;
		} else {
			strcpy(cfg->pin_path, p->pin_path);
			cfg->pin_path_set = 1;
		}
	}
	if (p->admin && set_listen_or_off(cfg, 1, p->admin, err, sizeof(err)) < 0) {
		cli_err("--admin %s", err);
		errors++;
	}
	if (p->http && set_listen_or_off(cfg, 0, p->http, err, sizeof(err)) < 0) {
		cli_err("--http %s", err);
		errors++;
	}
	if (p->admin_user) {
		const char *colon = strchr(p->admin_user, ':');
		if (!colon || !valid_user_name(p->admin_user, (size_t)(colon - p->admin_user))) {
			cli_err("--admin-user: expected NAME:PASSWORD with a name of 1..63 bytes "
				"without spaces or ':'");
			errors++;
		} else {
			memcpy(cfg->admin_user.name, p->admin_user, (size_t)(colon - p->admin_user));
			cfg->admin_user.name[colon - p->admin_user] = '\0';
			config_set_user_password(&cfg->admin_user, colon + 1);
			cfg->admin_password_set = 1;
		}
	}

	if (p->n_backends) {
		struct cfg_backend *v = calloc(p->n_backends, sizeof(*v));
		int bad = 0;

		if (!v) {
			cli_err("out of memory");
			return errors + 1;
		}
		for (size_t i = 0; i < p->n_backends; i++) {
			if (parse_backend(p->backends[i], &v[i], err, sizeof(err)) < 0) {
				cli_err("--backend %s", err);
				bad++;
			}
		}
		struct cfg_pool *pool = bad ? NULL : get_pool(cfg, DEFAULT_NAME);
		if (pool) {
			pool_clear(pool);
			pool->backends = v;
			pool->n_backends = p->n_backends;
		} else {
			free(v);
			if (!bad) {
				cli_err("out of memory");
				bad++;
			}
		}
		errors += bad;
	}

	if (p->listen) {
		struct cfg_addr a;
		if (parse_addr(p->listen, &a, err, sizeof(err)) < 0) {
			cli_err("--listen %s", err);
			errors++;
		} else {
			struct cfg_listener *l = find_listener(cfg, DEFAULT_NAME);
			if (!l && cfg->n_listeners == 1)
				l = &cfg->listeners[0];
			if (!l && (l = get_listener(cfg, DEFAULT_NAME)))
				strcpy(l->pool, DEFAULT_NAME);
			if (!l) {
				cli_err("out of memory");
				errors++;
			} else {
				l->addr = a;
			}
		}
	}

	for (size_t i = 0; i < p->n_users; i++) {
		const char *spec = p->users[i], *colon = strchr(spec, ':');
		char name[CFG_NAME_MAX];
		struct cfg_user *u;

		if (!colon || !valid_user_name(spec, (size_t)(colon - spec))) {
			cli_err("--user: expected NAME:PASSWORD with a name of 1..63 bytes "
				"without spaces or ':'");
			errors++;
			continue;
		}
		memcpy(name, spec, (size_t)(colon - spec));
		name[colon - spec] = '\0';
		u = get_user(cfg, name);
		if (!u) {
			cli_err("out of memory");
			errors++;
			continue;
		}
		config_set_user_password(u, colon + 1);
		if (colon[1] == '*' && auth_parse_stage2_hex(colon + 1, u->stage2) < 0)
			cli_err("warning: --user %s: the password starts with '*' but is not '*' + "
				"40 hex digits; using it as a plain password", name);
	}
	return errors;
}

/* Parses argv (see config.h and docs/configuration.md). cfg is
 * (re)initialised here, so it need not be; whatever the result, the
 * caller releases it with config_free(). Collects all flags first, then
 * loads -c FILE, applies the flags over it and validates, reporting every
 * error it finds. Returns 0, 1 after --help/--version, or -EINVAL. */
int config_from_args(struct shunt_config *cfg, int argc, char **argv)
{
	struct pending p = { 0 };
	struct src_map map = { 0 };
	bool file_ok = true;
	int errors = 0, opt, ret;

	config_init(cfg);
	p.backends = calloc((size_t)argc + 1, sizeof(*p.backends));
	p.users = calloc((size_t)argc + 1, sizeof(*p.users));
	if (!p.backends || !p.users) {
		cli_err("out of memory");
		ret = -EINVAL;
		goto out;
	}

	optind = 0;             /* full getopt reset (glibc), so tests can call us again */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":c:hV", long_opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			if (p.file) {
				cli_err("-c given more than once");
				errors++;
			}
			p.file = optarg;
			break;
		case 'h':
			usage(stdout);
			ret = 1;
			goto out;
		case 'V':
			printf("shunt %s\n", SHUNT_VERSION);
			ret = 1;
			goto out;
		case OPT_LISTEN:    p.listen = optarg; break;
		case OPT_BACKEND:   p.backends[p.n_backends++] = optarg; break;
		case OPT_USER:      p.users[p.n_users++] = optarg; break;
		case OPT_FASTPATH:  p.fastpath = optarg; break;
		case OPT_FASTPATH_MODE: p.fastpath_mode = optarg; break;
		case OPT_PIN_PATH:  p.pin_path = optarg; break;
		case OPT_ADMIN:     p.admin = optarg; break;
		case OPT_HTTP:      p.http = optarg; break;
		case OPT_ADMIN_USER: p.admin_user = optarg; break;
		case OPT_LOG_LEVEL: p.log_level = optarg; break;
		case OPT_CHECK:     cfg->check_only = 1; break;
		case ':':
			cli_err("option '%s' needs an argument", argv[optind - 1]);
			errors++;
			break;
		default:
			if (optopt)
				cli_err("unknown option '-%c' (see --help)", optopt);
			else
				cli_err("unknown option '%s' (see --help)", argv[optind - 1]);
			errors++;
			break;
		}
	}
	for (; optind < argc; optind++) {
		cli_err("unexpected argument '%s' (see --help)", argv[optind]);
		errors++;
	}

	if (p.file) {
		cfg->path = strdup(p.file);
		if (!cfg->path) {
			cli_err("out of memory");
			ret = -EINVAL;
			goto out;
		}
		ret = load_file(cfg, cfg->path, &map);
		if (ret < 0) {
			cli_err("cannot read %s: %s", p.file, strerror(-ret));
			errors++;
			file_ok = false;
		} else {
			errors += ret;
		}
	}
	errors += apply_flags(cfg, &p);
	if (file_ok)
		errors += validate(cfg, &map);
	ret = errors ? -EINVAL : 0;
out:
	map_free(&map);
	free(p.backends);
	free(p.users);
	return ret;
}
