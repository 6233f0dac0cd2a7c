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
#include "core/config_keys.h"
#include "core/config_value.h"


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
	uint64_t seen;             /* bit per key of the section's table (at most 64 keys) */
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
		cfgv_copy_str(p->name, sizeof(p->name), name);
	return p;
}

static struct cfg_listener *get_listener(struct shunt_config *cfg, const char *name)
{
	struct cfg_listener *l = find_listener(cfg, name);

	if (!l && (l = arr_push(&cfg->listeners, &cfg->n_listeners, sizeof(*l))))
		cfgv_copy_str(l->name, sizeof(l->name), name);
	return l;
}

static struct cfg_user *get_user(struct shunt_config *cfg, const char *name)
{
	struct cfg_user *u = find_user_mut(cfg, name);

	if (!u && (u = arr_push(&cfg->users, &cfg->n_users, sizeof(*u))))
		cfgv_copy_str(u->name, sizeof(u->name), name);
	return u;
}

static void pool_clear(struct cfg_pool *p)
{
	free(p->backends);
	p->backends = NULL;
	p->n_backends = 0;
}

/* ---- init / free ---------------------------------------------------------- */

/* Every default comes from the key table (config_keys.c). */
void config_init(struct shunt_config *cfg)
{
	char err[256];

	memset(cfg, 0, sizeof(*cfg));
	if (cfg_keys_defaults(cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "shunt: %s\n", err);
		abort();        /* the table is wrong: a unit test catches it first */
	}
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
	cfgv_copy_str(e->name, sizeof(e->name), name);
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

/* The key table's section for a section kind of the reader. */
static enum cfg_sect cfg_sect_of(enum sect_kind k)
{
	return (enum cfg_sect)(k - SECT_GLOBAL);
}

/* Whether the section has seen its key NAME. */
static bool seen_key(const struct parse_ctx *c, const char *name)
{
	const struct cfg_key *k = cfg_key_find(cfg_sect_of(c->kind), name);

	return k && (c->seen & (1ull << cfg_key_slot(k)));
}

/* Checks what a finished section must contain (the table's required
 * keys, and a user's password); reported at its header. */
static void section_end(struct parse_ctx *c)
{
	if (c->kind >= SECT_GLOBAL && c->kind <= SECT_USER) {
		char syn[64];
		for (const struct cfg_key *k = cfg_keys; k->name; k++) {
			if (k->sect != cfg_sect_of(c->kind) || !k->required || seen_key(c, k->name))
				continue;
			snprintf(syn, sizeof(syn), "%s", k->syntax ? k->syntax : "VALUE");
			file_err(c, c->sect_line, "[%s %s]: missing '%s = %s'", sect_names[c->kind],
				 c->name, k->name, syn);
		}
	}
	if (c->kind == SECT_USER && !seen_key(c, "password") && !seen_key(c, "password_hash"))
		file_err(c, c->sect_line, "[user %s]: needs 'password' or 'password_hash'", c->name);
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
	if ((k == SECT_LISTENER || k == SECT_POOL) && !cfgv_ident(name)) {
		file_err(c, c->lineno, "[%s%s%s]: %s", type, *name ? " " : "", name,
			 *name ? "names are 1..63 characters of A-Z a-z 0-9 _ . -"
			       : "missing name");
		return;
	}
	if (k == SECT_USER && !cfgv_user_name(name, strlen(name))) {
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
	cfgv_copy_str(c->name, sizeof(c->name), name);
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

/* libinih handler: one "name = value" of the current section (tracked by
 * the reader; libinih's section argument is always "" here). Problems are
 * reported and counted in ctx; always returns 1 so libinih carries on. */
static int ini_on_key(void *user, const char *section, const char *name, const char *value)
{
	struct parse_ctx *c = user;
	struct shunt_config *cfg = c->cfg;
	const struct cfg_key *k;
	char err[CFG_ADDR_MAX + 256];
	void *obj;

	(void)section;
	if (c->kind == SECT_BAD)
		return 1;
	if (c->kind == SECT_NONE) {
		file_err(c, c->lineno, "'%s' is outside any section", name);
		return 1;
	}
	k = cfg_key_find(cfg_sect_of(c->kind), name);
	if (!k) {
		file_err(c, c->lineno, "unknown key '%s' in [%s%s%s]", name,
			 sect_names[c->kind], c->name[0] ? " " : "", c->name);
		return 1;
	}
	uint64_t bit = 1ull << cfg_key_slot(k);
	if (!k->repeat && (c->seen & bit)) {
		file_err(c, c->lineno, "duplicate key '%s' in [%s%s%s]", name,
			 sect_names[c->kind], c->name[0] ? " " : "", c->name);
		return 1;
	}
	c->seen |= bit;

	switch (c->kind) {
	case SECT_GLOBAL:
		obj = cfg;
		break;
	case SECT_LISTENER:
		obj = find_listener(cfg, c->name);
		break;
	case SECT_POOL:
		obj = config_find_pool(cfg, c->name);
		if (!c->pool_fresh) {   /* a redefined pool replaces its backends */
			pool_clear(obj);
			c->pool_fresh = true;
		}
		break;
	default:
		obj = find_user_mut(cfg, c->name);
		if (seen_key(c, "password") && seen_key(c, "password_hash")) {
			file_err(c, c->lineno, "[user %s]: give either password or password_hash, "
				 "not both", c->name);
			return 1;
		}
		break;
	}
	if (cfg_key_set(k, obj, value, err, sizeof(err)) < 0)
		file_err(c, c->lineno, "%s: %s", name, err);
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
	if (cfg->admin_on && cfg->http_on && cfgv_addr_equal(&cfg->admin, &cfg->http)) {
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
			if (cfgv_addr_equal(&cfg->listeners[j].addr, &l->addr)) {
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
	OPT_LISTEN = 256, OPT_BACKEND, OPT_USER, OPT_CHECK, OPT_ADMIN_USER, OPT_HELP_CONFIG,
	OPT_KEY = 512,          /* + index in cfg_keys[]: a flag that sets a key */
};

static const struct option fixed_opts[] = {
	{ "listen",       required_argument, NULL, OPT_LISTEN },
	{ "backend",      required_argument, NULL, OPT_BACKEND },
	{ "user",         required_argument, NULL, OPT_USER },
	{ "admin-user",   required_argument, NULL, OPT_ADMIN_USER },
	{ "check-config", no_argument,       NULL, OPT_CHECK },
	{ "help-config",  optional_argument, NULL, OPT_HELP_CONFIG },
	{ "help",         no_argument,       NULL, 'h' },
	{ "version",      no_argument,       NULL, 'V' },
};
#define N_FIXED_OPTS (sizeof(fixed_opts) / sizeof(fixed_opts[0]))

/* The long options: the fixed ones, then one per key with a flag.
 * opts has room for N_FIXED_OPTS + cfg_key_count() + 1. */
static void build_opts(struct option *opts)
{
	size_t n = 0;

	for (size_t i = 0; i < N_FIXED_OPTS; i++)
		opts[n++] = fixed_opts[i];
	for (size_t i = 0; cfg_keys[i].name; i++)
		if (cfg_keys[i].flag)
			opts[n++] = (struct option){ cfg_keys[i].flag, required_argument, NULL,
						     OPT_KEY + (int)i };
	opts[n] = (struct option){ NULL, 0, NULL, 0 };
}

static void usage(FILE *f)
{
	char left[64];

	fputs("Usage: shunt [-c FILE] [--listen HOST:PORT] [--backend HOST:PORT]...\n"
	      "             [--user NAME:PASSWORD]... [OPTIONS]\n"
	      "\n"
	      "A MySQL-protocol proxy. Flags override the configuration file.\n"
	      "\n"
	      "  -c FILE                   read the INI configuration FILE first\n"
	      "  --listen HOST:PORT        address of listener \"default\" (or of the file's\n"
	      "                            only listener); default 127.0.0.1:6033\n"
	      "  --backend HOST:PORT       a backend of pool \"default\" (repeatable; replaces\n"
	      "                            the pool's backends from the file)\n"
	      "  --user NAME:PASSWORD      add or replace a user (repeatable); PASSWORD may be\n"
	      "                            \"*\" + 40 hex digits as in mysql.user\n"
	      "  --admin-user NAME:PASSWORD  the admin port's account\n", f);
	for (const struct cfg_key *k = cfg_keys; k->name; k++) {
		if (!k->flag)
			continue;
		snprintf(left, sizeof(left), "--%s %s", k->flag,
			 k->type == CK_ENUM ? "MODE" : k->syntax ? k->syntax : "VALUE");
		fprintf(f, "  %-25s %s\n  %-25s (key %s, default %s)\n", left, k->help, "", k->name,
			k->def ? k->def : "none");
	}
	fputs("  --check-config            check the configuration and exit\n"
	      "  --help-config[=markdown]  every configuration key: syntax, default, reload\n"
	      "  -h, --help                show this help\n"
	      "  -V, --version             show the version\n"
	      "\n"
	      "See docs/configuration.md.\n", f);
}

/* Flags whose effect is applied after the file has been loaded. */
struct pending {
	const char *file;
	const char *listen;
	const char *admin_user;
	const char **key_values;  /* per cfg_keys[] index: its flag's value, or NULL */
	const char **backends;  size_t n_backends;   /* point into argv */
	const char **users;     size_t n_users;
};

/* Applies p's flags on top of cfg. Returns the number of errors printed. */
static int apply_flags(struct shunt_config *cfg, const struct pending *p)
{
	char err[CFG_ADDR_MAX + 256];
	int errors = 0;

	for (size_t i = 0; cfg_keys[i].name; i++) {
		if (p->key_values[i] && cfg_key_set(&cfg_keys[i], cfg, p->key_values[i], err, sizeof(err)) < 0) {
			cli_err("--%s %s", cfg_keys[i].flag, err);
			errors++;
		}
	}
	if (p->admin_user) {
		const char *colon = strchr(p->admin_user, ':');
		if (!colon || !cfgv_user_name(p->admin_user, (size_t)(colon - p->admin_user))) {
			cli_err("--admin-user: expected NAME:PASSWORD with a name of 1..63 bytes "
				"without spaces or ':'");
			errors++;
		} else if (!colon[1]) {
			cli_err("--admin-user %.*s: an empty password would let anyone in",
				(int)(colon - p->admin_user), p->admin_user);
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
			if (cfgv_backend(p->backends[i], &v[i], err, sizeof(err)) < 0) {
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
		if (cfgv_addr(p->listen, &a, err, sizeof(err)) < 0) {
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

		if (!colon || !cfgv_user_name(spec, (size_t)(colon - spec))) {
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
	struct option *opts = NULL;
	bool file_ok = true;
	int errors = 0, opt, ret;

	config_init(cfg);
	p.backends = calloc((size_t)argc + 1, sizeof(*p.backends));
	p.users = calloc((size_t)argc + 1, sizeof(*p.users));
	p.key_values = calloc(cfg_key_count() + 1, sizeof(*p.key_values));
	opts = calloc(N_FIXED_OPTS + cfg_key_count() + 1, sizeof(*opts));
	if (!p.backends || !p.users || !p.key_values || !opts) {
		cli_err("out of memory");
		ret = -EINVAL;
		goto out;
	}

	optind = 0;             /* full getopt reset (glibc), so tests can call us again */
	opterr = 0;
	build_opts(opts);
	while ((opt = getopt_long(argc, argv, ":c:hV", opts, NULL)) != -1) {
		if (opt >= OPT_KEY && opt < OPT_KEY + (int)cfg_key_count()) {
			p.key_values[opt - OPT_KEY] = optarg;
			continue;
		}
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
		case OPT_ADMIN_USER: p.admin_user = optarg; break;
		case OPT_CHECK:     cfg->check_only = 1; break;
		case OPT_HELP_CONFIG:
			if (optarg && strcmp(optarg, "markdown") != 0) {
				cli_err("--help-config=%s: expected --help-config or --help-config=markdown",
					optarg);
				errors++;
				break;
			}
			cfg_keys_print(stdout, optarg != NULL);
			ret = 1;
			goto out;
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
	free(p.key_values);
	free(opts);
	return ret;
}
