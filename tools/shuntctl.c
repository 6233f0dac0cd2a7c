/* shuntctl — inspect and control a running shunt.
 *
 * Commands are a table of { name, handler, usage, help }. Tunnels are read
 * straight from the BPF maps pinned under the pin path, so they can be
 * listed even when the daemon is busy: `tunnels` and `tunnel` never talk to
 * the daemon, they only read the `tunnels` map (include/shunt_abi.h) with
 * bpf(2). The control commands (backends, backend, kill, migrate, reload,
 * stats) go
 * through the daemon's HTTP API instead (tools/http_client.c, JSON bodies
 * parsed with jansson).
 *
 * Exit status: 0 ok, 1 no such tunnel / no pinned maps / map unreadable /
 * HTTP API unreachable or answering an error, 2 usage. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <linux/types.h>
#include <bpf/bpf.h>
#include <jansson.h>
#include "mysql/tracker_host.h"  /* the tracker code tun_apply_rearm needs */
#include "shunt_abi.h"
#include "http_client.h"

#define SHUNTCTL_VERSION "0.1.0"
#define DEFAULT_PIN_PATH "/sys/fs/bpf/shunt"
#define DEFAULT_HTTP_ADDR "127.0.0.1:6080"
#define DEFAULT_TOKEN_FILE "/run/shunt/http-token"   /* shunt's http_token_file */

enum cmd_section { SEC_MAPS, SEC_HTTP, SEC_OTHER };

/* Several entries may share a name (one per usage line in the help);
 * the first is the one run. */
struct cmd {
	const char *name;
	int (*func)(int argc, char **argv);
	const char *usage;
	const char *help;
	enum cmd_section section;
};

static const char *pin_path = DEFAULT_PIN_PATH;
static int json_output;
static const char *http_addr = DEFAULT_HTTP_ADDR;   /* -H, $SHUNT_HTTP */
static const char *http_token;                      /* -T, $SHUNT_HTTP_TOKEN */
static const char *token_file = DEFAULT_TOKEN_FILE; /* --token-file, $SHUNT_HTTP_TOKEN_FILE */
static char file_token[130];                        /* read from token_file */

static int do_help(int argc, char **argv);

/* ------------------------------------------------------------ names */

static const char *const cmd_names[0x20] = {
	"COM_SLEEP", "COM_QUIT", "COM_INIT_DB", "COM_QUERY", "COM_FIELD_LIST",
	"COM_CREATE_DB", "COM_DROP_DB", "COM_REFRESH", "COM_SHUTDOWN", "COM_STATISTICS",
	"COM_PROCESS_INFO", "COM_CONNECT", "COM_PROCESS_KILL", "COM_DEBUG", "COM_PING",
	"COM_TIME", "COM_DELAYED_INSERT", "COM_CHANGE_USER", "COM_BINLOG_DUMP",
	"COM_TABLE_DUMP", "COM_CONNECT_OUT", "COM_REGISTER_SLAVE", "COM_STMT_PREPARE",
	"COM_STMT_EXECUTE", "COM_STMT_SEND_LONG_DATA", "COM_STMT_CLOSE", "COM_STMT_RESET",
	"COM_SET_OPTION", "COM_STMT_FETCH", "COM_DAEMON", "COM_BINLOG_DUMP_GTID",
	"COM_RESET_CONNECTION",
};

/* Name of a command byte; unknown bytes as COM_0xNN (in a static buffer). */
static const char *cmd_name(unsigned c)
{
	static char buf[16];

	if (c < 0x20)
		return cmd_names[c];
	if (c == COM_STMT_BULK_EXECUTE)
		return "COM_STMT_BULK_EXECUTE";
	snprintf(buf, sizeof(buf), "COM_0x%02x", c & 0xff);
	return buf;
}

static const char *const rstate_names[] = {
	[MT_R_IDLE] = "idle",
	[MT_R_FIRST] = "first",
	[MT_R_COLDEFS] = "coldefs",
	[MT_R_META_EOF] = "meta_eof",
	[MT_R_ROWS] = "rows",
	[MT_R_PREP_PARAMS] = "prep_params",
	[MT_R_PREP_PARAMS_EOF] = "prep_params_eof",
	[MT_R_PREP_COLS] = "prep_cols",
	[MT_R_PREP_COLS_EOF] = "prep_cols_eof",
	[MT_R_INFILE] = "infile",
	[MT_R_AUTH] = "auth",
	[MT_R_AUTH_CLIENT] = "auth_client",
	[MT_R_OPAQUE] = "opaque",
};

static const char *rstate_name(unsigned r)
{
	if (r < sizeof(rstate_names) / sizeof(rstate_names[0]) && rstate_names[r])
		return rstate_names[r];
	return "?";
}

static const char *punt_name(unsigned r)
{
	return r < TUN_PUNT__COUNT ? tun_punt_names[r] : "?";
}

static const char *mode_name(unsigned m)
{
	switch (m) {
	case TUN_MODE_VERDICT:
		return "verdict";
	case TUN_MODE_STREAM_PARSER:
		return "stream_parser";
	default:
		return "?";
	}
}

static const char *state_name(unsigned s)
{
	switch (s) {
	case TUN_ST_FORWARD:
		return "forward";
	case TUN_ST_HELD:
		return "held";
	default:
		return "?";
	}
}

static const char *dir_name(unsigned d)
{
	switch (d) {
	case TUN_DIR_CLIENT:
		return "client";
	case TUN_DIR_BACKEND:
		return "backend";
	default:
		return "?";
	}
}

static const char *family_name(unsigned f)
{
	switch (f) {
	case AF_INET:
		return "inet";
	case AF_INET6:
		return "inet6";
	case 0:
		return "none";
	default:
		return "?";
	}
}

struct flag_name {
	unsigned long bit;
	const char *name;
};

static const struct flag_name status_flags[] = {
	{ SERVER_STATUS_IN_TRANS, "SERVER_STATUS_IN_TRANS" },
	{ SERVER_STATUS_AUTOCOMMIT, "SERVER_STATUS_AUTOCOMMIT" },
	{ SERVER_MORE_RESULTS_EXISTS, "SERVER_MORE_RESULTS_EXISTS" },
	{ SERVER_QUERY_NO_GOOD_INDEX_USED, "SERVER_QUERY_NO_GOOD_INDEX_USED" },
	{ SERVER_QUERY_NO_INDEX_USED, "SERVER_QUERY_NO_INDEX_USED" },
	{ SERVER_STATUS_CURSOR_EXISTS, "SERVER_STATUS_CURSOR_EXISTS" },
	{ SERVER_STATUS_LAST_ROW_SENT, "SERVER_STATUS_LAST_ROW_SENT" },
	{ SERVER_STATUS_DB_DROPPED, "SERVER_STATUS_DB_DROPPED" },
	{ SERVER_STATUS_NO_BACKSLASH_ESCAPES, "SERVER_STATUS_NO_BACKSLASH_ESCAPES" },
	{ SERVER_STATUS_METADATA_CHANGED, "SERVER_STATUS_METADATA_CHANGED" },
	{ SERVER_QUERY_WAS_SLOW, "SERVER_QUERY_WAS_SLOW" },
	{ SERVER_PS_OUT_PARAMS, "SERVER_PS_OUT_PARAMS" },
	{ SERVER_STATUS_IN_TRANS_READONLY, "SERVER_STATUS_IN_TRANS_READONLY" },
	{ SERVER_SESSION_STATE_CHANGED, "SERVER_SESSION_STATE_CHANGED" },
	{ 0, NULL },
};

