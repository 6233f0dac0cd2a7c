/* config_keys.c — the table of configuration keys (config_keys.h) and
 * what is done with it generically: setting a key from text, defaults,
 * the reload's restart-only check, and the reference text. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "mysql/auth.h"
#include "core/config_keys.h"
#include "core/config_value.h"

#define MS_MAX                3600000ULL          /* one hour */

/* ---- setters and checks of the keys that need their own ------------------ */

/* A greeting version: printable ASCII starting with a digit (clients parse
 * the leading X.Y.Z), shorter than the field. */
static const char *check_server_version(const char *v, size_t size)
{
	if (!isdigit((unsigned char)v[0]) || strlen(v) >= size)
		return "printable text starting with a digit, at most 63 characters";
	for (; *v; v++)
		if (*v < 0x20 || *v > 0x7e)
			return "printable text starting with a digit, at most 63 characters";
	return NULL;
}

static const char *check_abs_path(const char *v, size_t size)
{
	return v[0] == '/' && strlen(v) < size ? NULL : "an absolute path shorter than 256 characters";
}

static const char *check_user_name(const char *v, size_t size)
{
	(void)size;
	return cfgv_user_name(v, strlen(v)) ? NULL : "a name of 1..63 bytes without spaces or ':'";
}

static const char *check_token(const char *v, size_t size)
{
	return strlen(v) < size && !strpbrk(v, " \t\"") ? NULL
		: "at most 127 characters without spaces or quotes";
}

static const char *check_ident(const char *v, size_t size)
{
	(void)size;
	return cfgv_ident(v) ? NULL : "a name of 1..63 characters of A-Z a-z 0-9 _ . -";
}

/* admin = / http = : an address turns the listener on, "off" turns it off. */
static int set_listen_or_off(int *on, struct cfg_addr *addr, const char *v, char *err, size_t errsz)
{
	if (strcmp(v, "off") == 0) {
		*on = 0;
		return 0;
	}
	if (cfgv_addr(v, addr, err, errsz) < 0)
		return -EINVAL;
	*on = 1;
	return 0;
}

static int set_admin(void *obj, const char *v, char *err, size_t errsz)
{
	struct shunt_config *cfg = obj;

	return set_listen_or_off(&cfg->admin_on, &cfg->admin, v, err, errsz);
}

static int set_http(void *obj, const char *v, char *err, size_t errsz)
{
	struct shunt_config *cfg = obj;

	return set_listen_or_off(&cfg->http_on, &cfg->http, v, err, errsz);
}

static int same_admin(const struct shunt_config *a, const struct shunt_config *b)
{
	return a->admin_on == b->admin_on && (!a->admin_on || strcmp(a->admin.text, b->admin.text) == 0);
}

static int same_http(const struct shunt_config *a, const struct shunt_config *b)
{
	return a->http_on == b->http_on && (!a->http_on || strcmp(a->http.text, b->http.text) == 0);
}

/* The admin port's password: never empty (an empty one would open the
 * port to anyone who can reach it). */
static int set_admin_password(void *obj, const char *v, char *err, size_t errsz)
{
	if (!v[0]) {
		snprintf(err, errsz, "an empty password would let anyone in: give one, or admin = off");
		return -EINVAL;
	}
	return config_set_user_password(&((struct shunt_config *)obj)->admin_user, v);
}

/* "*" + 40 hex digits into a user's stage-2 hash. The reason does not
 * repeat the value: a near-miss may be a real hash. */
static int set_stage2(struct cfg_user *u, const char *v, char *err, size_t errsz)
{
	uint8_t stage2[AUTH_SHA1_LEN];

	if (v[0] != '*' || auth_parse_stage2_hex(v, stage2) < 0) {
		snprintf(err, errsz, "expected '*' followed by 40 hex digits (as in mysql.user)");
		return -EINVAL;
	}
	memcpy(u->stage2, stage2, sizeof(u->stage2));
	u->empty_password = 0;
	return 0;
}

