/* fuzz_proto.c — libFuzzer target for the protocol codec (make fuzz).
 *
 * Input layout: bytes 0..3 are a capability word used where a parser takes
 * caps (OK) and patched into a copy of the login payload; the rest is the
 * payload fed to every parser. Each parser runs on an exactly-sized heap
 * copy so ASan sees any over-read. When a parse succeeds, the value is
 * rebuilt with the matching builder and parsed again; the two parses must
 * agree, or the target aborts.
 *
 * Run: build/fuzz_proto -max_total_time=300 tests/unit/fuzz_corpus */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mysql/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MUST(cond) do { if (!(cond)) abort(); } while (0)

static int str_eq(const struct proto_str *a, const struct proto_str *b)
{
	return a->len == b->len && (a->len == 0 || memcmp(a->p, b->p, a->len) == 0);
}

static void fuzz_greeting(const uint8_t *p, size_t n)
{
	struct proto_greeting g, h;
	struct proto_buf b;

	if (proto_parse_greeting(p, n, &g))
		return;
	MUST(g.scramble_len <= sizeof(g.scramble));
	proto_buf_init(&b);
	proto_build_greeting(&b, &g);
	if (g.scramble_len != PROTO_SCRAMBLE_LEN) {
		MUST(b.err == -EINVAL);
	} else {
		MUST(b.err == 0);
		MUST(proto_parse_greeting(b.data, b.len, &h) == 0);
		MUST(h.protocol == g.protocol && h.conn_id == g.conn_id && h.caps == g.caps);
		MUST(h.charset == g.charset && h.status == g.status);
		MUST(h.mariadb_ext_caps == g.mariadb_ext_caps);
		MUST(h.scramble_len == g.scramble_len);
		MUST(memcmp(h.scramble, g.scramble, g.scramble_len) == 0);
		MUST(str_eq(&h.server_version, &g.server_version));
		MUST(str_eq(&h.auth_plugin, &g.auth_plugin));
	}
	proto_buf_free(&b);
}

/* Iterates an attrs block; if well-formed, rebuilds it and checks that the
 * rebuilt block iterates to the same pairs. */
static void fuzz_attrs(const uint8_t *p, size_t n)
{
	struct proto_cur c, d;
	struct proto_str k, v, k2, v2;
	struct proto_buf b;
	int rc;

	proto_cur_init(&c, p, n);
	proto_buf_init(&b);
	while ((rc = proto_attrs_next(&c, &k, &v)) == 1) {
		proto_put_lenenc_str(&b, k.p, k.len);
		proto_put_lenenc_str(&b, v.p, v.len);
	}
	MUST(rc == 0 || rc == -EPROTO);
	if (rc == 0 && b.err == 0) {
		MUST(c.off == n);
		proto_cur_init(&c, p, n);
		proto_cur_init(&d, b.data, b.len);
		while (proto_attrs_next(&c, &k, &v) == 1) {
			MUST(proto_attrs_next(&d, &k2, &v2) == 1);
			MUST(str_eq(&k, &k2) && str_eq(&v, &v2));
		}
		MUST(proto_attrs_next(&d, &k2, &v2) == 0);
	}
	proto_buf_free(&b);
}

static void fuzz_login(const uint8_t *p, size_t n)
{
	struct proto_login l, m;
	struct proto_buf b;

	if (proto_parse_login(p, n, &l))
		return;
	if (l.has_attrs)
		fuzz_attrs(l.attrs.p, l.attrs.len);
	proto_buf_init(&b);
	proto_build_login(&b, &l);
	MUST(b.err == 0);
	MUST(proto_parse_login(b.data, b.len, &m) == 0);
	MUST(m.caps == l.caps && m.max_packet == l.max_packet && m.charset == l.charset);
	MUST(m.mariadb_ext_caps == l.mariadb_ext_caps && m.is_ssl_request == l.is_ssl_request);
	MUST(str_eq(&m.user, &l.user) && str_eq(&m.auth_response, &l.auth_response));
	MUST(str_eq(&m.database, &l.database) && str_eq(&m.auth_plugin, &l.auth_plugin));
	MUST(m.has_attrs == l.has_attrs && str_eq(&m.attrs, &l.attrs));
	proto_buf_free(&b);
}

