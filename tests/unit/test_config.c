/* test_config.c — the INI loader, the command line and validation.
 *
 * Error cases write a small file to /tmp, load it with fd 2 redirected to a
 * temp file, and check that each expected "FILE:LINE: message" line is
 * there, with the exact line number. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include "test.h"
#include "mysql/auth.h"
#include "core/config.h"
#include "core/config_keys.h"
#include "core/config_value.h"

/* tests/unit/configs/ relative to where make compiled us (the repo root) */
#define SRC_DIR  "tests/unit/"
#define CONF(x)  SRC_DIR "configs/" x
#define EXAMPLE  "shunt.example.ini"

static char captured[16384];   /* what the last capture collected */
static char tmp_path[64];      /* the last file written by write_tmp */

/* ---- capturing stdout/stderr ------------------------------------------------ */

struct capture {
	int fd, saved, tmp;
};

static void capture_begin(struct capture *c, int fd)
{
	char path[] = "/tmp/shunt-test-capture-XXXXXX";

	fflush(stdout);
	c->fd = fd;
	c->tmp = mkstemp(path);
	unlink(path);
	c->saved = dup(fd);
	dup2(c->tmp, fd);
}

static void capture_end(struct capture *c)
{
	ssize_t n;

	fflush(stdout);
	fflush(stderr);
	dup2(c->saved, c->fd);
	close(c->saved);
	lseek(c->tmp, 0, SEEK_SET);
	n = read(c->tmp, captured, sizeof(captured) - 1);
	captured[n > 0 ? n : 0] = '\0';
	close(c->tmp);
}

/* Writes text to a fresh temp file; its name is left in tmp_path. */
static const char *write_tmp(const char *text)
{
	int fd;

	if (tmp_path[0])
		unlink(tmp_path);
	strcpy(tmp_path, "/tmp/shunt-test-XXXXXX.ini");
	fd = mkstemps(tmp_path, 4);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		perror("write_tmp");
		exit(2);
	}
	close(fd);
	return tmp_path;
}

/* Is there a line "path:line: ...fragment..." in captured? */
static int has_err_at(const char *path, int line, const char *fragment)
{
	char prefix[128];
	size_t plen = (size_t)snprintf(prefix, sizeof(prefix), "%s:%d: ", path, line);

	for (const char *p = captured; *p;) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		if (len >= plen && memcmp(p, prefix, plen) == 0) {
			char buf[1024];
			snprintf(buf, sizeof(buf), "%.*s", (int)len, p);
			if (strstr(buf + plen, fragment))
				return 1;
		}
		p += len + (eol ? 1 : 0);
	}
	fprintf(stderr, "  expected '%s%s' in:\n%s", prefix, fragment, captured);
	return 0;
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* Loads text (as a file) into a fresh cfg with stderr captured. Returns
 * config_load_file's result; cfg is left for the caller to free. */
static int load_text(struct shunt_config *cfg, const char *text)
{
	struct capture cap;
	int r;

	config_init(cfg);
	write_tmp(text);
	capture_begin(&cap, 2);
	r = config_load_file(cfg, tmp_path);
	capture_end(&cap);
	return r;
}

/* config_from_args over a NULL-terminated list, stdout+stderr captured. */
static int run_args(struct shunt_config *cfg, ...)
{
	char *argv[64];
	int argc = 0, r;
	struct capture out, err;
	va_list ap;

	argv[argc++] = "shunt";
	va_start(ap, cfg);
	while ((argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	capture_begin(&out, 1);
	capture_begin(&err, 2);
	r = config_from_args(cfg, argc, argv);
	capture_end(&err);
	{
		char keep[sizeof(captured)];
		strcpy(keep, captured);
		capture_end(&out);
		/* stdout first, then stderr, in one buffer */
		strncat(captured, keep, sizeof(captured) - strlen(captured) - 1);
	}
	return r;
}

static unsigned port_of(const struct cfg_addr *a)
{
	if (a->sa.ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)&a->sa)->sin_port);
	if (a->sa.ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)&a->sa)->sin6_port);
	return 0;
}

static struct cfg_listener *listener(struct shunt_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_listeners; i++)
		if (strcmp(cfg->listeners[i].name, name) == 0)
			return &cfg->listeners[i];
	return NULL;
}

static void stage2_of(const char *pw, uint8_t s2[AUTH_SHA1_LEN])
{
	uint8_t s1[AUTH_SHA1_LEN];

	auth_stage1_from_password(pw, strlen(pw), s1);
	auth_stage2_from_stage1(s1, s2);
}

/* ---- valid files ---------------------------------------------------------------- */

static void test_defaults(void)
{
	struct shunt_config cfg;

	config_init(&cfg);
	CHECK_EQ(cfg.log_level, LOG_INFO);
	CHECK_EQ(cfg.threads, 0);
	CHECK_EQ(cfg.connect_timeout_ms, 2000);
	CHECK_EQ(cfg.backend_login_timeout_ms, 5000);
	CHECK_EQ(cfg.auth_timeout_ms, 10000);
	CHECK_EQ(cfg.relay_buffer, 1024 * 1024);
	CHECK_EQ(cfg.max_connections, 10000);
	CHECK(strcmp(cfg.server_version, "5.5.5-10.11.0-shunt") == 0);
	CHECK_EQ(cfg.fastpath, FASTPATH_AUTO);
	CHECK(strcmp(cfg.pin_path, "/sys/fs/bpf/shunt") == 0);
	CHECK_EQ(cfg.fastpath_set + cfg.pin_path_set + cfg.admin_set + cfg.http_set, 0);
	CHECK_EQ(cfg.n_listeners + cfg.n_pools + cfg.n_users, 0);
	CHECK_EQ(cfg.migrate_timeout_ms, 10000);
	CHECK_EQ(cfg.rebalance, 0);
	CHECK_EQ(cfg.rebalance_interval_ms, 5000);
	CHECK(cfg.rebalance_tolerance == 0.2);
	CHECK_EQ(cfg.rebalance_max_moves, 8);
	CHECK_EQ(cfg.rebalance_policy, REBALANCE_PASSIVE);
	config_free(&cfg);
	config_free(&cfg);      /* twice is fine */

	struct shunt_config zero = { 0 };
	config_free(&zero);
	config_free(NULL);
}