static int set_admin_password_hash(void *obj, const char *v, char *err, size_t errsz)
{
	return set_stage2(&((struct shunt_config *)obj)->admin_user, v, err, errsz);
}

static int set_listen(void *obj, const char *v, char *err, size_t errsz)
{
	return cfgv_addr(v, &((struct cfg_listener *)obj)->addr, err, errsz);
}

/* One more backend of the pool (the caller clears the list first when a
 * redefined pool starts over). */
static int add_backend(void *obj, const char *v, char *err, size_t errsz)
{
	struct cfg_pool *p = obj;
	struct cfg_backend b, *nv;

	if (cfgv_backend(v, &b, err, errsz) < 0)
		return -EINVAL;
	nv = realloc(p->backends, (p->n_backends + 1) * sizeof(*nv));
	if (!nv) {
		snprintf(err, errsz, "out of memory");
		return -EINVAL;
	}
	p->backends = nv;
	p->backends[p->n_backends++] = b;
	return 0;
}

static int set_user_password(void *obj, const char *v, char *err, size_t errsz)
{
	(void)err;
	(void)errsz;
	cfgv_user_plain(obj, v);
	return 0;
}

static int set_user_password_hash(void *obj, const char *v, char *err, size_t errsz)
{
	return set_stage2(obj, v, err, errsz);
}

/* ---- the table ------------------------------------------------------------- */

static const struct cfg_choice log_levels[] = {
	{ "error", LOG_ERROR }, { "warn", LOG_WARN }, { "info", LOG_INFO }, { "debug", LOG_DEBUG },
	{ NULL, 0 },
};
static const struct cfg_choice fastpath_modes[] = {
	{ "auto", FASTPATH_AUTO }, { "on", FASTPATH_ON }, { "off", FASTPATH_OFF }, { NULL, 0 },
};
static const struct cfg_choice fastpath_kinds[] = {
	{ "auto", FASTPATH_KIND_AUTO }, { "verdict", FASTPATH_KIND_VERDICT },
	{ "stream_parser", FASTPATH_KIND_STREAM_PARSER }, { NULL, 0 },
};
static const struct cfg_choice rebalance_policies[] = {
	{ "active", REBALANCE_ACTIVE }, { "passive", REBALANCE_PASSIVE }, { NULL, 0 },
};

#define G(field) .sect = CFG_SECT_GLOBAL, .offset = offsetof(struct shunt_config, field), \
	.size = sizeof(((struct shunt_config *)0)->field)
#define L(field) .sect = CFG_SECT_LISTENER, .offset = offsetof(struct cfg_listener, field), \
	.size = sizeof(((struct cfg_listener *)0)->field)
#define GIVEN(field) .has_given = 1, .given_offset = offsetof(struct shunt_config, field)
#define MS(lo) .type = CK_UINT, .min = (lo), .max = MS_MAX