/* The login again with its caps word replaced by variants of caps. */
static void fuzz_login_caps(const uint8_t *p, size_t n, uint32_t caps)
{
	static const uint32_t clear[] = {
		0,
		CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA,
		CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA | CLIENT_SECURE_CONNECTION,
	};
	uint8_t *q;
	size_t i;

	if (n < 4)
		return;
	q = malloc(n);
	memcpy(q, p, n);
	for (i = 0; i < sizeof(clear) / sizeof(clear[0]); i++) {
		uint32_t c = (caps | CLIENT_PROTOCOL_41) & ~clear[i];

		q[0] = (uint8_t)c;
		q[1] = (uint8_t)(c >> 8);
		q[2] = (uint8_t)(c >> 16);
		q[3] = (uint8_t)(c >> 24);
		fuzz_login(q, n);
	}
	free(q);
}

static void fuzz_auth_switch(const uint8_t *p, size_t n)
{
	struct proto_auth_switch s, t;
	struct proto_buf b;
	char *plugin;

	if (proto_parse_auth_switch(p, n, &s))
		return;
	plugin = malloc(s.plugin.len + 1);
	memcpy(plugin, s.plugin.p, s.plugin.len);
	plugin[s.plugin.len] = 0;
	proto_buf_init(&b);
	proto_build_auth_switch(&b, plugin, s.data.p, s.data.len);
	MUST(b.err == 0);
	MUST(proto_parse_auth_switch(b.data, b.len, &t) == 0);
	MUST(str_eq(&s.plugin, &t.plugin) && str_eq(&s.data, &t.data));
	proto_buf_free(&b);
	free(plugin);
}

static void fuzz_ok(const uint8_t *p, size_t n, uint32_t caps)
{
	struct proto_ok ok, back;
	struct proto_buf b;

	if (proto_parse_ok(p, n, caps, &ok))
		return;
	MUST(ok.header == 0x00 || ok.header == 0xFE);
	proto_buf_init(&b);
	proto_build_ok(&b, caps, &ok);
	MUST(b.err == 0);
	MUST(proto_parse_ok(b.data, b.len, caps, &back) == 0);
	MUST(back.header == ok.header && back.affected_rows == ok.affected_rows);
	MUST(back.last_insert_id == ok.last_insert_id);
	MUST(back.status == ok.status && back.warnings == ok.warnings);
	MUST(str_eq(&back.info, &ok.info) && str_eq(&back.session_state, &ok.session_state));
	proto_buf_free(&b);
}

static void fuzz_err(const uint8_t *p, size_t n)
{
	struct proto_err e, f;
	struct proto_buf b;
	char *msg;

	if (proto_parse_err(p, n, &e))
		return;
	MUST(e.sqlstate[5] == 0);
	if (memchr(e.message.p, 0, e.message.len) || strlen(e.sqlstate) != 5)
		return;   /* not representable by the C-string builder */
	msg = malloc(e.message.len + 1);
	memcpy(msg, e.message.p, e.message.len);
	msg[e.message.len] = 0;
	proto_buf_init(&b);
	proto_build_err(&b, e.code, e.sqlstate, msg);
	MUST(b.err == 0);
	MUST(proto_parse_err(b.data, b.len, &f) == 0);
	MUST(f.code == e.code && strcmp(f.sqlstate, e.sqlstate) == 0);
	MUST(str_eq(&f.message, &e.message));
	proto_buf_free(&b);
	free(msg);
}

static void fuzz_eof(const uint8_t *p, size_t n)
{
	struct proto_eof e, f;
	struct proto_buf b;

	if (proto_parse_eof(p, n, &e))
		return;
	MUST(proto_is_eof(p, n, 0));
	proto_buf_init(&b);
	proto_build_eof(&b, e.warnings, e.status);
	MUST(proto_parse_eof(b.data, b.len, &f) == 0);
	MUST(f.warnings == e.warnings && f.status == e.status);
	proto_buf_free(&b);
}