static void test_full_file(void)
{
	struct shunt_config cfg;
	uint8_t s2[AUTH_SHA1_LEN], want[AUTH_SHA1_LEN];

	CHECK_EQ(run_args(&cfg, "-c", CONF("full.ini"), NULL), 0);
	CHECK_EQ(count_lines(captured), 0);
	CHECK_EQ(cfg.log_level, LOG_DEBUG);
	CHECK_EQ(cfg.threads, 4);
	CHECK_EQ(cfg.connect_timeout_ms, 1500);
	CHECK_EQ(cfg.backend_login_timeout_ms, 4000);
	CHECK_EQ(cfg.auth_timeout_ms, 9000);
	CHECK_EQ(cfg.relay_buffer, 256 * 1024);
	CHECK_EQ(cfg.max_connections, 500);
	CHECK(strcmp(cfg.server_version, "8.0.36-shunt") == 0);
	CHECK_EQ(cfg.fastpath, FASTPATH_OFF);
	CHECK(strcmp(cfg.pin_path, "/sys/fs/bpf/shunt-test") == 0);
	CHECK_EQ(cfg.fastpath_set, 1);
	CHECK_EQ(cfg.pin_path_set, 1);
	CHECK_EQ(cfg.admin_set, 1);
	CHECK_EQ(cfg.http_set, 1);
	CHECK_EQ(port_of(&cfg.admin), 16034);
	CHECK_EQ(cfg.http.sa.ss_family, AF_INET6);
	CHECK_EQ(port_of(&cfg.http), 19104);
	CHECK(strcmp(cfg.path, CONF("full.ini")) == 0);
	CHECK(cfg.admin_on && cfg.admin_password_set && cfg.http_on);
	CHECK(strcmp(cfg.admin_user.name, "boss") == 0);
	CHECK(strcmp(cfg.http_token, "tok-123") == 0);
	CHECK_EQ(cfg.http_write, 0);
	CHECK_EQ(cfg.health_interval_ms, 500);
	CHECK_EQ(cfg.health_fail_threshold, 5);
	CHECK_EQ(cfg.migrate_timeout_ms, 2500);
	CHECK_EQ(cfg.rebalance, 1);
	CHECK_EQ(cfg.rebalance_interval_ms, 750);
	CHECK(cfg.rebalance_tolerance == 0.35);
	CHECK_EQ(cfg.rebalance_max_moves, 3);
	CHECK_EQ(cfg.rebalance_policy, REBALANCE_ACTIVE);

	CHECK_EQ(cfg.n_listeners, 2);
	struct cfg_listener *l = listener(&cfg, "main");
	CHECK(l != NULL);
	if (l) {
		CHECK(strcmp(l->addr.text, "127.0.0.1:16033") == 0);
		CHECK_EQ(port_of(&l->addr), 16033);
		CHECK(strcmp(l->pool, "primary") == 0);
	}
	CHECK_EQ(cfg.n_pools, 2);
	struct cfg_pool *p = config_find_pool(&cfg, "replicas");
	CHECK(p != NULL);
	if (p) {
		CHECK_EQ(p->n_backends, 3);
		CHECK_EQ(p->backends[0].weight, 3);
		CHECK_EQ(p->backends[1].weight, 1);
		CHECK_EQ(p->backends[1].addr.sa.ss_family, AF_INET6);
		CHECK_EQ(port_of(&p->backends[2].addr), 3309);
		CHECK_EQ(p->backends[2].weight, 1000);
	}
	CHECK(config_find_pool(&cfg, "nope") == NULL);

	CHECK_EQ(cfg.n_users, 3);
	const struct cfg_user *u = config_find_user(&cfg, "app", 3);
	CHECK(u != NULL);
	if (u) {
		stage2_of("password", s2);
		CHECK_MEM(u->stage2, s2, AUTH_SHA1_LEN);
		CHECK_EQ(u->empty_password, 0);
	}
	u = config_find_user(&cfg, "ro", 2);
	CHECK(u != NULL);
	if (u) {
		auth_parse_stage2_hex("*14E65567ABDB5135D0CFD9A70B3032C179A49EE7", want);
		CHECK_MEM(u->stage2, want, AUTH_SHA1_LEN);
	}
	u = config_find_user(&cfg, "nopwXXX", 4);    /* length-delimited name */
	CHECK(u != NULL && u->empty_password == 1);
	CHECK(config_find_user(&cfg, "no", 2) == NULL);
	CHECK(config_find_user(&cfg, "apps", 4) == NULL);
	config_free(&cfg);
}

static void test_minimal_file_gets_default_listener(void)
{
	struct shunt_config cfg;

	CHECK_EQ(run_args(&cfg, "-c", CONF("minimal.ini"), NULL), 0);
	CHECK_EQ(cfg.n_listeners, 1);
	struct cfg_listener *l = listener(&cfg, "default");
	CHECK(l != NULL);
	if (l) {
		CHECK(strcmp(l->addr.text, "127.0.0.1:6033") == 0);
		CHECK_EQ(port_of(&l->addr), 6033);
		CHECK(strcmp(l->pool, "default") == 0);
	}
	CHECK_EQ(cfg.check_only, 0);
	config_free(&cfg);
}

static void test_example_file_passes_check_config(void)
{
	struct shunt_config cfg;

	CHECK_EQ(run_args(&cfg, "-c", EXAMPLE, "--check-config", NULL), 0);
	CHECK_EQ(count_lines(captured), 0);
	CHECK_EQ(cfg.check_only, 1);
	CHECK_EQ(cfg.n_listeners, 2);
	CHECK_EQ(cfg.n_pools, 2);
	CHECK_EQ(cfg.n_users, 2);
	CHECK_EQ(cfg.relay_buffer, 1024 * 1024);
	config_free(&cfg);
}

static void test_comments_bom_crlf(void)
{
	struct shunt_config cfg;

	CHECK_EQ(load_text(&cfg, "\xEF\xBB\xBF# comment\r\n; another\r\n[user  a]\r\n"
			   "password = pa;ss word ; inline comment\r\n"), 0);
	const struct cfg_user *u = config_find_user(&cfg, "a", 1);
	uint8_t s2[AUTH_SHA1_LEN];
	stage2_of("pa;ss word", s2);
	CHECK(u != NULL && memcmp(u->stage2, s2, AUTH_SHA1_LEN) == 0);
	config_free(&cfg);
}

/* ---- file errors, each at its line ------------------------------------------------- */

static void test_unknown_section_and_key(void)
{
	struct shunt_config cfg;

	CHECK_EQ(load_text(&cfg,
		"[global]\n"                 /* 1 */
		"threads = 2\n"              /* 2 */
		"colour = blue\n"            /* 3 */
		"[frontend x]\n"             /* 4 */
		"bind = 1.2.3.4:5\n"         /* 5: skipped: its section is bad */
		"[pool p]\n"                 /* 6 */
		"backends = 1.2.3.4:5\n"     /* 7 */
		"[users]\n"),                /* 8 */
		4);
	CHECK(has_err_at(tmp_path, 3, "unknown key 'colour' in [global]"));
	CHECK(has_err_at(tmp_path, 4, "unknown section [frontend x]"));
	CHECK(has_err_at(tmp_path, 7, "unknown key 'backends' in [pool p]"));
	CHECK(has_err_at(tmp_path, 8, "unknown section [users]"));
	CHECK_EQ(count_lines(captured), 4);
	CHECK_EQ(cfg.threads, 2);
	config_free(&cfg);
}