static const struct flag_name cap_flags[] = {
	{ CLIENT_LONG_PASSWORD, "CLIENT_LONG_PASSWORD" },
	{ CLIENT_FOUND_ROWS, "CLIENT_FOUND_ROWS" },
	{ CLIENT_LONG_FLAG, "CLIENT_LONG_FLAG" },
	{ CLIENT_CONNECT_WITH_DB, "CLIENT_CONNECT_WITH_DB" },
	{ CLIENT_NO_SCHEMA, "CLIENT_NO_SCHEMA" },
	{ CLIENT_COMPRESS, "CLIENT_COMPRESS" },
	{ CLIENT_ODBC, "CLIENT_ODBC" },
	{ CLIENT_LOCAL_FILES, "CLIENT_LOCAL_FILES" },
	{ CLIENT_IGNORE_SPACE, "CLIENT_IGNORE_SPACE" },
	{ CLIENT_PROTOCOL_41, "CLIENT_PROTOCOL_41" },
	{ CLIENT_INTERACTIVE, "CLIENT_INTERACTIVE" },
	{ CLIENT_SSL, "CLIENT_SSL" },
	{ CLIENT_IGNORE_SIGPIPE, "CLIENT_IGNORE_SIGPIPE" },
	{ CLIENT_TRANSACTIONS, "CLIENT_TRANSACTIONS" },
	{ CLIENT_RESERVED, "CLIENT_RESERVED" },
	{ CLIENT_SECURE_CONNECTION, "CLIENT_SECURE_CONNECTION" },
	{ CLIENT_MULTI_STATEMENTS, "CLIENT_MULTI_STATEMENTS" },
	{ CLIENT_MULTI_RESULTS, "CLIENT_MULTI_RESULTS" },
	{ CLIENT_PS_MULTI_RESULTS, "CLIENT_PS_MULTI_RESULTS" },
	{ CLIENT_PLUGIN_AUTH, "CLIENT_PLUGIN_AUTH" },
	{ CLIENT_CONNECT_ATTRS, "CLIENT_CONNECT_ATTRS" },
	{ CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA, "CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA" },
	{ CLIENT_CAN_HANDLE_EXPIRED_PASSWORDS, "CLIENT_CAN_HANDLE_EXPIRED_PASSWORDS" },
	{ CLIENT_SESSION_TRACK, "CLIENT_SESSION_TRACK" },
	{ CLIENT_DEPRECATE_EOF, "CLIENT_DEPRECATE_EOF" },
	{ CLIENT_OPTIONAL_RESULTSET_METADATA, "CLIENT_OPTIONAL_RESULTSET_METADATA" },
	{ CLIENT_ZSTD_COMPRESSION, "CLIENT_ZSTD_COMPRESSION" },
	{ CLIENT_QUERY_ATTRIBUTES, "CLIENT_QUERY_ATTRIBUTES" },
	{ CLIENT_SSL_VERIFY_SERVER_CERT, "CLIENT_SSL_VERIFY_SERVER_CERT" },
	{ CLIENT_REMEMBER_OPTIONS, "CLIENT_REMEMBER_OPTIONS" },
	{ 0, NULL },
};

static const struct flag_name conv_flags[] = {
	{ MT_F_OPAQUE, "opaque" },
	{ MT_F_RING_FULL, "ring_full" },
	{ 0, NULL },
};

/* Calls fn(name) for every set bit of v: the table's names, then 0x...
 * for bits the table does not know. */
static void for_each_flag(unsigned long v, const struct flag_name *tab,
			  void (*fn)(const char *name, void *arg), void *arg)
{
	char buf[24];

	for (; tab->name; tab++) {
		if (v & tab->bit)
			fn(tab->name, arg);
		v &= ~tab->bit;
	}
	for (unsigned i = 0; i < 8 * sizeof(v); i++) {
		if (v & (1ul << i)) {
			snprintf(buf, sizeof(buf), "0x%lx", 1ul << i);
			fn(buf, arg);
		}
	}
}

/* Prints " NAME", wrapping before column 100 onto a line indented like the
 * detail view's values; arg is the current column. */
static void print_flag_word(const char *name, void *arg)
{
	int *col = arg;
	int len = (int)strlen(name) + 1;

	if (*col + len > 100) {
		printf("\n%15s", "");
		*col = 15;
	}
	printf(" %s", name);
	*col += len;
}

/* "  label         0x...." followed by the flag names. */
static void print_flags_line(const char *label, int hexdigits, unsigned long v,
			     const struct flag_name *tab)
{
	int col = printf("  %-13s 0x%0*lx", label, hexdigits, v);

	for_each_flag(v, tab, print_flag_word, &col);
	putchar('\n');
}

/* ------------------------------------------------------------ formatting */

/* "1.2.3.4", "::1", or "-" when the entry carries no address. */
static void fmt_ip(const struct tunnel *t, char *buf, size_t n)
{
	if (!t || (t->family != AF_INET && t->family != AF_INET6) ||
	    !inet_ntop(t->family, t->addr, buf, (socklen_t)n))
		snprintf(buf, n, "-");
}

/* "1.2.3.4:5", "[::1]:5", or "-". */
static void fmt_addr(const struct tunnel *t, char *buf, size_t n)
{
	char ip[INET6_ADDRSTRLEN];

	fmt_ip(t, ip, sizeof(ip));
	if (strcmp(ip, "-") == 0)
		snprintf(buf, n, "-");
	else if (t->family == AF_INET6)
		snprintf(buf, n, "[%s]:%u", ip, t->port);
	else
		snprintf(buf, n, "%s:%u", ip, t->port);
}

/* 512B, 1.5KiB, 23.4MiB, ... */
static void fmt_bytes(unsigned long long v, char *buf, size_t n)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	double d = (double)v;
	int u = -1;

	if (v < 1024) {
		snprintf(buf, n, "%lluB", v);
		return;
	}
	while (d >= 1024 && u < 5) {
		d /= 1024;
		u++;
	}
	snprintf(buf, n, "%.1f%s", d, units[u]);
}

/* 850ns, 12.3us, 4.56ms, 1.23s; "-" for 0. */
static void fmt_ns(unsigned long long ns, char *buf, size_t n)
{
	if (ns == 0)
		snprintf(buf, n, "-");
	else if (ns < 1000)
		snprintf(buf, n, "%lluns", ns);
	else if (ns < 1000000)
		snprintf(buf, n, "%.1fus", ns / 1e3);
	else if (ns < 1000000000)
		snprintf(buf, n, "%.2fms", ns / 1e6);
	else
		snprintf(buf, n, "%.2fs", ns / 1e9);
}

/* CLOCK_MONOTONIC, the clock of bpf_ktime_get_ns(). */
static unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

/* How long the current command has been running, 0 if none is. */
static unsigned long long running_ns(const struct tunnel *ct, unsigned long long now)
{
	if (!ct->cmd_start_ns || now < ct->cmd_start_ns)
		return 0;
	return now - ct->cmd_start_ns;
}

/* ------------------------------------------------------------ JSON writer
 *
 * Keys are string literals of this file; the only strings that come from
 * the maps are addresses formatted by inet_ntop and fixed names, so escaping
 * is for correctness' sake only. Nothing read from the network (the framing
 * prefix bytes) is ever printed. */

static int j_first[16];
static int j_depth;

static void j_sep(const char *key)
{
	if (j_depth > 0) {
		if (!j_first[j_depth])
			putchar(',');
		j_first[j_depth] = 0;
	}
	if (key)
		printf("\"%s\":", key);
}

static void j_open(const char *key, char c)
{
	j_sep(key);
	putchar(c);
	if (j_depth < (int)(sizeof(j_first) / sizeof(j_first[0])) - 1)
		j_depth++;
	j_first[j_depth] = 1;
}

static void j_close(char c)
{
	putchar(c);
	if (j_depth > 0)
		j_depth--;
}

static void j_num(const char *key, unsigned long long v)
{
	j_sep(key);
	printf("%llu", v);
}

static void j_bool(const char *key, int v)
{
	j_sep(key);
	fputs(v ? "true" : "false", stdout);
}

static void j_null(const char *key)
{
	j_sep(key);
	fputs("null", stdout);
}