const struct cfg_key cfg_keys[] = {
	/* [global] */
	{ G(log_level), .name = "log_level", .type = CK_ENUM, .choices = log_levels, .def = "info",
	  .flag = "log-level", .help = "error, warn, info or debug",
	  .doc = "`error`, `warn`, `info` or `debug`." },
	{ G(threads), .name = "threads", .type = CK_UINT, .min = 0, .max = 1024, .def = "0",
	  .apply = CK_RESTART,
	  .doc = "Worker threads (one event loop each); `0` = one per CPU." },
	{ G(connect_timeout_ms), .name = "connect_timeout_ms", MS(1), .def = "2000",
	  .doc = "Timeout of the TCP connect to a backend." },
	{ G(backend_login_timeout_ms), .name = "backend_login_timeout_ms", MS(1), .def = "5000",
	  .doc = "From a backend's greeting to the OK of shunt's login to it." },
	{ G(auth_timeout_ms), .name = "auth_timeout_ms", MS(1), .def = "10000",
	  .doc = "From shunt's greeting to a client until the login reply." },
	{ G(relay_buffer), .name = "relay_buffer", .type = CK_SIZE, .min = 4096, .max = 1ULL << 30,
	  .def = "1m",
	  .doc = "User-space relay: the most bytes read from one side at once, and so the most kept "
		 "for a peer that is full before shunt stops reading the sender (backpressure). "
		 "Capped at 256 KiB by the relay's read buffer." },
	{ G(max_connections), .name = "max_connections", .type = CK_UINT, .min = 1, .max = 1000000,
	  .def = "10000", .doc = "Concurrent client sessions." },
	{ G(max_unauthenticated), .name = "max_unauthenticated", .type = CK_UINT, .min = 0,
	  .max = 1000000, .def = "1000",
	  .doc = "Clients that have connected and not logged in yet, over all addresses; past it "
		 "a new connection gets 1040. `0` = no limit." },
	{ G(max_unauthenticated_per_source), .name = "max_unauthenticated_per_source",
	  .type = CK_UINT, .min = 0, .max = 1000000, .def = "256",
	  .doc = "The same from one client address (an application server opening its pool "
		 "opens many at once). `0` = no limit." },
	{ G(max_connections_per_source), .name = "max_connections_per_source", .type = CK_UINT,
	  .min = 0, .max = 1000000, .def = "0",
	  .doc = "Client connections from one address, logged in or not; past it 1040. "
		 "`0` = no limit." },
	{ G(max_connection_rate_per_source), .name = "max_connection_rate_per_source",
	  .type = CK_UINT, .min = 0, .max = 1000000, .def = "0",
	  .doc = "New connections a second from one address, with a burst of as many; past it "
		 "1040. `0` = no limit." },
	{ G(login_failures_per_source), .name = "login_failures_per_source", .type = CK_UINT,
	  .min = 0, .max = 1000000, .def = "100",
	  .doc = "Failed logins (wrong password, unknown user, a malformed or unfinished "
		 "handshake) from one address within `login_failure_window_ms` after which the "
		 "address is refused with 1129 for `login_block_ms`, as MariaDB's "
		 "`max_connect_errors` (100) blocks a host. `0` = never." },
	{ G(login_failure_window_ms), .name = "login_failure_window_ms", MS(1), .def = "60000",
	  .doc = "How long failed logins count towards `login_failures_per_source`." },
	{ G(login_block_ms), .name = "login_block_ms", MS(1), .def = "60000",
	  .doc = "How long a blocked address is refused." },
	{ G(server_version), .name = "server_version", .type = CK_TEXT, .check = check_server_version,
	  .syntax = "TEXT", .def = "5.5.5-10.11.0-shunt",
	  .doc = "Version shunt announces in its greeting before it has seen a backend's. "
		 "Printable ASCII starting with a digit, at most 63 characters." },
	{ G(fastpath), .name = "fastpath", .type = CK_ENUM, .choices = fastpath_modes, .def = "auto",
	  .apply = CK_RESTART, GIVEN(fastpath_set), .flag = "fastpath",
	  .help = "kernel fast path: auto, on or off",
	  .doc = "Kernel fast path: `auto` (use it when the kernel and permissions allow; otherwise "
		 "one log line says why and sessions are relayed in user space), `on` (refuse to "
		 "start without it) or `off`. See [fastpath.md](fastpath.md)." },
	{ G(fastpath_kind), .name = "fastpath_mode", .type = CK_ENUM, .choices = fastpath_kinds,
	  .def = "auto", .apply = CK_RESTART, .flag = "fastpath-mode",
	  .help = "how the program attaches",
	  .doc = "How the sk_skb program attaches: `verdict` (no stream parser, kernel 5.13+), "
		 "`stream_parser` (parser + verdict, older kernels, benchmarks) or `auto` (verdict "
		 "if available)." },
	{ G(pin_path), .name = "pin_path", .type = CK_TEXT, .check = check_abs_path, .syntax = "DIR",
	  .def = "/sys/fs/bpf/shunt", .apply = CK_RESTART, GIVEN(pin_path_set), .flag = "pin-path",
	  .help = "bpffs directory for the pinned maps",
	  .doc = "bpffs directory for the pinned maps; absolute, under 256 characters. bpffs is "
		 "mounted at /sys/fs/bpf when missing; stale pins of a previous run are removed at "
		 "start-up." },
	{ G(admin), .name = "admin", .type = CK_CUSTOM, .set = set_admin, .same = same_admin,
	  .syntax = "HOST:PORT|off", .def = "127.0.0.1:6032", .apply = CK_RESTART, GIVEN(admin_set),
	  .flag = "admin", .help = "SQL admin port (opens when a password is set)",
	  .doc = "The SQL admin port, or `off`. It opens only when an admin password is set. Giving "
		 "`admin` explicitly without a password is an error. See [admin.md](admin.md)." },
	{ G(http), .name = "http", .type = CK_CUSTOM, .set = set_http, .same = same_http,
	  .syntax = "HOST:PORT|off", .def = "127.0.0.1:6080", .apply = CK_RESTART, GIVEN(http_set),
	  .flag = "http", .help = "HTTP API and /metrics",
	  .doc = "The HTTP API and `/metrics`, or `off`." },
	{ G(admin_user.name), .name = "admin_user", .type = CK_TEXT, .check = check_user_name,
	  .syntax = "NAME", .def = "admin", .doc = "The admin port's account name." },
	{ G(admin_user), .name = "admin_password", .type = CK_CUSTOM, .set = set_admin_password,
	  .syntax = "PASSWORD", GIVEN(admin_password_set),
	  .doc = "The admin port's password (plain; `*` + 40 hex digits is taken as a hash). It "
		 "may not be empty." },
	{ G(admin_user), .name = "admin_password_hash", .type = CK_CUSTOM,
	  .set = set_admin_password_hash, .syntax = "*HEX", GIVEN(admin_password_set),
	  .doc = "The admin port's password as `*` + 40 hex digits (as in `mysql.user`)." },
	{ G(http_token), .name = "http_token", .type = CK_TEXT, .check = check_token, .syntax = "TOKEN",
	  .doc = "The token every `/api/` request needs, as `Authorization: Bearer TOKEN`. Unset: "
		 "the one in `http_token_file`. Up to 127 characters, no spaces or quotes. "
		 "`/metrics`, `/healthz` and `/readyz` need none. See [admin.md](admin.md#http-api)." },
	{ G(http_token_file), .name = "http_token_file", .type = CK_TEXT, .check = check_abs_path,
	  .syntax = "PATH", .def = "/run/shunt/http-token", .apply = CK_RESTART,
	  .flag = "http-token-file", .help = "where the HTTP API token is kept (made at first start)",
	  .doc = "Where the API token is kept when `http_token` is not set: read at start, or made "
		 "there (64 random hex digits, mode 0600, its directory 0700) when the file does not "
		 "exist. A file others may read is refused. `shuntctl` reads the same file." },
	{ G(http_write), .name = "http_write", .type = CK_ON_OFF, .def = "on",
	  .doc = "`off` refuses every HTTP write endpoint with 403." },
	{ G(health_interval_ms), .name = "health_interval_ms", MS(100), .def = "2000",
	  .doc = "How often a backend that is down is probed (connect and read its greeting)." },
	{ G(health_fail_threshold), .name = "health_fail_threshold", .type = CK_UINT, .min = 0,
	  .max = 1000, .def = "3",
	  .doc = "Consecutive connect/greeting/login failures that mark a backend down; `0` never "
		 "marks one down." },
	{ G(migrate_timeout_ms), .name = "migrate_timeout_ms", MS(100), .def = "10000",
	  .doc = "How long a session migration waits for the session to reach a safe point (between "
		 "two commands, outside a transaction). A session that does not get there in time "
		 "stays where it is (outcome `timeout`). See [migration.md](migration.md)." },
	{ G(rebalance), .name = "rebalance", .type = CK_ON_OFF, .def = "off",
	  .doc = "`on` moves sessions from backends that carry more than their weight's share to "
		 "less loaded ones. Drains and failover moves happen whether this is on or not." },
	{ G(rebalance_interval_ms), .name = "rebalance_interval_ms", MS(100), .def = "5000",
	  .doc = "Time between two rebalance rounds." },
	{ G(rebalance_tolerance), .name = "rebalance_tolerance", .type = CK_DECIMAL, .dmin = 0,
	  .dmax = 10, .def = "0.2",
	  .doc = "How far above its share a backend may go before the rebalancer moves sessions off "
		 "it: over-loaded means more than `share × (1 + tolerance)` sessions, where the share "
		 "is the pool's sessions split by weight among its usable backends. A plain decimal "
		 "(`0`, `0.2`, `1.5`)." },
	{ G(rebalance_max_moves), .name = "rebalance_max_moves", .type = CK_UINT, .min = 1,
	  .max = 10000, .def = "8",
	  .doc = "Sessions the rebalancer asks to move per round, over all pools; at most 32 "
		 "rebalance requests are in flight at a time." },
	{ G(rebalance_policy), .name = "rebalance_policy", .type = CK_ENUM,
	  .choices = rebalance_policies, .def = "passive",
	  .doc = "When a session picked by the rebalancer moves: `passive` when its client sends its "
		 "next command (an idle session is not disturbed), `active` at once if it is idle." },

	/* [listener NAME] */
	{ L(addr), .name = "listen", .type = CK_CUSTOM, .set = set_listen, .syntax = "HOST:PORT",
	  .apply = CK_RESTART, .required = 1, .doc = "The address to listen on." },
	{ L(pool), .name = "pool", .type = CK_TEXT, .check = check_ident, .syntax = "NAME",
	  .apply = CK_RESTART, .required = 1,
	  .doc = "Name of a `[pool]` (which must have at least one backend)." },

	/* [pool NAME] */
	{ .sect = CFG_SECT_POOL, .name = "backend", .type = CK_CUSTOM, .set = add_backend,
	  .syntax = "HOST:PORT [weight=N]", .repeat = 1,
	  .doc = "One line per MySQL/MariaDB server; repeat the key for more. `weight` is 1–1000, "
		 "default 1. A reload makes the running pool's backends match the file." },

	/* [user NAME] */
	{ .sect = CFG_SECT_USER, .name = "max_connections", .type = CK_UINT, .min = 0, .max = 1000000,
	  .offset = offsetof(struct cfg_user, max_connections),
	  .size = sizeof(((struct cfg_user *)0)->max_connections), .def = "0",
	  .doc = "Sessions this user may have logged in at once; past it 1203. `0` = no limit." },
	{ .sect = CFG_SECT_USER, .name = "password", .type = CK_CUSTOM, .set = set_user_password,
	  .syntax = "PASSWORD",
	  .doc = "The plain password. An empty value (`password =`) declares an account without a "
		 "password." },
	{ .sect = CFG_SECT_USER, .name = "password_hash", .type = CK_CUSTOM,
	  .set = set_user_password_hash, .syntax = "*HEX",
	  .doc = "`*` followed by 40 hex digits (either case): the stage-2 hash `SHA1(SHA1(password))` "
		 "exactly as MySQL/MariaDB show it in `SELECT authentication_string FROM mysql.user` "
		 "(MariaDB: `SELECT password FROM mysql.user`, or `SELECT PASSWORD('…')`). Keeps the "
		 "plain password out of the file." },
	{ .name = NULL },
};