static void test_bad_numbers(void)
{
	struct shunt_config cfg;

	CHECK_EQ(load_text(&cfg,
		"[global]\n"                                        /* 1 */
		"threads = 12abc\n"                                 /* 2 */
		"max_connections = -5\n"                            /* 3 */
		"connect_timeout_ms = 18446744073709551616\n"       /* 4: overflow */
		"auth_timeout_ms = 0\n"                             /* 5: below range */
		"backend_login_timeout_ms = 0x10\n"                 /* 6 */
		"relay_buffer = 3g\n"                               /* 7 */
		"[pool p]\n"                                        /* 8 */
		"backend = 127.0.0.1:3306 weight=0\n"               /* 9 */
		"backend = 127.0.0.1:3306 weight=1001\n"            /* 10 */
		"[global2]\n"),                                     /* 11 */
		9);
	CHECK(has_err_at(tmp_path, 2, "threads: '12abc' is not a number"));
	CHECK(has_err_at(tmp_path, 3, "max_connections: '-5' is not a number"));
	CHECK(has_err_at(tmp_path, 4, "connect_timeout_ms: '18446744073709551616' is out of range"));
	CHECK(has_err_at(tmp_path, 5, "auth_timeout_ms: '0' is out of range (1..3600000)"));
	CHECK(has_err_at(tmp_path, 6, "backend_login_timeout_ms: '0x10' is not a number"));
	CHECK(has_err_at(tmp_path, 7, "relay_buffer: '3g' is not a number"));
	CHECK(has_err_at(tmp_path, 9, "weight: '0' is out of range (1..1000)"));
	CHECK(has_err_at(tmp_path, 10, "weight: '1001' is out of range"));
	CHECK(has_err_at(tmp_path, 11, "unknown section [global2]"));
	CHECK_EQ(cfg.threads, 0);          /* untouched by bad values */
	CHECK_EQ(cfg.max_connections, 10000);
	config_free(&cfg);
}

static void test_number_limits_and_suffixes(void)
{
	struct shunt_config cfg;

	CHECK_EQ(load_text(&cfg, "[global]\nrelay_buffer = 4k\nthreads = 1024\n"
			   "max_connections = 1000000\n"), 0);
	CHECK_EQ(cfg.relay_buffer, 4096);
	CHECK_EQ(cfg.threads, 1024);
	CHECK_EQ(cfg.max_connections, 1000000);
	config_free(&cfg);

	CHECK_EQ(load_text(&cfg, "[global]\nrelay_buffer = 1024M\n"), 0);
	CHECK_EQ(cfg.relay_buffer, 1024u * 1024 * 1024);
	config_free(&cfg);

	CHECK_EQ(load_text(&cfg, "[global]\n"
			   "relay_buffer = 3k\n"                     /* 2: below 4096 */
			   "threads = 1025\n"                        /* 3 */
			   "max_connections = 1000001\n"             /* 4 */
			   "relay_buffer = 1025m\n"), 4);            /* 5: duplicate */
	CHECK(has_err_at(tmp_path, 2, "relay_buffer: '3k' is out of range"));
	CHECK(has_err_at(tmp_path, 3, "threads: '1025' is out of range (0..1024)"));
	CHECK(has_err_at(tmp_path, 4, "max_connections: '1000001' is out of range"));
	CHECK(has_err_at(tmp_path, 5, "duplicate key 'relay_buffer' in [global]"));
	config_free(&cfg);

	CHECK_EQ(load_text(&cfg, "[global]\nrelay_buffer = 17179869184m\n"), 1); /* overflows x2^20 */
	CHECK(has_err_at(tmp_path, 2, "out of range"));
	config_free(&cfg);
}

/* The migration keys: ranges, on/off, the decimal tolerance, the policy. */
static void test_migration_keys(void)
{
	struct shunt_config cfg;

	CHECK_EQ(load_text(&cfg, "[global]\nmigrate_timeout_ms = 100\nrebalance = off\n"
			   "rebalance_interval_ms = 100\nrebalance_tolerance = 0\n"
			   "rebalance_max_moves = 10000\nrebalance_policy = passive\n"), 0);
	CHECK_EQ(cfg.migrate_timeout_ms, 100);
	CHECK_EQ(cfg.rebalance, 0);
	CHECK_EQ(cfg.rebalance_interval_ms, 100);
	CHECK(cfg.rebalance_tolerance == 0);
	CHECK_EQ(cfg.rebalance_max_moves, 10000);
	CHECK_EQ(cfg.rebalance_policy, REBALANCE_PASSIVE);
	config_free(&cfg);

	CHECK_EQ(load_text(&cfg, "[global]\nmigrate_timeout_ms = 3600000\nrebalance = on\n"
			   "rebalance_tolerance = 10\nrebalance_max_moves = 1\n"
			   "rebalance_policy = active\n"), 0);
	CHECK_EQ(cfg.migrate_timeout_ms, 3600000);
	CHECK_EQ(cfg.rebalance, 1);
	CHECK(cfg.rebalance_tolerance == 10);
	CHECK_EQ(cfg.rebalance_max_moves, 1);
	CHECK_EQ(cfg.rebalance_policy, REBALANCE_ACTIVE);
	config_free(&cfg);

	CHECK_EQ(load_text(&cfg, "[global]\nrebalance_tolerance = .5\n"), 0);
	CHECK(cfg.rebalance_tolerance == 0.5);
	config_free(&cfg);
	CHECK_EQ(load_text(&cfg, "[global]\nrebalance_tolerance = 2.\n"), 0);
	CHECK(cfg.rebalance_tolerance == 2.0);
	config_free(&cfg);

	CHECK_EQ(load_text(&cfg,
		"[global]\n"                                   /* 1 */
		"migrate_timeout_ms = 99\n"                    /* 2 */
		"rebalance = yes\n"                            /* 3 */
		"rebalance_interval_ms = 99\n"                 /* 4 */
		"rebalance_tolerance = 10.5\n"                 /* 5 */
		"rebalance_max_moves = 0\n"                    /* 6 */
		"rebalance_policy = eager\n"                   /* 7 */
		"[global]\n"), 7);                             /* 8: duplicate section */
	CHECK(has_err_at(tmp_path, 2, "migrate_timeout_ms: '99' is out of range (100..3600000)"));
	CHECK(has_err_at(tmp_path, 3, "rebalance: 'yes': expected on or off"));
	CHECK(has_err_at(tmp_path, 4, "rebalance_interval_ms: '99' is out of range (100..3600000)"));
	CHECK(has_err_at(tmp_path, 5, "rebalance_tolerance: '10.5' is out of range (0..10)"));
	CHECK(has_err_at(tmp_path, 6, "rebalance_max_moves: '0' is out of range (1..10000)"));
	CHECK(has_err_at(tmp_path, 7, "rebalance_policy: 'eager': expected active or passive"));
	CHECK(has_err_at(tmp_path, 8, "duplicate section [global]"));
	/* bad values leave the defaults */
	CHECK_EQ(cfg.migrate_timeout_ms, 10000);
	CHECK_EQ(cfg.rebalance, 0);
	CHECK(cfg.rebalance_tolerance == 0.2);
	CHECK_EQ(cfg.rebalance_policy, REBALANCE_PASSIVE);
	config_free(&cfg);

	/* strtod would take these; a tolerance is plain digits and one '.' */
	static const char *const bad_tol[] = { "-0.1", "+1", "1e-1", "0x1p-2", "inf", "nan",
					       ".", "1.2.3", "0,2", "0.2 x", "20%", NULL };
	for (size_t i = 0; bad_tol[i]; i++) {
		char text[128];
		snprintf(text, sizeof(text), "[global]\nrebalance_tolerance = %s\n", bad_tol[i]);
		int r = load_text(&cfg, text);
		if (r != 1)
			fprintf(stderr, "  tolerance '%s' -> %d errors\n", bad_tol[i], r);
		CHECK_EQ(r, 1);
		CHECK(has_err_at(tmp_path, 2, "rebalance_tolerance: '"));
		CHECK(cfg.rebalance_tolerance == 0.2);
		config_free(&cfg);
	}
}