static void j_str(const char *key, const char *s)
{
	j_sep(key);
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void j_flag_word(const char *name, void *arg)
{
	(void)arg;
	j_str(NULL, name);
}

static void j_flags(const char *key, unsigned long v, const struct flag_name *tab)
{
	j_open(key, '[');
	for_each_flag(v, tab, j_flag_word, NULL);
	j_close(']');
}

/* ------------------------------------------------------------ the map */

struct entry {
	__u64 cookie;
	struct tunnel t;         /* a client entry: with the control entry applied */
	int rearm_pending;       /* user space re-armed it; the program applies
				    that at its next run (tun_apply_rearm) */
};

struct session {
	const struct entry *c;   /* client entry */
	const struct entry *b;   /* backend entry, NULL while being set up */
};

struct snapshot {
	struct entry *e;         /* sorted by cookie, no duplicates */
	size_t n;
	struct session *s;       /* sorted by conn id */
	size_t ns;
};

/* Opens the pinned tunnels map and checks that its layout is the one this
 * shuntctl was built with. Returns the fd, or -1 after a message. */
static int open_tunnels(__u32 *max_entries)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	char path[512];
	int fd, err;

	snprintf(path, sizeof(path), "%s/tunnels", pin_path);
	fd = bpf_obj_get(path);
	if (fd < 0) {
		err = errno;
		if (err == ENOENT)
			fprintf(stderr, "shuntctl: no pinned tunnel map at %s: the kernel fast path "
					"is not running (daemon stopped, --fastpath off, or the fast path "
					"unavailable: see the daemon's start-up log); sessions, if any, are "
					"relayed in user space\n", path);
		else if (err == EACCES || err == EPERM)
			fprintf(stderr, "shuntctl: cannot open %s: %s (reading the pinned maps needs "
					"root, or CAP_BPF with access to the pin path)\n",
				path, strerror(err));
		else
			fprintf(stderr, "shuntctl: cannot open %s: %s\n", path, strerror(err));
		return -1;
	}
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0) {
		fprintf(stderr, "shuntctl: cannot inspect %s: %s\n", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (info.type != BPF_MAP_TYPE_HASH || info.key_size != sizeof(__u64) ||
	    info.value_size != sizeof(struct tunnel)) {
		fprintf(stderr, "shuntctl: %s does not have the layout this shuntctl knows "
				"(map type %u, key %u bytes, value %u bytes; expected hash, %zu, %zu = "
				"sizeof(struct tunnel)): ABI mismatch between the running daemon and this "
				"shuntctl; use the shuntctl built with the daemon, or "
				"'bpftool map dump pinned %s' (BTF-typed)\n",
			path, info.type, info.key_size, info.value_size, sizeof(__u64),
			sizeof(struct tunnel), path);
		close(fd);
		return -1;
	}
	*max_entries = info.max_entries;
	return fd;
}

static int cmp_entry_cookie(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	return x->cookie < y->cookie ? -1 : x->cookie > y->cookie;
}

static int cmp_session_id(const void *a, const void *b)
{
	const struct session *x = a, *y = b;

	if (x->c->t.conn_id != y->c->t.conn_id)
		return x->c->t.conn_id < y->c->t.conn_id ? -1 : 1;
	return cmp_entry_cookie(x->c, y->c);
}

static const struct entry *find_entry(const struct snapshot *sn, __u64 cookie)
{
	struct entry key = { .cookie = cookie };

	return bsearch(&key, sn->e, sn->n, sizeof(*sn->e), cmp_entry_cookie);
}

static void snapshot_free(struct snapshot *sn)
{
	free(sn->e);
	free(sn->s);
	memset(sn, 0, sizeof(*sn));
}

/* Reads every entry of the map and pairs them into sessions. The daemon
 * adds and deletes entries meanwhile: a key deleted under the iteration
 * makes get_next_key start over, so duplicates are dropped and the walk is
 * bounded; an entry deleted between its key and its lookup is skipped.
 * 0, or -1 after a message. */
static int snapshot_read(int fd, __u32 max_entries, struct snapshot *sn)
{
	size_t cap = 64, limit = 2 * (size_t)max_entries + 64, steps = 0, n = 0;
	__u64 key = 0, next;
	int first = 1;

	memset(sn, 0, sizeof(*sn));
	sn->e = malloc(cap * sizeof(*sn->e));
	if (!sn->e)
		goto oom;
	while (steps++ < limit) {
		if (bpf_map_get_next_key(fd, first ? NULL : &key, &next) < 0) {
			if (errno == ENOENT)
				break;
			fprintf(stderr, "shuntctl: reading the tunnels map: %s\n", strerror(errno));
			snapshot_free(sn);
			return -1;
		}
		first = 0;
		key = next;
		if (n == cap) {
			struct entry *e = realloc(sn->e, 2 * cap * sizeof(*e));
			if (!e)
				goto oom;
			sn->e = e;
			cap *= 2;
		}
		if (bpf_map_lookup_elem(fd, &key, &sn->e[n].t) < 0) {
			if (errno == ENOENT)
				continue;       /* the session closed meanwhile */
			fprintf(stderr, "shuntctl: reading the tunnels map: %s\n", strerror(errno));
			snapshot_free(sn);
			return -1;
		}
		sn->e[n].cookie = key;
		n++;
	}
	qsort(sn->e, n, sizeof(*sn->e), cmp_entry_cookie);
	sn->n = 0;
	for (size_t i = 0; i < n; i++)
		if (sn->n == 0 || sn->e[sn->n - 1].cookie != sn->e[i].cookie)
			sn->e[sn->n++] = sn->e[i];

	sn->s = calloc(sn->n ? sn->n : 1, sizeof(*sn->s));
	if (!sn->s)
		goto oom;
	for (size_t i = 0; i < sn->n; i++) {
		const struct entry *c = &sn->e[i], *b;

		if (c->t.dir != TUN_DIR_CLIENT)
			continue;
		b = find_entry(sn, c->t.peer_cookie);
		if (b && (b->t.dir != TUN_DIR_BACKEND || b->t.peer_cookie != c->cookie))
			b = NULL;
		/* After a migration the client entry still names its first
		 * backend (tunnel entries are the program's); the current one
		 * is the backend entry that points back at this client. */
		for (size_t k = 0; !b && k < sn->n; k++)
			if (sn->e[k].t.dir == TUN_DIR_BACKEND && sn->e[k].t.peer_cookie == c->cookie)
				b = &sn->e[k];
		sn->s[sn->ns].c = c;
		sn->s[sn->ns].b = b;
		sn->ns++;
	}
	qsort(sn->s, sn->ns, sizeof(*sn->s), cmp_session_id);
	return 0;
oom:
	fprintf(stderr, "shuntctl: out of memory\n");
	snapshot_free(sn);
	return -1;
}

/* Shows each client entry as the program will see it at its next run:
 * a re-arm user space wrote to tunnel_ctl (read after the entries) is
 * applied, as the daemon's own views do (docs/architecture.md, "A re-arm
 * takes effect at the program's next run"). Without a readable tunnel_ctl
 * the entries stay as read. */
static void apply_rearms(struct snapshot *sn)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/tunnel_ctl", pin_path);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return;
	for (size_t i = 0; i < sn->n; i++) {
		struct tunnel_ctl ctl;

		if (sn->e[i].t.dir == TUN_DIR_CLIENT &&
		    bpf_map_lookup_elem(fd, &sn->e[i].cookie, &ctl) == 0)
			sn->e[i].rearm_pending = tun_apply_rearm(&sn->e[i].t, &ctl);
	}
	close(fd);
}

/* Opens, reads and closes the maps. 0, or -1 after a message. */
static int load(struct snapshot *sn)
{
	__u32 max_entries = 0;
	int fd = open_tunnels(&max_entries), rc;

	if (fd < 0)
		return -1;
	rc = snapshot_read(fd, max_entries, sn);
	close(fd);
	if (rc == 0)
		apply_rearms(sn);
	return rc;
}

/* ------------------------------------------------------------ JSON output */

static void json_frame(const struct mt_frame *f)
{
	j_open("frame", '{');
	j_num("payload_len", f->payload_len);
	j_num("remaining", f->remaining);
	j_num("hdr_have", f->hdr_have);
	j_num("pfx_have", f->pfx_have);
	j_num("pfx_need", f->pfx_need);
	j_num("seq", f->seq);
	j_num("cont", f->cont);
	j_num("next_cont", f->next_cont);
	j_num("packets", f->packets);
	j_close('}');
}

/* Every field of one entry except the conversation (printed once, from
 * the client entry). */
static void json_entry(const char *key, const struct entry *e)
{
	const struct tunnel *t;
	char ip[INET6_ADDRSTRLEN];

	if (!e) {
		j_null(key);
		return;
	}
	t = &e->t;
	j_open(key, '{');
	j_num("cookie", e->cookie);
	j_num("peer_cookie", t->peer_cookie);
	j_num("conn_id", t->conn_id);
	j_num("backend_id", t->backend_id);
	j_num("dir", t->dir);
	j_str("dir_name", dir_name(t->dir));
	j_num("state", t->state);
	j_str("state_name", state_name(t->state));
	j_num("punt_reason", t->punt_reason);
	j_str("punt_reason_name", punt_name(t->punt_reason));
	j_num("punt_cmd", t->punt_cmd);
	if (t->punt_reason != TUN_PUNT_NONE)
		j_str("punt_cmd_name", cmd_name(t->punt_cmd));
	else
		j_null("punt_cmd_name");        /* never punted: punt_cmd is 0 */
	j_num("held_gen", t->held_gen);
	if (t->dir == TUN_DIR_CLIENT)
		j_bool("rearm_pending", e->rearm_pending);
	j_num("punt_missed", t->punt_missed);
	j_num("mode", t->mode);
	j_str("mode_name", mode_name(t->mode));
	fmt_ip(t, ip, sizeof(ip));
	j_str("addr", ip);
	j_num("port", t->port);
	j_num("family", t->family);
	j_str("family_name", family_name(t->family));
	json_frame(&t->frame);
	j_num("packets", t->packets);
	j_num("bytes", t->bytes);
	j_num("passed_bytes", t->passed_bytes);
	j_num("drops", t->drops);
	j_num("punts", t->punts);
	j_num("cmd_start_ns", t->cmd_start_ns);
	j_num("last_latency_ns", t->last_latency_ns);
	j_open("lat_hist", '[');
	for (int i = 0; i < TUN_LAT_BUCKETS; i++)
		j_num(NULL, t->lat_hist[i]);
	j_close(']');
	j_close('}');
}