static void fuzz_coldef(const uint8_t *p, size_t n)
{
	struct proto_coldef cd, back;
	struct proto_buf b;

	if (proto_parse_coldef(p, n, &cd))
		return;
	proto_buf_init(&b);
	proto_build_coldef(&b, &cd);
	MUST(b.err == 0);
	MUST(proto_parse_coldef(b.data, b.len, &back) == 0);
	MUST(str_eq(&back.catalog, &cd.catalog) && str_eq(&back.schema, &cd.schema));
	MUST(str_eq(&back.table, &cd.table) && str_eq(&back.org_table, &cd.org_table));
	MUST(str_eq(&back.name, &cd.name) && str_eq(&back.org_name, &cd.org_name));
	MUST(back.charset == cd.charset && back.length == cd.length && back.type == cd.type);
	MUST(back.flags == cd.flags && back.decimals == cd.decimals);
	proto_buf_free(&b);
}

static void fuzz_column_count(const uint8_t *p, size_t n)
{
	struct proto_buf b;
	uint64_t c, d;

	if (proto_parse_column_count(p, n, &c))
		return;
	MUST(c != 0);
	proto_buf_init(&b);
	proto_put_lenenc(&b, c);
	MUST(b.len == proto_lenenc_size(c));
	MUST(proto_parse_column_count(b.data, b.len, &d) == 0 && d == c);
	proto_buf_free(&b);
}

static void fuzz_frame(const uint8_t *p, size_t n)
{
	struct proto_buf b;
	size_t wire, plen, wire2, plen2;
	uint8_t seq, last, seq2, last2, s;
	uint8_t *joined;

	if (proto_frame_logical(p, n, &wire, &plen, &seq, &last))
		return;
	MUST(wire <= n && plen + MYSQL_HDR_LEN <= wire);
	joined = malloc(plen ? plen : 1);
	proto_join_payload(p, wire, joined);
	proto_buf_init(&b);
	s = seq;
	proto_put_packet(&b, &s, joined, plen);
	MUST(b.err == 0 && b.len == wire);
	MUST(proto_frame_logical(b.data, b.len, &wire2, &plen2, &seq2, &last2) == 0);
	MUST(wire2 == wire && plen2 == plen && seq2 == seq && (uint8_t)(last2 + 1) == s);
	MUST(memcmp(b.data + MYSQL_HDR_LEN, joined, plen < MYSQL_MAX_PAYLOAD ? plen : MYSQL_MAX_PAYLOAD) == 0);
	proto_buf_free(&b);
	free(joined);
}

/* COM_CHANGE_USER: parse, rebuild in the 1-byte auth form, parse again. */
static void fuzz_change_user(const uint8_t *p, size_t n, uint32_t caps)
{
	struct proto_change_user a, b2;
	struct proto_buf b;

	caps |= CLIENT_SECURE_CONNECTION;
	if (proto_parse_change_user(p, n, caps, &a))
		return;
	proto_buf_init(&b);
	proto_build_change_user(&b, caps, &a);
	if (b.err == 0) {
		MUST(proto_parse_change_user(b.data, b.len, caps, &b2) == 0);
		MUST(str_eq(&a.user, &b2.user) && str_eq(&a.auth_response, &b2.auth_response) &&
		     str_eq(&a.database, &b2.database));
	}
	proto_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_prepare_ok po;
	uint32_t caps = 0;
	uint8_t *p;
	size_t n;

	if (size >= 4) {
		caps = (uint32_t)data[0] | (uint32_t)data[1] << 8 |
		       (uint32_t)data[2] << 16 | (uint32_t)data[3] << 24;
		data += 4;
		size -= 4;
	}
	/* An exactly-sized copy: reads past the end hit ASan's redzone. */
	n = size;
	p = malloc(n);
	memcpy(p, data, n);

	fuzz_greeting(p, n);
	fuzz_login(p, n);
	fuzz_login_caps(p, n, caps);
	fuzz_attrs(p, n);
	fuzz_auth_switch(p, n);
	fuzz_ok(p, n, caps);
	fuzz_ok(p, n, caps | CLIENT_PROTOCOL_41 | CLIENT_SESSION_TRACK);
	fuzz_ok(p, n, (caps | CLIENT_PROTOCOL_41) & ~CLIENT_SESSION_TRACK);
	fuzz_err(p, n);
	fuzz_eof(p, n);
	(void)proto_is_eof(p, n, caps);
	fuzz_coldef(p, n);
	fuzz_column_count(p, n);
	(void)proto_parse_prepare_ok(p, n, &po);
	fuzz_frame(p, n);
	fuzz_change_user(p, n, caps);

	free(p);
	return 0;
}