static void test_bad_addresses(void)
{
	struct shunt_config cfg;

	CHECK_EQ(load_text(&cfg,
		"[listener a]\n"                               /* 1 */
		"listen = 127.0.0.1\n"                         /* 2 */
		"pool = p\n"                                   /* 3 */
		"[listener b]\n"                               /* 4 */
		"listen = 127.0.0.1:0\n"                       /* 5 */
		"pool = p\n"                                   /* 6 */
		"[pool p]\n"                                   /* 7 */
		"backend = ::1:3306\n"                         /* 8 */
		"backend = no.such.host.invalid:3306\n"        /* 9 */
		"backend = 127.0.0.1:65536\n"                  /* 10 */
		"backend = :3306\n"                            /* 11 */
		"backend = [::1]3306\n"                        /* 12 */
		"backend = 127.0.0.1:3306 weight=2 extra\n"    /* 13 */
		"backend = 127.0.0.1:3306 speed=2\n"           /* 14 */
		"[global]\n"                                   /* 15 */
		"admin = [127.0.0.1]:1\n"),                    /* 16 */
		10);
	CHECK(has_err_at(tmp_path, 2, "listen: '127.0.0.1': expected HOST:PORT"));
	CHECK(has_err_at(tmp_path, 5, "listen: '127.0.0.1:0': port must be a number 1..65535"));
	CHECK(has_err_at(tmp_path, 8, "write IPv6 addresses as [ADDR]:PORT"));
	CHECK(has_err_at(tmp_path, 9, "cannot resolve 'no.such.host.invalid'"));
	CHECK(has_err_at(tmp_path, 10, "port must be a number 1..65535"));
	CHECK(has_err_at(tmp_path, 11, "missing host"));
	CHECK(has_err_at(tmp_path, 12, "expected [IPV6]:PORT"));
	CHECK(has_err_at(tmp_path, 13, "unexpected 'extra' after weight"));
	CHECK(has_err_at(tmp_path, 14, "unexpected 'speed=2' after the address"));
	CHECK(has_err_at(tmp_path, 16, "admin: '[127.0.0.1]:1': cannot resolve"));
	config_free(&cfg);
}

static void test_parse_addr_api(void)
{
	struct cfg_addr a;

	CHECK_EQ(config_parse_addr("127.0.0.1:3306", &a), 0);
	CHECK_EQ(a.sa.ss_family, AF_INET);
	CHECK_EQ(a.salen, sizeof(struct sockaddr_in));
	CHECK_EQ(port_of(&a), 3306);
	CHECK(strcmp(a.text, "127.0.0.1:3306") == 0);
	CHECK_EQ(config_parse_addr("[::1]:65535", &a), 0);
	CHECK_EQ(a.sa.ss_family, AF_INET6);
	CHECK_EQ(port_of(&a), 65535);
	CHECK_EQ(config_parse_addr("localhost:1", &a), 0);
	CHECK_EQ(port_of(&a), 1);
	CHECK_EQ(config_parse_addr("localhost:-1", &a), -EINVAL);
	CHECK_EQ(config_parse_addr("localhost:3306x", &a), -EINVAL);
	CHECK_EQ(config_parse_addr("localhost:", &a), -EINVAL);
	CHECK_EQ(config_parse_addr("localhost", &a), -EINVAL);
	CHECK_EQ(config_parse_addr("[::1]", &a), -EINVAL);
	CHECK_EQ(config_parse_addr("[localhost]:1", &a), -EINVAL);
	CHECK_EQ(config_parse_addr("", &a), -EINVAL);
	CHECK(strcmp(a.text, "localhost:1") == 0);    /* untouched by failures */
}

static void test_user_errors(void)
{
	struct shunt_config cfg;

	CHECK_EQ(load_text(&cfg,
		"[user both]\n"                                                    /* 1 */
		"password = x\n"                                                   /* 2 */
		"password_hash = *2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19\n"      /* 3 */
		"[user badhash]\n"                                                 /* 4 */
		"password_hash = 2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19\n"       /* 5 */
		"[user none]\n"                                                    /* 6 */
		"[user twice]\n"                                                   /* 7 */
		"password = a\n"                                                   /* 8 */
		"password = b\n"                                                   /* 9 */
		"[user bad:name]\n"                                                /* 10 */
		"password = x\n"                                                   /* 11 */
		"[user]\n"),                                                       /* 12 */
		6);
	CHECK(has_err_at(tmp_path, 3, "[user both]: give either password or password_hash, not both"));
	CHECK(has_err_at(tmp_path, 5, "password_hash: expected '*' followed by 40 hex digits"));
	CHECK(has_err_at(tmp_path, 6, "[user none]: needs 'password' or 'password_hash'"));
	CHECK(has_err_at(tmp_path, 9, "duplicate key 'password' in [user twice]"));
	CHECK(has_err_at(tmp_path, 10, "[user bad:name]: user names are"));
	CHECK(has_err_at(tmp_path, 12, "[user]: missing name"));
	config_free(&cfg);
}