size_t cfg_key_count(void)
{
	return sizeof(cfg_keys) / sizeof(cfg_keys[0]) - 1;
}

static const char *const sect_names[CFG_SECT__COUNT] = {
	[CFG_SECT_GLOBAL] = "global", [CFG_SECT_LISTENER] = "listener",
	[CFG_SECT_POOL] = "pool", [CFG_SECT_USER] = "user",
};

const char *cfg_sect_name(enum cfg_sect s)
{
	return (unsigned)s < CFG_SECT__COUNT ? sect_names[s] : "?";
}

const struct cfg_key *cfg_key_find(enum cfg_sect s, const char *name)
{
	for (const struct cfg_key *k = cfg_keys; k->name; k++)
		if (k->sect == s && strcmp(k->name, name) == 0)
			return k;
	return NULL;
}

int cfg_key_slot(const struct cfg_key *k)
{
	int slot = 0;

	for (const struct cfg_key *o = cfg_keys; o != k; o++)
		if (o->sect == k->sect)
			slot++;
	return slot;
}

/* "a, b or c" of an enum's choices into out. */
static void choice_list(const struct cfg_choice *c, char *out, size_t n)
{
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; c[i].name && len < n; i++)
		len += (size_t)snprintf(out + len, n - len, "%s%s",
					i == 0 ? "" : c[i + 1].name ? ", " : " or ", c[i].name);
}