static void json_conv(const struct mt_conv *c)
{
	j_open("conv", '{');
	j_num("caps", c->caps);
	j_flags("caps_names", c->caps, cap_flags);
	j_num("status", c->status);
	j_flags("status_names", c->status, status_flags);
	j_num("rstate", c->rstate);
	j_str("rstate_name", rstate_name(c->rstate));
	j_num("cmd", c->cmd);
	j_str("cmd_name", cmd_name(c->cmd));
	j_num("cmd_flags", c->cmd_flags);
	j_num("last_cmd", c->last_cmd);
	if (c->cmds_started)
		j_str("last_cmd_name", cmd_name(c->last_cmd));
	else
		j_null("last_cmd_name");
	j_num("ring_head", c->ring_head);
	j_num("ring_len", c->ring_len);
	j_open("ring_cmd", '[');
	for (int i = 0; i < MT_RING_LEN; i++)
		j_num(NULL, c->ring_cmd[i]);
	j_close(']');
	j_open("ring_flags", '[');
	for (int i = 0; i < MT_RING_LEN; i++)
		j_num(NULL, c->ring_flags[i]);
	j_close(']');
	j_num("cols_left", c->cols_left);
	j_num("prep_cols", c->prep_cols);
	j_num("flags", c->flags);
	j_flags("flags_names", c->flags, conv_flags);
	j_num("cmds_started", c->cmds_started);
	j_num("resps_done", c->resps_done);
	j_num("unexpected", c->unexpected);
	j_close('}');
}

/* One session: a flat summary (what the table shows, numbers as numbers),
 * then the conversation and both raw entries. */
static void json_session(const struct session *s, unsigned long long now)
{
	const struct tunnel *ct = &s->c->t, *bt = s->b ? &s->b->t : NULL;
	const struct mt_conv *c = &ct->conv;
	char buf[64];
	unsigned long long run = running_ns(ct, now);

	j_open(NULL, '{');
	j_num("conn_id", ct->conn_id);
	j_num("backend_id", ct->backend_id);
	fmt_addr(ct, buf, sizeof(buf));
	j_str("client", buf);
	if (bt) {
		fmt_addr(bt, buf, sizeof(buf));
		j_str("backend", buf);
	} else {
		j_null("backend");
	}
	j_str("mode", mode_name(ct->mode));
	j_str("state", state_name(ct->state));
	j_bool("rearm_pending", s->c->rearm_pending);
	j_str("punt_reason", punt_name(ct->punt_reason));
	j_bool("in_trans", (c->status & SERVER_STATUS_IN_TRANS) != 0);
	j_bool("tracking", !(c->flags & MT_F_OPAQUE));
	j_num("cmds_started", c->cmds_started);
	j_num("resps_done", c->resps_done);
	j_num("c2s_bytes", ct->bytes);
	j_num("c2s_packets", ct->packets);
	j_num("c2s_passed_bytes", ct->passed_bytes);
	j_num("s2c_bytes", bt ? bt->bytes : 0);
	j_num("s2c_packets", bt ? bt->packets : 0);
	j_num("s2c_passed_bytes", bt ? bt->passed_bytes : 0);
	j_num("drops", ct->drops + (bt ? bt->drops : 0));
	j_num("last_latency_ns", ct->last_latency_ns);
	if (run)
		j_num("running_ns", run);
	else
		j_null("running_ns");
	j_num("punts", ct->punts);
	j_num("punt_missed", ct->punt_missed);
	j_num("unexpected", c->unexpected);
	j_num("client_cookie", s->c->cookie);
	j_num("backend_cookie", s->b ? s->b->cookie : ct->peer_cookie);
	json_conv(c);
	json_entry("client_entry", s->c);
	json_entry("backend_entry", s->b);
	j_close('}');
}

/* ------------------------------------------------------------ commands */

static int do_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	if (json_output)
		printf("{\"version\":\"%s\"}\n", SHUNTCTL_VERSION);
	else
		printf("shuntctl %s\n", SHUNTCTL_VERSION);
	return 0;
}

/* Parses a command's own arguments: -j/--json anywhere, up to max_pos
 * positional arguments into pos[]. Returns the count, or -1 on a usage
 * error (message printed). */
static int parse_cmd_args(int argc, char **argv, char **pos, int max_pos)
{
	int n = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-j") == 0 || strcmp(argv[i], "--json") == 0) {
			json_output = 1;
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "shuntctl %s: unknown option %s\n", argv[0], argv[i]);
			return -1;
		} else if (n < max_pos) {
			pos[n++] = argv[i];
		} else {
			fprintf(stderr, "shuntctl %s: unexpected argument '%s'\n", argv[0], argv[i]);
			return -1;
		}
	}
	return n;
}

enum { COL_ID, COL_CLIENT, COL_BACKEND, COL_MODE, COL_STATE, COL_TRANS, COL_CMDS,
       COL_C2S, COL_S2C, COL_LAT, COL_PUNTS, NCOLS };

static const char *const col_heads[NCOLS] = {
	"ID", "CLIENT", "BACKEND", "MODE", "STATE", "IN_TRANS", "CMDS",
	"C2S(B/PKT)", "S2C(B/PKT)", "LAST_LAT", "PUNTS",
};

/* Numbers are right-aligned, text left-aligned. */
static const int col_right[NCOLS] = {
	[COL_ID] = 1, [COL_CMDS] = 1, [COL_C2S] = 1, [COL_S2C] = 1, [COL_LAT] = 1,
	[COL_PUNTS] = 1,
};

#define CELL 64

static void table_row(const struct session *s, char (*row)[CELL])
{
	const struct tunnel *ct = &s->c->t, *bt = s->b ? &s->b->t : NULL;
	const struct mt_conv *c = &ct->conv;
	char b1[32];

	snprintf(row[COL_ID], CELL, "%u", ct->conn_id);
	fmt_addr(ct, row[COL_CLIENT], CELL);
	if (bt)
		fmt_addr(bt, row[COL_BACKEND], CELL);
	else
		snprintf(row[COL_BACKEND], CELL, "(opening)");
	snprintf(row[COL_MODE], CELL, "%s", mode_name(ct->mode));
	if (ct->state == TUN_ST_HELD)
		snprintf(row[COL_STATE], CELL, "held:%s", punt_name(ct->punt_reason));
	else if (bt && bt->state == TUN_ST_HELD)
		snprintf(row[COL_STATE], CELL, "held:%s<", punt_name(bt->punt_reason));
	else
		snprintf(row[COL_STATE], CELL, "%s", state_name(ct->state));
	/* Once tracking stopped (binlog dump) the status is stale. */
	snprintf(row[COL_TRANS], CELL, "%s%s", (c->status & SERVER_STATUS_IN_TRANS) ? "yes" : "no",
		 (c->flags & MT_F_OPAQUE) ? "?" : "");
	snprintf(row[COL_CMDS], CELL, "%llu/%llu", (unsigned long long)c->cmds_started,
		 (unsigned long long)c->resps_done);
	fmt_bytes(ct->bytes, b1, sizeof(b1));
	snprintf(row[COL_C2S], CELL, "%s/%llu", b1, (unsigned long long)ct->packets);
	if (bt) {
		fmt_bytes(bt->bytes, b1, sizeof(b1));
		snprintf(row[COL_S2C], CELL, "%s/%llu", b1, (unsigned long long)bt->packets);
	} else {
		snprintf(row[COL_S2C], CELL, "-");
	}
	fmt_ns(ct->last_latency_ns, row[COL_LAT], CELL);
	snprintf(row[COL_PUNTS], CELL, "%llu", (unsigned long long)ct->punts);
}

/* Lists live tunnels from the pinned tunnels map, one line per session. */
static int do_tunnels(int argc, char **argv)
{
	struct snapshot sn;
	char (*rows)[NCOLS][CELL];
	int width[NCOLS];
	unsigned long long now;

	if (parse_cmd_args(argc, argv, NULL, 0) < 0)
		return 2;
	if (load(&sn) < 0)
		return 1;
	now = now_ns();
	if (json_output) {
		j_depth = 0;
		j_open(NULL, '[');
		for (size_t i = 0; i < sn.ns; i++) {
			putchar('\n');
			json_session(&sn.s[i], now);
		}
		if (sn.ns)
			putchar('\n');
		j_close(']');
		putchar('\n');
		snapshot_free(&sn);
		return 0;
	}
	if (sn.ns == 0) {
		printf("no live kernel tunnels under %s\n", pin_path);
		snapshot_free(&sn);
		return 0;
	}
	rows = calloc(sn.ns, sizeof(*rows));
	if (!rows) {
		fprintf(stderr, "shuntctl: out of memory\n");
		snapshot_free(&sn);
		return 1;
	}
	for (int k = 0; k < NCOLS; k++)
		width[k] = (int)strlen(col_heads[k]);
	for (size_t i = 0; i < sn.ns; i++) {
		table_row(&sn.s[i], rows[i]);
		for (int k = 0; k < NCOLS; k++)
			if ((int)strlen(rows[i][k]) > width[k])
				width[k] = (int)strlen(rows[i][k]);
	}
	for (int k = 0; k < NCOLS; k++)
		printf("%s%*s", k ? "  " : "", col_right[k] ? width[k] : -width[k], col_heads[k]);
	putchar('\n');
	for (size_t i = 0; i < sn.ns; i++) {
		for (int k = 0; k < NCOLS; k++) {
			/* no trailing blanks after the last column */
			int w = k == NCOLS - 1 && !col_right[k] ? 0 : width[k];
			printf("%s%*s", k ? "  " : "", col_right[k] ? w : -w, rows[i][k]);
		}
		putchar('\n');
	}
	free(rows);
	snapshot_free(&sn);
	return 0;
}