static void test_structure_errors(void)
{
	struct shunt_config cfg;
	char long_line[400];

	memset(long_line, 'x', sizeof(long_line));
	memcpy(long_line, "password = ", 11);
	long_line[sizeof(long_line) - 2] = '\n';
	long_line[sizeof(long_line) - 1] = '\0';

	char text[2048];
	snprintf(text, sizeof(text),
		"stray = 1\n"                  /* 1 */
		"[pool p]\n"                   /* 2 */
		"backend = 127.0.0.1:1\n"      /* 3 */
		"this line has no equals\n"    /* 4 */
		"[pool p]\n"                   /* 5 */
		"[listener l\n"                /* 6 */
		"[listener l]\n"               /* 7 */
		"listen = 127.0.0.1:1\n"       /* 8 */
		"[global x]\n"                 /* 9 */
		"[global]\n"                   /* 10 */
		"[global]\n"                   /* 11 */
		"[listener bad/name]\n"        /* 12 */
		"[user u]\n"                   /* 13 */
		"%s"                           /* 14 */
		"password = ok\n"              /* 15 */
		"= value\n",                   /* 16 */
		long_line);
	CHECK_EQ(load_text(&cfg, text), 10);
	CHECK(has_err_at(tmp_path, 1, "'stray' is outside any section"));
	CHECK(has_err_at(tmp_path, 4, "syntax error"));
	CHECK(has_err_at(tmp_path, 5, "duplicate section [pool p] (first defined at line 2)"));
	CHECK(has_err_at(tmp_path, 6, "bad section header"));
	CHECK(has_err_at(tmp_path, 7, "[listener l]: missing 'pool = NAME'"));
	CHECK(has_err_at(tmp_path, 9, "[global] takes no name"));
	CHECK(has_err_at(tmp_path, 11, "duplicate section [global] (first defined at line 10)"));
	CHECK(has_err_at(tmp_path, 12, "[listener bad/name]: names are"));
	CHECK(has_err_at(tmp_path, 14, "line is longer than"));
	CHECK(has_err_at(tmp_path, 16, "unknown key '' in [user u]"));
	CHECK_EQ(count_lines(captured), 10);
	config_free(&cfg);
}

static void test_missing_file(void)
{
	struct shunt_config cfg;

	config_init(&cfg);
	CHECK_EQ(config_load_file(&cfg, "/nonexistent/shunt.ini"), -ENOENT);
	CHECK_EQ(config_load_file(&cfg, "/tmp"), -EISDIR);
	config_free(&cfg);

	CHECK_EQ(run_args(&cfg, "-c", "/nonexistent/shunt.ini", NULL), -EINVAL);
	CHECK(strstr(captured, "shunt: cannot read /nonexistent/shunt.ini: No such file") != NULL);
	CHECK_EQ(count_lines(captured), 1);
	config_free(&cfg);
}

/* ---- validation (with lines, through config_from_args) ---------------------------------- */

static void test_missing_pool_reference(void)
{
	struct shunt_config cfg;
	const char *path = write_tmp(
		"[user u]\n"                     /* 1 */
		"password = x\n"                 /* 2 */
		"\n"                             /* 3 */
		"[listener main]\n"              /* 4 */
		"listen = 127.0.0.1:16050\n"     /* 5 */
		"pool = nope\n"                  /* 6 */
		"[listener other]\n"             /* 7 */
		"listen = 127.0.0.1:16051\n"     /* 8 */
		"pool = empty\n"                 /* 9 */
		"[pool empty]\n");               /* 10 */

	CHECK_EQ(run_args(&cfg, "-c", path, NULL), -EINVAL);
	CHECK(has_err_at(path, 4, "[listener main]: pool 'nope' is not defined"));
	CHECK(has_err_at(path, 10, "[pool empty]: no backends (used by listener other)"));
	CHECK_EQ(count_lines(captured), 2);
	config_free(&cfg);
}

static void test_duplicate_listener_address_and_no_users(void)
{
	struct shunt_config cfg;
	const char *path = write_tmp(
		"[pool default]\n"               /* 1 */
		"backend = 127.0.0.1:3306\n"     /* 2 */
		"[listener a]\n"                 /* 3 */
		"listen = 127.0.0.1:16060\n"     /* 4 */
		"pool = default\n"               /* 5 */
		"[listener b]\n"                 /* 6 */
		"listen = localhost:16060\n"     /* 7 */
		"pool = default\n");             /* 8 */

	CHECK_EQ(run_args(&cfg, "-c", path, NULL), -EINVAL);
	CHECK(has_err_at(path, 6, "[listener b]: address localhost:16060 is already used by listener a"));
	CHECK(strstr(captured, "shunt: no users defined") != NULL);
	CHECK_EQ(count_lines(captured), 2);
	config_free(&cfg);
}

static void test_validate_api_adds_default_listener(void)
{
	struct shunt_config cfg;
	struct capture cap;
	int r;

	config_init(&cfg);
	capture_begin(&cap, 2);
	r = config_validate(&cfg);
	capture_end(&cap);
	CHECK_EQ(r, 2);       /* no users; pool "default" missing */
	CHECK(strstr(captured, "shunt: no users defined") != NULL);
	CHECK(strstr(captured, "shunt: [listener default]: pool 'default' is not defined") != NULL);
	CHECK_EQ(cfg.n_listeners, 1);
	CHECK(strcmp(cfg.listeners[0].addr.text, "127.0.0.1:6033") == 0);
	config_free(&cfg);
}

/* ---- the command line ------------------------------------------------------------------ */