int cfg_key_set(const struct cfg_key *k, void *obj, const char *v, char *err, size_t errsz)
{
	char *field = (char *)obj + k->offset;
	unsigned long long n;
	char list[128];

	switch (k->type) {
	case CK_UINT:
	case CK_SIZE:
		if (cfgv_num(v, k->min, k->max, k->type == CK_SIZE, &n, err, errsz) < 0)
			return -EINVAL;
		if (k->size == sizeof(size_t) && k->type == CK_SIZE)
			*(size_t *)field = (size_t)n;
		else
			*(unsigned *)field = (unsigned)n;
		break;
	case CK_DECIMAL:
		if (cfgv_decimal(v, k->dmin, k->dmax, (double *)field, err, errsz) < 0)
			return -EINVAL;
		break;
	case CK_ON_OFF:
		if (cfgv_on_off(v, (int *)field, err, errsz) < 0)
			return -EINVAL;
		break;
	case CK_ENUM: {
		const struct cfg_choice *c = k->choices;
		while (c->name && strcmp(c->name, v) != 0)
			c++;
		if (!c->name) {
			choice_list(k->choices, list, sizeof(list));
			snprintf(err, errsz, "'%s': expected %s", v, list);
			return -EINVAL;
		}
		*(int *)field = c->value;
		break;
	}
	case CK_TEXT: {
		const char *want = k->check ? k->check(v, k->size) : NULL;
		if (!want && strlen(v) >= k->size)
			want = "a shorter value";
		if (want) {
			snprintf(err, errsz, "'%s': expected %s", v, want);
			return -EINVAL;
		}
		memcpy(field, v, strlen(v) + 1);
		break;
	}
	case CK_CUSTOM:
		if (k->set(obj, v, err, errsz) < 0)
			return -EINVAL;
		break;
	}
	if (k->has_given)
		*(int *)((char *)obj + k->given_offset) = 1;
	return 0;
}