static void detail_counter(const char *what, unsigned long long c2s, unsigned long long s2c,
			   int have_b)
{
	if (have_b)
		printf("  %-22s %16llu %16llu\n", what, c2s, s2c);
	else
		printf("  %-22s %16llu %16s\n", what, c2s, "-");
}

static void detail_hist(const struct tunnel *ct)
{
	unsigned long long max = 0, total = 0;
	char lo[24], hi[24];

	for (int i = 0; i < TUN_LAT_BUCKETS; i++) {
		total += ct->lat_hist[i];
		if (ct->lat_hist[i] > max)
			max = ct->lat_hist[i];
	}
	printf("  histogram     %llu command(s); bucket i = [2^i, 2^(i+1)) us, bucket 0 "
	       "also < 1 us\n", total);
	if (!total)
		return;
	for (int i = 0; i < TUN_LAT_BUCKETS; i++) {
		unsigned long long v = ct->lat_hist[i];
		int bar;

		if (!v)
			continue;
		snprintf(lo, sizeof(lo), "%llu", i ? 1ull << i : 0ull);
		if (i == TUN_LAT_BUCKETS - 1)   /* the last bucket holds everything above */
			snprintf(hi, sizeof(hi), "inf");
		else
			snprintf(hi, sizeof(hi), "%llu", 1ull << (i + 1));
		bar = (int)((v * 40 + max - 1) / max);
		printf("    [%10s, %10s) us %10llu  %.*s\n", lo, hi, v, bar,
		       "########################################");
	}
}

/* One session in detail. */
static int do_tunnel(int argc, char **argv)
{
	struct snapshot sn;
	const struct session *s = NULL;
	const struct tunnel *ct, *bt;
	const struct mt_conv *c;
	char *pos[1], *end, b1[64], b2[64];
	unsigned long long now, run, id;
	int have_b;

	if (parse_cmd_args(argc, argv, pos, 1) != 1) {
		fprintf(stderr, "usage: shuntctl [-j] [-p PIN_PATH] tunnel ID [-j]\n");
		return 2;
	}
	errno = 0;
	id = strtoull(pos[0], &end, 10);
	if (errno || end == pos[0] || *end || id > 0xffffffffull || pos[0][0] == '-') {
		fprintf(stderr, "shuntctl tunnel: '%s' is not a connection id (see 'shuntctl "
				"tunnels')\n", pos[0]);
		return 2;
	}
	if (load(&sn) < 0)
		return 1;
	for (size_t i = 0; i < sn.ns; i++)
		if (sn.s[i].c->t.conn_id == id) {
			s = &sn.s[i];
			break;
		}
	if (!s) {
		fprintf(stderr, "shuntctl: no kernel tunnel with id %llu (closed, relayed in user "
				"space, or never existed; see 'shuntctl tunnels')\n", id);
		snapshot_free(&sn);
		return 1;
	}
	now = now_ns();
	if (json_output) {
		j_depth = 0;
		json_session(s, now);
		putchar('\n');
		snapshot_free(&sn);
		return 0;
	}

	ct = &s->c->t;
	bt = s->b ? &s->b->t : NULL;
	c = &ct->conv;
	have_b = bt != NULL;
	run = running_ns(ct, now);

	printf("tunnel %u  (backend_id %u)\n", ct->conn_id, ct->backend_id);
	printf("  mode          %s\n", mode_name(ct->mode));
	if (ct->state == TUN_ST_HELD)
		printf("  state         held: %s (%s) is with user space, held_gen %u\n",
		       punt_name(ct->punt_reason), cmd_name(ct->punt_cmd), ct->held_gen);
	else if (ct->punts)
		printf("  state         forward (last punt: %s, %s; held_gen %u%s)\n",
		       punt_name(ct->punt_reason), cmd_name(ct->punt_cmd), ct->held_gen,
		       s->c->rearm_pending ? "; re-armed, the kernel applies it at the next byte" : "");
	else
		printf("  state         forward\n");
	if (bt && bt->state == TUN_ST_HELD)
		printf("  backend side  held: %s, the client is slow to read (held_gen %u, %llu bytes "
		       "passed)\n", punt_name(bt->punt_reason), bt->held_gen,
		       (unsigned long long)bt->passed_bytes);
	fmt_addr(ct, b1, sizeof(b1));
	printf("  client        %-24s cookie %llu\n", b1, (unsigned long long)s->c->cookie);
	if (bt) {
		fmt_addr(bt, b1, sizeof(b1));
		printf("  backend       %-24s cookie %llu\n", b1, (unsigned long long)s->b->cookie);
	} else {
		printf("  backend       %-24s cookie %llu\n", "(no entry yet)",
		       (unsigned long long)ct->peer_cookie);
	}

	printf("\n  %-22s %16s %16s\n", "counters", "client->server", "server->client");
	detail_counter("bytes (kernel)", ct->bytes, have_b ? bt->bytes : 0, have_b);
	detail_counter("bytes (to user space)", ct->passed_bytes, have_b ? bt->passed_bytes : 0,
		       have_b);
	detail_counter("packets", ct->packets, have_b ? bt->packets : 0, have_b);
	detail_counter("drops", ct->drops, have_b ? bt->drops : 0, have_b);
	detail_counter("frame.payload_len", ct->frame.payload_len,
		       have_b ? bt->frame.payload_len : 0, have_b);
	detail_counter("frame.remaining", ct->frame.remaining, have_b ? bt->frame.remaining : 0,
		       have_b);
	detail_counter("frame.seq", ct->frame.seq, have_b ? bt->frame.seq : 0, have_b);

	printf("\nconversation\n");
	printf("  rstate        %s", rstate_name(c->rstate));
	if (c->rstate != MT_R_IDLE && c->rstate != MT_R_OPAQUE)
		printf(" (response to %s)", cmd_name(c->cmd));
	putchar('\n');
	printf("  last command  %s (0x%02x)\n", c->cmds_started ? cmd_name(c->last_cmd) : "-",
	       c->last_cmd);
	printf("  commands      %llu started, %llu responses done",
	       (unsigned long long)c->cmds_started, (unsigned long long)c->resps_done);
	if (c->cmds_started > c->resps_done)
		printf(" (%llu in flight)", (unsigned long long)(c->cmds_started - c->resps_done));
	putchar('\n');
	printf("  pipelined     %u queued", c->ring_len);
	for (unsigned i = 0; i < c->ring_len && i < MT_RING_LEN; i++)
		printf(" %s", cmd_name(c->ring_cmd[(c->ring_head + i) & (MT_RING_LEN - 1)]));
	putchar('\n');
	printf("  in trans      %s\n", (c->status & SERVER_STATUS_IN_TRANS) ? "yes" : "no");
	print_flags_line("status", 4, c->status, status_flags);
	print_flags_line("caps", 8, c->caps, cap_flags);
	print_flags_line("flags", 4, c->flags, conv_flags);
	if (c->flags & MT_F_OPAQUE)
		printf("                (tracking stopped: status and rstate are stale)\n");
	printf("  unexpected    %llu\n", (unsigned long long)c->unexpected);
	printf("  punts         %llu\n", (unsigned long long)ct->punts);
	printf("  punt_missed   %u\n", ct->punt_missed);

	printf("\nlatency\n");
	fmt_ns(ct->last_latency_ns, b1, sizeof(b1));
	printf("  last          %s\n", b1);
	fmt_ns(run, b2, sizeof(b2));
	printf("  running       %s\n", run ? b2 : "- (no command in progress)");
	detail_hist(ct);
	snapshot_free(&sn);
	return 0;
}

/* ------------------------------------------------------------ HTTP API
 *
 * The control commands talk to the daemon's HTTP API (docs: `http` in the
 * [global] section). Every response body is JSON; errors are
 * {"error":"message"} with a 4xx/5xx status. */

/* Reals at 15 significant digits: 0.1 prints as 0.1, not 0.10000000000000001. */
#define JSON_PRINT_FLAGS (JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY | \
			  JSON_REAL_PRECISION(15))