static void test_cli_overrides_file(void)
{
	struct shunt_config cfg;
	uint8_t s2[AUTH_SHA1_LEN], want[AUTH_SHA1_LEN];
	const char *path = write_tmp(
		"[global]\n"
		"log_level = warn\n"
		"fastpath = on\n"
		"[listener only]\n"
		"listen = 127.0.0.1:16070\n"
		"pool = p\n"
		"[pool p]\n"
		"backend = 127.0.0.1:3306\n"
		"[pool default]\n"
		"backend = 127.0.0.1:3307\n"
		"[user a]\n"
		"password = fromfile\n");

	/* -c after the flags: the file is still loaded first */
	CHECK_EQ(run_args(&cfg, "--log-level", "debug", "--listen", "127.0.0.1:16071",
			  "--backend", "127.0.0.1:4000", "--backend", "127.0.0.1:4001",
			  "--user", "a:fromflag",
			  "--user", "b:*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19",
			  "--user", "c:", "-c", path, NULL), 0);
	CHECK_EQ(count_lines(captured), 0);
	CHECK_EQ(cfg.log_level, LOG_DEBUG);
	CHECK_EQ(cfg.fastpath, FASTPATH_ON);            /* from the file */
	CHECK_EQ(cfg.n_listeners, 1);                   /* the one listener was overridden */
	CHECK(strcmp(cfg.listeners[0].name, "only") == 0);
	CHECK_EQ(port_of(&cfg.listeners[0].addr), 16071);
	CHECK(strcmp(cfg.listeners[0].pool, "p") == 0);
	struct cfg_pool *p = config_find_pool(&cfg, "default");
	CHECK(p != NULL && p->n_backends == 2);
	if (p && p->n_backends == 2) {
		CHECK_EQ(port_of(&p->backends[0].addr), 4000);
		CHECK_EQ(port_of(&p->backends[1].addr), 4001);
		CHECK_EQ(p->backends[1].weight, 1);
	}
	p = config_find_pool(&cfg, "p");
	CHECK(p != NULL && p->n_backends == 1);
	CHECK_EQ(cfg.n_users, 3);
	const struct cfg_user *u = config_find_user(&cfg, "a", 1);
	stage2_of("fromflag", s2);
	CHECK(u && memcmp(u->stage2, s2, AUTH_SHA1_LEN) == 0);
	u = config_find_user(&cfg, "b", 1);
	auth_parse_stage2_hex("*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19", want);
	CHECK(u && memcmp(u->stage2, want, AUTH_SHA1_LEN) == 0 && !u->empty_password);
	u = config_find_user(&cfg, "c", 1);
	CHECK(u && u->empty_password);
	config_free(&cfg);
}

static void test_cli_listen_creates_default_when_ambiguous(void)
{
	struct shunt_config cfg;
	const char *path = write_tmp(
		"[listener x]\nlisten = 127.0.0.1:16080\npool = default\n"
		"[listener y]\nlisten = 127.0.0.1:16081\npool = default\n"
		"[pool default]\nbackend = 127.0.0.1:3306\n"
		"[user a]\npassword = a\n");

	CHECK_EQ(run_args(&cfg, "-c", path, "--listen", "127.0.0.1:16082", NULL), 0);
	CHECK_EQ(cfg.n_listeners, 3);
	struct cfg_listener *l = listener(&cfg, "default");
	CHECK(l && port_of(&l->addr) == 16082 && strcmp(l->pool, "default") == 0);
	config_free(&cfg);

	/* a listener named "default" wins over "the only one" */
	path = write_tmp(
		"[listener default]\nlisten = 127.0.0.1:16083\npool = default\n"
		"[pool default]\nbackend = 127.0.0.1:3306\n"
		"[user a]\npassword = a\n");
	CHECK_EQ(run_args(&cfg, "-c", path, "--listen", "[::1]:16084", NULL), 0);
	CHECK_EQ(cfg.n_listeners, 1);
	CHECK_EQ(cfg.listeners[0].addr.sa.ss_family, AF_INET6);
	config_free(&cfg);
}

static void test_cli_only(void)
{
	struct shunt_config cfg;

	CHECK_EQ(run_args(&cfg, "--backend", "127.0.0.1:3306", "--user", "root:secret",
			  "--fastpath", "off", "--pin-path", "/sys/fs/bpf/x",
			  "--admin", "127.0.0.1:16090", "--admin-user", "root2:pw",
			  "--http", "localhost:16091", NULL), 0);
	CHECK(cfg.path == NULL);
	CHECK_EQ(cfg.n_listeners, 1);
	CHECK(strcmp(cfg.listeners[0].addr.text, "127.0.0.1:6033") == 0);
	CHECK_EQ(cfg.fastpath, FASTPATH_OFF);
	CHECK_EQ(cfg.fastpath_set, 1);
	CHECK(strcmp(cfg.pin_path, "/sys/fs/bpf/x") == 0);
	CHECK_EQ(cfg.pin_path_set, 1);
	CHECK_EQ(cfg.admin_set, 1);
	CHECK_EQ(port_of(&cfg.admin), 16090);
	CHECK_EQ(cfg.http_set, 1);
	CHECK(strcmp(cfg.admin_user.name, "root2") == 0 && cfg.admin_password_set);
	CHECK_EQ(cfg.check_only, 0);
	config_free(&cfg);

	/* defaults: HTTP on 6080, admin on 6032 but only with a password */
	CHECK_EQ(run_args(&cfg, "--backend", "127.0.0.1:3306", "--user", "root:secret", NULL), 0);
	CHECK(cfg.http_on && port_of(&cfg.http) == 6080 && cfg.http_write == 1);
	CHECK(cfg.admin_on && port_of(&cfg.admin) == 6032 && !cfg.admin_password_set);
	CHECK_EQ(cfg.health_fail_threshold, 3);
	config_free(&cfg);
	CHECK_EQ(run_args(&cfg, "--backend", "127.0.0.1:3306", "--user", "root:secret",
			  "--admin", "off", "--http", "off", NULL), 0);
	CHECK(!cfg.admin_on && !cfg.http_on);
	config_free(&cfg);
	/* an explicit admin address without a password is refused */
	CHECK_EQ(run_args(&cfg, "--backend", "127.0.0.1:3306", "--user", "root:secret",
			  "--admin", "127.0.0.1:16090", NULL), -EINVAL);
	CHECK(strstr(captured, "the admin port needs admin_password") != NULL);
	config_free(&cfg);

	CHECK_EQ(run_args(&cfg, "--backend", "127.0.0.1:3306", "--user", "root:secret",
			  "--check-config", NULL), 0);
	CHECK_EQ(cfg.check_only, 1);
	config_free(&cfg);
}