int cfg_keys_defaults(struct shunt_config *cfg, char *err, size_t errsz)
{
	char why[256];

	for (const struct cfg_key *k = cfg_keys; k->name; k++) {
		if (k->sect != CFG_SECT_GLOBAL || !k->def)
			continue;
		if (cfg_key_set(k, cfg, k->def, why, sizeof(why)) < 0) {
			snprintf(err, errsz, "the default of %s does not parse: %s", k->name, why);
			return -EINVAL;
		}
		if (k->has_given)       /* a default is not given */
			*(int *)((char *)cfg + k->given_offset) = 0;
	}
	return 0;
}

const char *cfg_keys_restart_change(const struct shunt_config *a, const struct shunt_config *b)
{
	for (const struct cfg_key *k = cfg_keys; k->name; k++) {
		if (k->sect != CFG_SECT_GLOBAL || k->apply != CK_RESTART)
			continue;
		const char *x = (const char *)a + k->offset, *y = (const char *)b + k->offset;
		int same = k->same ? k->same(a, b) :
			   k->type == CK_TEXT ? strcmp(x, y) == 0 : memcmp(x, y, k->size) == 0;
		if (!same)
			return k->name;
	}
	return NULL;
}

/* ---- the reference ------------------------------------------------------------ */

/* The value syntax of a key: "1..3600000", "auto|on|off", "HOST:PORT". */
static void syntax_of(const struct cfg_key *k, char *out, size_t n, int markdown)
{
	size_t len = 0;

	switch (k->type) {
	case CK_UINT:
		snprintf(out, n, "%llu–%llu", k->min, k->max);
		break;
	case CK_SIZE:
		snprintf(out, n, "%lluk–%llum", k->min >> 10, k->max >> 20);
		break;
	case CK_DECIMAL:
		snprintf(out, n, "%g–%g", k->dmin, k->dmax);
		break;
	case CK_ON_OFF:
		snprintf(out, n, "on%soff", markdown ? " \\| " : "|");
		break;
	case CK_ENUM:
		out[0] = '\0';
		for (const struct cfg_choice *c = k->choices; c->name && len < n; c++)
			len += (size_t)snprintf(out + len, n - len, "%s%s", c == k->choices ? "" :
						markdown ? " \\| " : "|", c->name);
		break;
	default:
		for (const char *p = k->syntax ? k->syntax : "TEXT"; *p && len + 3 < n; p++) {
			if (markdown && *p == '|')
				out[len++] = '\\';
			out[len++] = *p;
		}
		out[len] = '\0';
		break;
	}
}