/* Pretty-prints v on stdout followed by a newline. */
static void json_print(const json_t *v)
{
	json_dumpf(v, stdout, JSON_PRINT_FLAGS);
	putchar('\n');
}

/* Removes -j/--json from a command's arguments (setting json_output), so
 * they may also follow the command as with `tunnels -j`. Returns the new
 * argc; argv[0] (the command name) is kept. */
static int take_json_flags(int argc, char **argv)
{
	int n = 1;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-j") == 0 || strcmp(argv[i], "--json") == 0)
			json_output = 1;
		else
			argv[n++] = argv[i];
	}
	argv[n] = NULL;
	return n;
}

/* The message of an error response: the body's "error" string, else the
 * body's first line if it is short text, else the reason phrase. */
static void error_message(const struct http_response *r, char *buf, size_t n)
{
	json_t *root = json_loadb(r->body, r->body_len, 0, NULL);
	json_t *e = root ? json_object_get(root, "error") : NULL;
	size_t len;

	if (json_is_string(e)) {
		snprintf(buf, n, "%s", json_string_value(e));
	} else if (!root && r->body_len && r->body_len < 200 &&
		   (len = strcspn(r->body, "\r\n")) > 0) {
		snprintf(buf, n, "%.*s", (int)len, r->body);
	} else if (r->reason[0]) {
		snprintf(buf, n, "%s", r->reason);
	} else {
		snprintf(buf, n, "request failed");
	}
	json_decref(root);
}


/* The token shunt keeps in its http_token_file, when no -T or
 * $SHUNT_HTTP_TOKEN was given and the file can be read (first line).
 * NULL otherwise: the request goes without one. */
static const char *token_from_file(void)
{
	FILE *f = fopen(token_file, "r");

	if (!f)
		return NULL;
	if (!fgets(file_token, sizeof(file_token), f))
		file_token[0] = '\0';
	fclose(f);
	file_token[strcspn(file_token, "\r\n")] = '\0';
	return file_token[0] ? file_token : NULL;
}

/* Sends method path (req, when non-NULL, as the JSON body) to the HTTP API
 * and checks the answer. On a 2xx status returns 0 with *out set to the
 * parsed body, or to NULL when the body is empty or (only if !need_json)
 * not JSON; the caller json_decref()s it. Otherwise prints one line on
 * stderr ("shuntctl: HTTP 404: no such backend", "shuntctl: cannot reach
 * the HTTP API at ...") and returns the exit status: 2 for an invalid -H
 * address, else 1; with error_json and -j, an error's JSON body is
 * printed on stdout as well. */
static int api_call_ex(const char *method, const char *path, const json_t *req, int need_json,
		       int error_json, json_t **out)
{
	struct http_response r;
	char err[256], msg[512];
	char *body = NULL;
	json_error_t jerr;
	enum http_err rc;

	*out = NULL;
	if (req) {
		body = json_dumps(req, JSON_COMPACT | JSON_PRESERVE_ORDER);
		if (!body) {
			fprintf(stderr, "shuntctl: out of memory\n");
			return 1;
		}
	}
	if (!(http_token && *http_token))
		http_token = token_from_file();
	rc = http_request(http_addr, method, path, http_token, body, body ? strlen(body) : 0,
			  &r, err, sizeof(err));
	free(body);
	switch (rc) {
	case HTTP_OK:
		break;
	case HTTP_E_ADDR:
		fprintf(stderr, "shuntctl: invalid HTTP API address: %s\n", err);
		return 2;
	case HTTP_E_CONNECT:
		fprintf(stderr, "shuntctl: cannot reach the HTTP API at %s: %s\n", http_addr, err);
		return 1;
	default:
		fprintf(stderr, "shuntctl: HTTP API at %s: %s\n", http_addr, err);
		return 1;
	}
	if (r.status < 200 || r.status > 299) {
		json_t *doc = error_json && json_output ? json_loadb(r.body, r.body_len, 0, NULL) : NULL;
		if (doc)
			json_print(doc);
		json_decref(doc);
		error_message(&r, msg, sizeof(msg));
		fprintf(stderr, "shuntctl: HTTP %d: %s\n", r.status, msg);
		if (r.status == 401)
			fprintf(stderr, "shuntctl: the API wants its token: -T TOKEN, "
					"SHUNT_HTTP_TOKEN, or read access to %s (--token-file)\n", token_file);
		http_response_free(&r);
		return 1;
	}
	if (r.body_len) {
		*out = json_loadb(r.body, r.body_len, 0, &jerr);
		if (!*out && need_json) {
			fprintf(stderr, "shuntctl: HTTP API at %s answered %s %s with invalid JSON "
					"(%s at line %d column %d)\n", http_addr, method, path, jerr.text,
				jerr.line, jerr.column);
			http_response_free(&r);
			return 1;
		}
	} else if (need_json && !json_output) {
		fprintf(stderr, "shuntctl: HTTP API at %s answered %s %s with an empty body\n",
			http_addr, method, path);
		http_response_free(&r);
		return 1;
	}
	http_response_free(&r);
	return 0;
}

static int api_call(const char *method, const char *path, const json_t *req, int need_json,
		    json_t **out)
{
	return api_call_ex(method, path, req, need_json, 0, out);
}

/* A JSON scalar as table/stats text: strings as they are, integers and
 * reals as numbers, true/false, "-" for null or missing; arrays and
 * objects compact JSON. Returns a malloc'd string (NULL: out of memory). */
static char *json_text(const json_t *v)
{
	if (!v || json_is_null(v))
		return strdup("-");
	if (json_is_string(v))
		return strdup(json_string_value(v));
	return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
}

/* A string member of obj, or of obj.backend (write responses may wrap the
 * backend), or NULL. */
static const char *resp_str(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	if (!json_is_string(v))
		v = json_object_get(json_object_get(obj, "backend"), key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Parses a weight: a decimal integer 0..INT_MAX. */
static int parse_weight(const char *s, json_int_t *w)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > 0x7fffffff || s[0] == '+' || s[0] == ' ') {
		fprintf(stderr, "shuntctl backend: weight '%s' is not an integer >= 0\n", s);
		return -1;
	}
	*w = v;
	return 0;
}

enum { BCOL_POOL, BCOL_ADDR, BCOL_WEIGHT, BCOL_STATE, BCOL_HEALTH, BCOL_SESS, BCOL_TOTAL,
       BCOL_FAIL, NBCOLS };

static const char *const bcol_heads[NBCOLS] = {
	"POOL", "ADDRESS", "WEIGHT", "STATE", "HEALTH", "SESSIONS", "TOTAL", "FAILURES",
};

static const char *const bcol_keys[NBCOLS] = {
	"pool", "address", "weight", "state", "health", "sessions", "sessions_total",
	"connect_failures",
};

static const int bcol_right[NBCOLS] = {
	[BCOL_WEIGHT] = 1, [BCOL_SESS] = 1, [BCOL_TOTAL] = 1, [BCOL_FAIL] = 1,
};

/* Prints the backends table (and any health check errors under it). */
static int print_backends(const json_t *list)
{
	size_t n = json_array_size(list), i;
	char **cells;
	int width[NBCOLS], rc = 0;

	if (n == 0) {
		printf("no backends\n");
		return 0;
	}
	cells = calloc(n * NBCOLS, sizeof(*cells));
	if (!cells) {
		fprintf(stderr, "shuntctl: out of memory\n");
		return 1;
	}
	for (int k = 0; k < NBCOLS; k++)
		width[k] = (int)strlen(bcol_heads[k]);
	for (i = 0; i < n; i++) {
		const json_t *b = json_array_get(list, i);

		for (int k = 0; k < NBCOLS; k++) {
			char *c = json_text(json_object_get(b, bcol_keys[k]));

			if (!c) {
				fprintf(stderr, "shuntctl: out of memory\n");
				rc = 1;
				goto out;
			}
			cells[i * NBCOLS + k] = c;
			if ((int)strlen(c) > width[k])
				width[k] = (int)strlen(c);
		}
	}
	for (int k = 0; k < NBCOLS; k++)
		printf("%s%*s", k ? "  " : "", bcol_right[k] ? width[k] : -width[k], bcol_heads[k]);
	putchar('\n');
	for (i = 0; i < n; i++) {
		for (int k = 0; k < NBCOLS; k++)
			printf("%s%*s", k ? "  " : "", bcol_right[k] ? width[k] : -width[k],
			       cells[i * NBCOLS + k]);
		putchar('\n');
	}
	for (i = 0; i < n; i++) {
		const json_t *b = json_array_get(list, i);
		const json_t *e = json_object_get(b, "health_error");

		if (json_is_string(e) && *json_string_value(e))
			printf("health check of %s: %s\n", cells[i * NBCOLS + BCOL_ADDR],
			       json_string_value(e));
	}
out:
	for (i = 0; i < n * NBCOLS; i++)
		free(cells[i]);
	free(cells);
	return rc;
}