static void test_cli_errors(void)
{
	struct shunt_config cfg;

	CHECK_EQ(run_args(&cfg, "--backend", "127.0.0.1", "--user", "nocolon",
			  "--fastpath", "maybe", "--pin-path", "relative", "--admin", "x",
			  "--http", "1.2.3.4:99999", "--log-level", "loud", "--listen", "::1:5",
			  "--bogus", "-z", "extra", "--user", NULL), -EINVAL);
	CHECK(strstr(captured, "shunt: --backend '127.0.0.1': expected HOST:PORT") != NULL);
	CHECK(strstr(captured, "shunt: --user: expected NAME:PASSWORD") != NULL);
	CHECK(strstr(captured, "shunt: --fastpath 'maybe'") != NULL);
	CHECK(strstr(captured, "shunt: --pin-path 'relative'") != NULL);
	CHECK(strstr(captured, "shunt: --admin 'x'") != NULL);
	CHECK(strstr(captured, "shunt: --http '1.2.3.4:99999'") != NULL);
	CHECK(strstr(captured, "shunt: --log-level 'loud'") != NULL);
	CHECK(strstr(captured, "shunt: --listen '::1:5'") != NULL);
	CHECK(strstr(captured, "shunt: unknown option '--bogus'") != NULL);
	CHECK(strstr(captured, "shunt: unknown option '-z'") != NULL);
	CHECK(strstr(captured, "shunt: unexpected argument 'extra'") != NULL);
	CHECK(strstr(captured, "shunt: option '--user' needs an argument") != NULL);
	config_free(&cfg);

	/* a '*' password that is not a hash is a plain password, with a warning */
	CHECK_EQ(run_args(&cfg, "--backend", "127.0.0.1:3306", "--user", "a:*abc", NULL), 0);
	CHECK(strstr(captured, "warning: --user a:") != NULL);
	uint8_t s2[AUTH_SHA1_LEN];
	stage2_of("*abc", s2);
	const struct cfg_user *u = config_find_user(&cfg, "a", 1);
	CHECK(u && memcmp(u->stage2, s2, AUTH_SHA1_LEN) == 0);
	config_free(&cfg);
}

static void test_cli_help_version(void)
{
	struct shunt_config cfg;

	CHECK_EQ(run_args(&cfg, "--version", NULL), 1);
	CHECK(strcmp(captured, "shunt " SHUNT_VERSION "\n") == 0);
	config_free(&cfg);
	CHECK_EQ(run_args(&cfg, "-V", NULL), 1);
	config_free(&cfg);
	CHECK_EQ(run_args(&cfg, "-h", NULL), 1);
	CHECK(strncmp(captured, "Usage: shunt [-c FILE]", 22) == 0);
	config_free(&cfg);
	CHECK_EQ(run_args(&cfg, "--help", "--bogus-after-help", NULL), 1);
	config_free(&cfg);
}

/* ---- the key table ------------------------------------------------------------------- */

/* Each typed field has the width its setter writes, every section fits
 * parse_ctx.seen, and every key has docs. */
static void test_key_table_shapes(void)
{
	int per_sect[CFG_SECT__COUNT] = { 0 };

	for (const struct cfg_key *k = cfg_keys; k->name; k++) {
		size_t want = k->type == CK_UINT ? sizeof(unsigned) : k->type == CK_SIZE ? sizeof(size_t) :
			      k->type == CK_DECIMAL ? sizeof(double) :
			      k->type == CK_ON_OFF || k->type == CK_ENUM ? sizeof(int) : k->size;
		if (k->size != want)
			fprintf(stderr, "  key %s: field of %zu bytes, its type writes %zu\n", k->name, k->size, want);
		CHECK_EQ(k->size, want);
		CHECK(k->doc && k->doc[0]);
		CHECK(k->type != CK_CUSTOM || k->set);
		CHECK(k->type != CK_ENUM || k->choices);
		CHECK(!k->flag || k->help);
		CHECK(cfg_key_find(k->sect, k->name) == k);      /* names are unique per section */
		per_sect[k->sect]++;
	}
	for (int i = 0; i < CFG_SECT__COUNT; i++)
		CHECK(per_sect[i] > 0 && per_sect[i] <= 64);    /* parse_ctx.seen: a bit per key */
}

/* A different valid value for a key, or NULL when the test has none. */
static const char *other_value(const struct cfg_key *k, char *buf, size_t n)
{
	switch (k->type) {
	case CK_UINT: case CK_SIZE:
		snprintf(buf, n, "%llu", k->def && strtoull(k->def, NULL, 10) == k->max ? k->min : k->max);
		return buf;
	case CK_DECIMAL:
		snprintf(buf, n, "%g", k->dmax);
		return buf;
	case CK_ON_OFF:
		return k->def && strcmp(k->def, "on") == 0 ? "off" : "on";
	case CK_ENUM:
		for (const struct cfg_choice *c = k->choices; c->name; c++)
			if (!k->def || strcmp(c->name, k->def) != 0)
				return c->name;
		return NULL;
	default:
		if (strcmp(k->name, "admin") == 0 || strcmp(k->name, "http") == 0)
			return "off";
		if (strcmp(k->name, "pin_path") == 0)
			return "/sys/fs/bpf/other";
		if (strcmp(k->name, "server_version") == 0)
			return "8.0.40-other";
		if (strcmp(k->name, "admin_user") == 0)
			return "root2";
		if (strcmp(k->name, "http_token") == 0)
			return "tok";
		return NULL;
	}
}

/* Every [global] key: its default is what config_init set (so the table is
 * the only home of defaults), a file value lands in the config, and the
 * reload check flags exactly the restart-only keys. */
static void test_key_table_defaults_and_restart(void)
{
	char buf[64], err[256], line[160];
	int tried = 0;

	for (const struct cfg_key *k = cfg_keys; k->name; k++) {
		if (k->sect != CFG_SECT_GLOBAL)
			continue;
		struct shunt_config a, b, d;
		const char *v = other_value(k, buf, sizeof(buf));

		config_init(&a);
		if (k->def) {           /* the default, set by hand, changes nothing */
			config_init(&d);
			CHECK_EQ(cfg_key_set(k, &d, k->def, err, sizeof(err)), 0);
			if (k->has_given)
				*(int *)((char *)&d + k->given_offset) = 0;
			if (memcmp((char *)&a + k->offset, (char *)&d + k->offset, k->size) != 0)
				fprintf(stderr, "  key %s: config_init differs from its default %s\n", k->name, k->def);
			CHECK(memcmp((char *)&a + k->offset, (char *)&d + k->offset, k->size) == 0);
			config_free(&d);
		}
		if (!v) {
			config_free(&a);
			continue;
		}
		tried++;
		snprintf(line, sizeof(line), "[global]\n%s = %s\n", k->name, v);
		write_tmp(line);
		config_init(&b);
		CHECK_EQ(config_load_file(&b, tmp_path), 0);
		const char *changed = cfg_keys_restart_change(&a, &b);
		if (k->apply == CK_RESTART) {
			if (!changed || strcmp(changed, k->name) != 0)
				fprintf(stderr, "  key %s = %s: restart check says %s\n", k->name, v, changed ? changed : "nothing");
			CHECK(changed && strcmp(changed, k->name) == 0);
		} else {
			if (changed)
				fprintf(stderr, "  key %s = %s (reloadable): restart check says %s\n", k->name, v, changed);
			CHECK(changed == NULL);
			CHECK(memcmp((char *)&a + k->offset, (char *)&b + k->offset, k->size) != 0);
		}
		config_free(&a);
		config_free(&b);
	}
	CHECK(tried >= 20);
}