/* Markdown without the backticks, for the terminal. */
static void print_plain(FILE *f, const char *s, int indent)
{
	int col = indent;

	fprintf(f, "%*s", indent, "");
	while (*s) {
		const char *w = s;
		size_t len = 0;
		while (w[len] && w[len] != ' ')
			len++;
		int shown = 0;
		for (size_t i = 0; i < len; i++)
			shown += w[i] != '`';
		if (col > indent && col + 1 + shown > 78) {
			fprintf(f, "\n%*s", indent, "");
			col = indent;
		} else if (col > indent) {
			fputc(' ', f);
			col++;
		}
		for (size_t i = 0; i < len; i++)
			if (w[i] != '`')
				fputc(w[i], f);
		col += shown;
		s = w + len;
		while (*s == ' ')
			s++;
	}
	fputc('\n', f);
}

void cfg_keys_print(FILE *f, int markdown)
{
	char syn[160];

	for (int s = 0; s < CFG_SECT__COUNT; s++) {
		if (markdown)
			fprintf(f, "%s### `[%s%s]`\n\n| key | value | default | on reload | meaning |\n"
				"|---|---|---|---|---|\n", s ? "\n" : "", sect_names[s],
				s ? " NAME" : "");
		else
			fprintf(f, "%s[%s%s]\n", s ? "\n" : "", sect_names[s], s ? " NAME" : "");
		for (const struct cfg_key *k = cfg_keys; k->name; k++) {
			if ((int)k->sect != s)
				continue;
			syntax_of(k, syn, sizeof(syn), markdown);
			const char *apply = k->apply == CK_RESTART ? "restart" : "applies";
			if (markdown) {
				fprintf(f, "| `%s` | %s | %s%s%s | %s | %s%s%s%s%s |\n", k->name, syn,
					k->def ? "`" : "", k->def ? k->def : k->required ? "required" : "none",
					k->def ? "`" : "", apply, k->doc,
					k->repeat ? " Repeatable." : "",
					k->flag ? " Flag: `--" : "", k->flag ? k->flag : "",
					k->flag ? " VALUE`." : "");
			} else {
				fprintf(f, "  %s = %s    (default %s; %s%s%s)\n", k->name, syn,
					k->def ? k->def : k->required ? "required" : "none",
					k->apply == CK_RESTART ? "needs a restart" : "a reload applies it",
					k->flag ? "; flag --" : "", k->flag ? k->flag : "");
				print_plain(f, k->doc, 6);
			}
		}
	}
}