/* GET /api/backends: the table, or the body with -j. */
static int do_backends(int argc, char **argv)
{
	json_t *body, *list;
	int rc;

	argc = take_json_flags(argc, argv);
	if (argc > 1) {
		fprintf(stderr, "shuntctl backends: unexpected argument '%s'\n", argv[1]);
		return 2;
	}
	rc = api_call("GET", "/api/backends", NULL, 1, &body);
	if (rc)
		return rc;
	if (json_output) {
		if (body)
			json_print(body);
	} else {
		list = json_object_get(body, "backends");
		if (!json_is_array(list)) {
			fprintf(stderr, "shuntctl: HTTP API at %s: GET /api/backends: no "
					"\"backends\" array in the response\n", http_addr);
			rc = 1;
		} else {
			rc = print_backends(list);
		}
	}
	json_decref(body);
	return rc;
}

static void backend_usage(void)
{
	fprintf(stderr, "usage: shuntctl backend add ADDR [pool P] [weight N]\n"
			"       shuntctl backend set ADDR [state online|draining|offline] "
			"[weight N]\n"
			"       shuntctl backend remove ADDR\n");
}

/* Prints the body with -j, else the summary line. Takes over body. */
static void write_done(json_t *body, const char *summary)
{
	if (json_output) {
		if (body)
			json_print(body);
	} else {
		printf("%s\n", summary);
	}
	json_decref(body);
}

/* backend add|set|remove ADDR ...: POST/PATCH/DELETE /api/backends[/ADDR]. */
static int do_backend(int argc, char **argv)
{
	const char *sub, *addr, *pool = NULL, *state = NULL, *s;
	json_int_t weight = -1;
	json_t *req = NULL, *body = NULL;
	char *esc = NULL, path[1024], summary[1024];
	int rc, is_add, is_set;

	argc = take_json_flags(argc, argv);
	if (argc < 2) {
		backend_usage();
		return 2;
	}
	sub = argv[1];
	is_add = strcmp(sub, "add") == 0;
	is_set = strcmp(sub, "set") == 0;
	if (!is_add && !is_set && strcmp(sub, "remove") != 0) {
		fprintf(stderr, "shuntctl backend: unknown subcommand '%s'\n", sub);
		backend_usage();
		return 2;
	}
	if (argc < 3 || argv[2][0] == '-' || argv[2][0] == '\0') {
		if (argc >= 3 && argv[2][0] == '-')
			fprintf(stderr, "shuntctl backend %s: unknown option %s\n", sub, argv[2]);
		else
			fprintf(stderr, "shuntctl backend %s: missing ADDR\n", sub);
		backend_usage();
		return 2;
	}
	addr = argv[2];
	for (int i = 3; i < argc; i += 2) {
		const char *kw = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (!is_add && !is_set) {
			fprintf(stderr, "shuntctl backend remove: unexpected argument '%s'\n", kw);
			return 2;
		}
		if (!val && (strcmp(kw, "weight") == 0 || strcmp(kw, "pool") == 0 ||
			     strcmp(kw, "state") == 0)) {
			fprintf(stderr, "shuntctl backend %s: '%s' needs a value\n", sub, kw);
			return 2;
		}
		if (strcmp(kw, "weight") == 0 && weight < 0) {
			if (parse_weight(val, &weight) < 0)
				return 2;
		} else if (is_add && strcmp(kw, "pool") == 0 && !pool) {
			if (!*val) {
				fprintf(stderr, "shuntctl backend add: empty pool name\n");
				return 2;
			}
			pool = val;
		} else if (is_set && strcmp(kw, "state") == 0 && !state) {
			if (strcmp(val, "online") && strcmp(val, "draining") && strcmp(val, "offline")) {
				fprintf(stderr, "shuntctl backend set: state '%s' is not online, "
						"draining or offline\n", val);
				return 2;
			}
			state = val;
		} else {
			fprintf(stderr, "shuntctl backend %s: unexpected or repeated argument '%s'\n",
				sub, kw);
			backend_usage();
			return 2;
		}
	}
	if (is_set && !state && weight < 0) {
		fprintf(stderr, "shuntctl backend set: nothing to change (give state and/or "
				"weight)\n");
		backend_usage();
		return 2;
	}

	esc = http_escape_segment(addr);
	if (is_add || is_set) {
		req = json_object();
		if (!req || !esc)
			goto oom;
		if ((is_add && json_object_set_new(req, "address", json_string(addr))) ||
		    (pool && json_object_set_new(req, "pool", json_string(pool))) ||
		    (state && json_object_set_new(req, "state", json_string(state))) ||
		    (weight >= 0 && json_object_set_new(req, "weight", json_integer(weight))))
			goto oom;
	}
	if (!esc)
		goto oom;
	if (strlen(esc) > sizeof(path) - 32) {
		fprintf(stderr, "shuntctl backend: address too long\n");
		free(esc);
		json_decref(req);
		return 2;
	}
	if (is_add)
		snprintf(path, sizeof(path), "/api/backends");
	else
		snprintf(path, sizeof(path), "/api/backends/%s", esc);
	free(esc);
	rc = api_call(is_add ? "POST" : is_set ? "PATCH" : "DELETE", path, req, json_output,
		      &body);
	json_decref(req);
	if (rc)
		return rc;

	s = resp_str(body, "address");
	if (s)
		addr = s;
	if (is_add) {
		s = resp_str(body, "pool");
		if (s)
			pool = s;
		if (pool)
			snprintf(summary, sizeof(summary), "backend %s added to pool %s", addr, pool);
		else
			snprintf(summary, sizeof(summary), "backend %s added", addr);
	} else if (is_set) {
		char w[32];

		snprintf(w, sizeof(w), "%lld", (long long)weight);
		snprintf(summary, sizeof(summary), "backend %s: %s%s%s%s%s", addr,
			 state ? "state " : "", state ? state : "", state && weight >= 0 ? ", " : "",
			 weight >= 0 ? "weight " : "", weight >= 0 ? w : "");
	} else {
		snprintf(summary, sizeof(summary), "backend %s removed", addr);
	}
	write_done(body, summary);
	return 0;
oom:
	free(esc);
	json_decref(req);
	fprintf(stderr, "shuntctl: out of memory\n");
	return 1;
}

/* Parses a session id for command cmd: plain decimal 0..2^32-1 (the API
 * refuses 0 itself). Prints the usage error. 0 or -1. */
static int parse_session_id(const char *cmd, const char *s, unsigned long long *id)
{
	char *end;

	errno = 0;
	*id = strtoull(s, &end, 10);
	if (errno || end == s || *end || *id > 0xffffffffull || s[0] == '-' ||
	    s[0] == '+' || s[0] == ' ') {
		fprintf(stderr, "shuntctl %s: '%s' is not a session id (see 'shuntctl "
				"tunnels')\n", cmd, s);
		return -1;
	}
	return 0;
}

/* kill [--query] ID: POST /api/tunnels/ID/kill {"query":bool}. */
static int do_kill(int argc, char **argv)
{
	const char *idstr = NULL;
	unsigned long long id;
	char path[64], summary[96];
	int query = 0, rc;
	json_t *req, *body;

	argc = take_json_flags(argc, argv);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--query") == 0 || strcmp(argv[i], "-q") == 0) {
			query = 1;
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "shuntctl kill: unknown option %s\n", argv[i]);
			return 2;
		} else if (!idstr) {
			idstr = argv[i];
		} else {
			fprintf(stderr, "shuntctl kill: unexpected argument '%s'\n", argv[i]);
			return 2;
		}
	}
	if (!idstr) {
		fprintf(stderr, "usage: shuntctl kill [--query] ID\n");
		return 2;
	}
	if (parse_session_id("kill", idstr, &id) < 0)
		return 2;
	req = json_pack("{s:b}", "query", query);
	if (!req) {
		fprintf(stderr, "shuntctl: out of memory\n");
		return 1;
	}
	snprintf(path, sizeof(path), "/api/tunnels/%llu/kill", id);
	rc = api_call("POST", path, req, json_output, &body);
	json_decref(req);
	if (rc)
		return rc;
	snprintf(summary, sizeof(summary), "killed %s%llu", query ? "query of session " :
		 "session ", id);
	write_done(body, summary);
	return 0;
}

/* migrate ID [--to ADDR]: POST /api/tunnels/ID/migrate {"to":ADDR}. Prints
 * the API's message ("moved to ADDR in 4.2 ms"); exit 1 when the session
 * did not move (the API answers 404/409: "shuntctl: HTTP 409: ..."). */