/* Flags come from the table: each key's flag sets it, and a bad value is
 * reported as "--flag 'value': ...". */
static void test_key_flags(void)
{
	struct shunt_config cfg;

	CHECK_EQ(run_args(&cfg, "--backend", "127.0.0.1:3306", "--user", "u:p", "--fastpath-mode",
			  "stream_parser", "--log-level", "warn", NULL), 0);
	CHECK_EQ(cfg.fastpath_kind, FASTPATH_KIND_STREAM_PARSER);
	CHECK_EQ(cfg.log_level, LOG_WARN);
	config_free(&cfg);
	CHECK_EQ(run_args(&cfg, "--backend", "127.0.0.1:3306", "--user", "u:p", "--fastpath-mode",
			  "fast", NULL), -EINVAL);
	CHECK(strstr(captured, "shunt: --fastpath-mode 'fast': expected auto, verdict or stream_parser") != NULL);
	config_free(&cfg);
	CHECK_EQ(run_args(&cfg, "--help-config", NULL), 1);
	CHECK(strstr(captured, "  rebalance_tolerance = 0–10    (default 0.2; a reload applies it)") != NULL);
	CHECK(strstr(captured, "  threads = 0–1024    (default 0; needs a restart)") != NULL);
	config_free(&cfg);
	CHECK_EQ(run_args(&cfg, "--help-config=markdown", NULL), 1);
	CHECK(strstr(captured, "| `pin_path` | DIR | `/sys/fs/bpf/shunt` | restart |") != NULL);
	config_free(&cfg);
	CHECK_EQ(run_args(&cfg, "--help-config=html", NULL), -EINVAL);
	config_free(&cfg);
}

/* An empty admin password would open the admin port to anyone: refused
 * in the file and in --admin-user (it used to count as set). */
static void test_empty_admin_password(void)
{
	struct shunt_config cfg;

	write_tmp("[global]\nadmin_password =\n[pool default]\nbackend = 127.0.0.1:3306\n"
		  "[user u]\npassword = p\n");
	CHECK_EQ(run_args(&cfg, "-c", tmp_path, NULL), -EINVAL);
	CHECK(has_err_at(tmp_path, 2, "admin_password: an empty password would let anyone in"));
	CHECK(!cfg.admin_password_set);
	config_free(&cfg);
	CHECK_EQ(run_args(&cfg, "--backend", "127.0.0.1:3306", "--user", "u:p", "--admin-user", "boss:",
			  NULL), -EINVAL);
	CHECK(strstr(captured, "shunt: --admin-user boss: an empty password would let anyone in") != NULL);
	CHECK(!cfg.admin_password_set);
	config_free(&cfg);
}

static void test_set_user_password_api(void)
{
	struct cfg_user u = { .name = "x" };
	uint8_t s2[AUTH_SHA1_LEN];

	CHECK_EQ(config_set_user_password(&u, "*14E65567ABDB5135D0CFD9A70B3032C179A49EE7"), 0);
	stage2_of("secret", s2);
	CHECK_MEM(u.stage2, s2, AUTH_SHA1_LEN);
	CHECK_EQ(config_set_user_password(&u, ""), 0);
	CHECK_EQ(u.empty_password, 1);
	CHECK_EQ(config_set_user_password(&u, "secret"), 0);
	CHECK_EQ(u.empty_password, 0);
	CHECK_MEM(u.stage2, s2, AUTH_SHA1_LEN);
	CHECK_EQ(config_set_user_password(&u, NULL), -EINVAL);
}

static void test_log_levels(void)
{
	enum log_level l = LOG_INFO;

	CHECK_EQ(log_parse_level("debug", &l), 0);
	CHECK_EQ(l, LOG_DEBUG);
	CHECK_EQ(log_parse_level("warn", &l), 0);
	CHECK_EQ(l, LOG_WARN);
	CHECK_EQ(log_parse_level("WARN", &l), -EINVAL);
	CHECK_EQ(log_parse_level("", &l), -EINVAL);
	CHECK(strcmp(log_level_name(LOG_ERROR), "error") == 0);
	CHECK(strcmp(log_level_name((enum log_level)9), "?") == 0);
	CHECK_EQ(log_threshold, LOG_INFO);

	/* one line, "YYYY-MM-DDTHH:MM:SS.mmmZ LEVEL message" */
	struct capture cap;
	capture_begin(&cap, 2);
	log_set_level(LOG_DEBUG);
	pr_debug("[test] hello %d", 42);
	log_set_level(LOG_WARN);
	pr_info("not shown");
	pr_err("with newline\n");
	log_set_level(LOG_INFO);
	capture_end(&cap);
	CHECK_EQ(count_lines(captured), 2);
	CHECK(strlen(captured) > 25 && captured[4] == '-' && captured[10] == 'T' &&
	      captured[19] == '.' && captured[23] == 'Z');
	CHECK(strstr(captured, "Z DEBUG [test] hello 42\n") != NULL);
	CHECK(strstr(captured, "Z ERROR with newline\n") != NULL);

	/* an over-long message is cut, still one line */
	char big[5000];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	capture_begin(&cap, 2);
	log_msg(LOG_ERROR, "%s", big);
	capture_end(&cap);
	CHECK_EQ(count_lines(captured), 1);
	CHECK(strstr(captured, "aaa...\n") != NULL);
	log_route_libs();
}

int main(void)
{
	RUN(test_defaults);
	RUN(test_full_file);
	RUN(test_minimal_file_gets_default_listener);
	RUN(test_example_file_passes_check_config);
	RUN(test_comments_bom_crlf);
	RUN(test_unknown_section_and_key);
	RUN(test_bad_numbers);
	RUN(test_number_limits_and_suffixes);
	RUN(test_migration_keys);
	RUN(test_bad_addresses);
	RUN(test_parse_addr_api);
	RUN(test_user_errors);
	RUN(test_structure_errors);
	RUN(test_missing_file);
	RUN(test_missing_pool_reference);
	RUN(test_duplicate_listener_address_and_no_users);
	RUN(test_validate_api_adds_default_listener);
	RUN(test_cli_overrides_file);
	RUN(test_cli_listen_creates_default_when_ambiguous);
	RUN(test_cli_only);
	RUN(test_cli_errors);
	RUN(test_cli_help_version);
	RUN(test_set_user_password_api);
	RUN(test_key_table_shapes);
	RUN(test_key_table_defaults_and_restart);
	RUN(test_key_flags);
	RUN(test_empty_admin_password);
	RUN(test_log_levels);
	if (tmp_path[0])
		unlink(tmp_path);
	return TEST_SUMMARY();
}