static int do_migrate(int argc, char **argv)
{
	const char *idstr = NULL, *to = NULL, *msg;
	unsigned long long id;
	char path[64], summary[600];
	int rc;
	json_t *req, *body;

	/* The API answers when the session has moved or the request gave up
	 * (migrate_timeout_ms, up to an hour): wait for it. */
	http_timeout_sec = 3700;
	argc = take_json_flags(argc, argv);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--to") == 0 || strcmp(argv[i], "-t") == 0) {
			if (i + 1 == argc || to) {
				fprintf(stderr, "shuntctl migrate: %s needs one address\n", argv[i]);
				return 2;
			}
			to = argv[++i];
		} else if (strncmp(argv[i], "--to=", 5) == 0 && !to) {
			to = argv[i] + 5;
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "shuntctl migrate: unknown option %s\n", argv[i]);
			return 2;
		} else if (!idstr) {
			idstr = argv[i];
		} else {
			fprintf(stderr, "shuntctl migrate: unexpected argument '%s'\n", argv[i]);
			return 2;
		}
	}
	if (!idstr || (to && !*to)) {
		fprintf(stderr, "usage: shuntctl migrate ID [--to HOST:PORT]\n");
		return 2;
	}
	if (parse_session_id("migrate", idstr, &id) < 0)
		return 2;
	req = to ? json_pack("{s:s}", "to", to) : json_object();
	if (!req) {
		fprintf(stderr, "shuntctl: out of memory\n");
		return 1;
	}
	snprintf(path, sizeof(path), "/api/tunnels/%llu/migrate", id);
	rc = api_call_ex("POST", path, req, !json_output, 1, &body);
	json_decref(req);
	if (rc)
		return rc;
	msg = resp_str(body, "message");
	snprintf(summary, sizeof(summary), "session %llu %s", id, msg ? msg : "moved");
	write_done(body, summary);
	return 0;
}

/* reload: POST /api/reload. */
static int do_reload(int argc, char **argv)
{
	json_t *body;
	int rc;

	argc = take_json_flags(argc, argv);
	if (argc > 1) {
		fprintf(stderr, "shuntctl reload: unexpected argument '%s'\n", argv[1]);
		return 2;
	}
	rc = api_call("POST", "/api/reload", NULL, json_output, &body);
	if (rc)
		return rc;
	write_done(body, "config reloaded");
	return 0;
}

/* stats: GET /api/stats, "name value" lines in the order returned. */
static int do_stats(int argc, char **argv)
{
	json_t *body, *stats, *v;
	const char *name;
	int rc;

	argc = take_json_flags(argc, argv);
	if (argc > 1) {
		fprintf(stderr, "shuntctl stats: unexpected argument '%s'\n", argv[1]);
		return 2;
	}
	rc = api_call("GET", "/api/stats", NULL, 1, &body);
	if (rc)
		return rc;
	if (json_output) {
		if (body)
			json_print(body);
		json_decref(body);
		return 0;
	}
	stats = json_object_get(body, "stats");
	if (!json_is_object(stats)) {
		fprintf(stderr, "shuntctl: HTTP API at %s: GET /api/stats: no \"stats\" object "
				"in the response\n", http_addr);
		json_decref(body);
		return 1;
	}
	json_object_foreach(stats, name, v) {
		char *t = json_text(v);

		if (!t) {
			fprintf(stderr, "shuntctl: out of memory\n");
			json_decref(body);
			return 1;
		}
		printf("%s %s\n", name, t);
		free(t);
	}
	json_decref(body);
	return 0;
}

static const struct cmd cmds[] = {
	{ "tunnels", do_tunnels, "tunnels [-j]", "list live kernel tunnels from the pinned maps",
	  SEC_MAPS },
	{ "tunnel", do_tunnel, "tunnel ID [-j]", "one kernel tunnel in detail (ID: conn id)",
	  SEC_MAPS },
	{ "backends", do_backends, "backends", "list backends: state, health, sessions",
	  SEC_HTTP },
	{ "backend", do_backend, "backend add ADDR [pool P] [weight N]", "add a backend",
	  SEC_HTTP },
	{ "backend", do_backend, "backend set ADDR [state S] [weight N]",
	  "change a backend (S: online, draining, offline)", SEC_HTTP },
	{ "backend", do_backend, "backend remove ADDR", "remove a backend", SEC_HTTP },
	{ "kill", do_kill, "kill [--query] ID",
	  "close session ID (--query: kill only its running query)", SEC_HTTP },
	{ "migrate", do_migrate, "migrate ID [--to ADDR]",
	  "move session ID to another backend (ADDR, or the least loaded)", SEC_HTTP },
	{ "reload", do_reload, "reload", "reload the configuration file", SEC_HTTP },
	{ "stats", do_stats, "stats", "daemon counters, one 'name value' per line", SEC_HTTP },
	{ "version", do_version, "version", "print the version", SEC_OTHER },
	{ "help", do_help, "help", "this text", SEC_OTHER },
};

static int do_help(int argc, char **argv)
{
	static const char *const section_heads[] = {
		[SEC_MAPS] = "kernel fast path (reads the pinned BPF maps):",
		[SEC_HTTP] = "daemon control (HTTP API):",
		[SEC_OTHER] = "other:",
	};
	int w = 0;

	(void)argc;
	(void)argv;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if ((int)strlen(cmds[i].usage) > w)
			w = (int)strlen(cmds[i].usage);
	printf("usage: shuntctl [-j] [-p PIN_PATH] [-H HOST:PORT] [-T TOKEN] COMMAND [ARGS]\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (i == 0 || cmds[i].section != cmds[i - 1].section)
			printf("\n%s\n", section_heads[cmds[i].section]);
		printf("  %-*s  %s\n", w, cmds[i].usage, cmds[i].help);
	}
	printf("\noptions (before the command):\n"
	       "  -j            JSON output (control commands: the API's response body)\n"
	       "  -p PATH       BPF pin path (default %s)\n"
	       "  -H HOST:PORT  HTTP API address, [IPV6]:PORT for IPv6 (default $SHUNT_HTTP,\n"
	       "                else %s)\n"
	       "  -T TOKEN      HTTP API bearer token (default $SHUNT_HTTP_TOKEN; the variable\n"
	       "                keeps it out of ps), else the first line of:\n"
	       "  --token-file FILE  shunt's http_token_file (default $SHUNT_HTTP_TOKEN_FILE,\n"
	       "                else %s)\n",
	       DEFAULT_PIN_PATH, DEFAULT_HTTP_ADDR, DEFAULT_TOKEN_FILE);
	printf("\nexit status: 0 ok, 1 error (no such tunnel, no pinned maps, HTTP API\n"
	       "unreachable or answering an error), 2 usage\n");
	return 0;
}

int main(int argc, char **argv)
{
	const char *env;
	int i = 1;

	env = getenv("SHUNT_HTTP");
	if (env && *env)
		http_addr = env;
	env = getenv("SHUNT_HTTP_TOKEN");
	if (env && *env)
		http_token = env;
	env = getenv("SHUNT_HTTP_TOKEN_FILE");
	if (env && *env)
		token_file = env;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-j") == 0 || strcmp(argv[i], "--json") == 0) {
			json_output = 1;
		} else if ((strcmp(argv[i], "-p") == 0 || strcmp(argv[i], "--pin-path") == 0) &&
			   i + 1 < argc) {
			pin_path = argv[++i];
		} else if ((strcmp(argv[i], "-H") == 0 || strcmp(argv[i], "--http") == 0) &&
			   i + 1 < argc) {
			http_addr = argv[++i];
		} else if ((strcmp(argv[i], "-T") == 0 || strcmp(argv[i], "--token") == 0) &&
			   i + 1 < argc) {
			http_token = argv[++i];
		} else if (strcmp(argv[i], "--token-file") == 0 && i + 1 < argc) {
			token_file = argv[++i];
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			return do_help(0, NULL);
		} else if (i + 1 == argc && (strcmp(argv[i], "-p") == 0 || strcmp(argv[i], "-H") == 0 ||
					     strcmp(argv[i], "-T") == 0 ||
					     strcmp(argv[i], "--pin-path") == 0 ||
					     strcmp(argv[i], "--http") == 0 ||
					     strcmp(argv[i], "--token") == 0 ||
					     strcmp(argv[i], "--token-file") == 0)) {
			fprintf(stderr, "shuntctl: option %s needs an argument\n", argv[i]);
			return 2;
		} else {
			fprintf(stderr, "shuntctl: unknown option %s\n", argv[i]);
			return 2;
		}
	}
	if (i >= argc)
		return do_help(0, NULL), 2;
	for (size_t c = 0; c < sizeof(cmds) / sizeof(cmds[0]); c++)
		if (strcmp(argv[i], cmds[c].name) == 0)
			return cmds[c].func(argc - i, argv + i);
	fprintf(stderr, "shuntctl: unknown command '%s' (try 'shuntctl help')\n", argv[i]);
	return 2;
}
