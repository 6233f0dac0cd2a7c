/* test_proto.c — unit tests for the MySQL protocol codec (user/proto.c).
 *
 * Fed with real bytes captured between the mariadb CLI / libmariadb and
 * MariaDB 10.11 (see proto_captures.h), plus every truncated prefix of each
 * capture (copied into an exactly-sized heap buffer so ASan catches any
 * over-read), hand-made corruptions, builder round trips and framing of
 * 16 MB+ payloads. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "mysql/proto.h"
#include "proto_captures.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Client caps the captured sessions used (from their HandshakeResponse41). */
#define CAPS_CLI      0x00bfa284u  /* mariadb CLI, no -D */
#define CAPS_CLI_DB   0x00bfa28cu  /* mariadb CLI with -D */
#define CAPS_CAPI     0x00bea28cu  /* libmariadb C program with a db */
#define CAPS_SERVER   0x81fff7feu  /* MariaDB 10.11 greeting */

/* A parser under test, in one shape: 0 on success. */
typedef int (*parse_fn)(const uint8_t *p, size_t len);

static int p_greeting(const uint8_t *p, size_t n) { struct proto_greeting g; return proto_parse_greeting(p, n, &g); }
static int p_login(const uint8_t *p, size_t n) { struct proto_login l; return proto_parse_login(p, n, &l); }
static int p_auth_switch(const uint8_t *p, size_t n) { struct proto_auth_switch s; return proto_parse_auth_switch(p, n, &s); }
static int p_ok_track(const uint8_t *p, size_t n) { struct proto_ok o; return proto_parse_ok(p, n, CAPS_CLI, &o); }
static int p_ok_notrack(const uint8_t *p, size_t n) { struct proto_ok o; return proto_parse_ok(p, n, CAPS_CLI & ~CLIENT_SESSION_TRACK, &o); }
static int p_err(const uint8_t *p, size_t n) { struct proto_err e; return proto_parse_err(p, n, &e); }
static int p_eof(const uint8_t *p, size_t n) { struct proto_eof e; return proto_parse_eof(p, n, &e); }
static int p_colcount(const uint8_t *p, size_t n) { uint64_t c; return proto_parse_column_count(p, n, &c); }
static int p_coldef(const uint8_t *p, size_t n) { struct proto_coldef cd; return proto_parse_coldef(p, n, &cd); }
static int p_prepare_ok(const uint8_t *p, size_t n) { struct proto_prepare_ok po; return proto_parse_prepare_ok(p, n, &po); }

/* Iterates every attribute of a login, 0 or -EPROTO. */
static int p_login_attrs(const uint8_t *p, size_t n)
{
	struct proto_login l;
	struct proto_cur c;
	struct proto_str k, v;
	int rc;

	if (proto_parse_login(p, n, &l))
		return -EPROTO;
	proto_cur_init(&c, l.attrs.p, l.attrs.len);
	while ((rc = proto_attrs_next(&c, &k, &v)) == 1)
		;
	return rc;
}

/* Runs fn on a private, exactly-sized heap copy of data[0..n). */
static int run_exact(parse_fn fn, const uint8_t *data, size_t n)
{
	uint8_t *copy = malloc(n);   /* malloc(0) gives a 0-byte region under ASan */
	int rc;

	memcpy(copy, data, n);
	rc = fn(copy, n);
	free(copy);
	return rc;
}

/* Parses every prefix 0..len-1 (and len itself, which must succeed).
 * A prefix must fail unless its length is listed in ok_lens (terminated by
 * -1) or is >= ok_from (pass (size_t)-1 for none); listed lengths must
 * succeed. Returns the number of violations. */
static int check_prefixes(const char *what, parse_fn fn, const uint8_t *data, size_t len,
			  const long *ok_lens, size_t ok_from)
{
	int bad = 0;
	size_t n;

	if (run_exact(fn, data, len) != 0) {
		fprintf(stderr, "  %s: full payload (%zu bytes) did not parse\n", what, len);
		bad++;
	}
	for (n = 0; n < len; n++) {
		int want_ok = n >= ok_from, rc;
		const long *l;

		for (l = ok_lens; l && *l >= 0; l++)
			if ((size_t)*l == n)
				want_ok = 1;
		rc = run_exact(fn, data, n);
		if ((rc == 0) != want_ok) {
			fprintf(stderr, "  %s: prefix %zu of %zu: rc=%d, expected %s\n",
				what, n, len, rc, want_ok ? "success" : "failure");
			bad++;
		}
		if (rc != 0 && rc != -EPROTO && rc != -EMSGSIZE) {
			fprintf(stderr, "  %s: prefix %zu: unexpected rc %d\n", what, n, rc);
			bad++;
		}
	}
	return bad;
}

/* Parses a corrupted copy (one byte at off set to val); returns rc. */
static int parse_poked(parse_fn fn, const uint8_t *data, size_t len, size_t off, uint8_t val)
{
	uint8_t *copy = malloc(len);
	int rc;

	memcpy(copy, data, len);
	copy[off] = val;
	rc = fn(copy, len);
	free(copy);
	return rc;
}

static size_t off_of(const uint8_t *base, const struct proto_str *s)
{
	return (size_t)(s->p - base);
}

/* ---- primitives ---- */

static void test_lenenc_boundaries(void)
{
	static const struct { uint64_t v; size_t size; uint8_t first; } cases[] = {
		{ 0, 1, 0x00 }, { 250, 1, 0xFA }, { 251, 3, 0xFC }, { 0xFFFF, 3, 0xFC },
		{ 0x10000, 4, 0xFD }, { 0xFFFFFF, 4, 0xFD }, { 0x1000000, 9, 0xFE },
		{ UINT64_MAX, 9, 0xFE },
	};
	struct proto_buf b;
	size_t i, n;

	proto_buf_init(&b);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct proto_cur c;
		uint64_t v = 1;
		int is_null = 7;

		proto_buf_reset(&b);
		proto_put_lenenc(&b, cases[i].v);
		CHECK_EQ(b.err, 0);
		CHECK_EQ(b.len, cases[i].size);
		CHECK_EQ(proto_lenenc_size(cases[i].v), cases[i].size);
		CHECK_EQ(b.data[0], cases[i].first);
		proto_cur_init(&c, b.data, b.len);
		CHECK_EQ(proto_get_lenenc(&c, &v, &is_null), 0);
		CHECK(v == cases[i].v);
		CHECK_EQ(is_null, 0);
		CHECK_EQ(proto_cur_left(&c), 0);
		/* Every shorter prefix fails and leaves the cursor alone. */
		for (n = 0; n < b.len; n++) {
			proto_cur_init(&c, b.data, n);
			CHECK_EQ(proto_get_lenenc(&c, &v, NULL), -EPROTO);
			CHECK_EQ(c.off, 0);
		}
	}
	proto_buf_free(&b);
}

static void test_lenenc_null_and_ff(void)
{
	static const uint8_t fb[] = { 0xFB }, ff[] = { 0xFF, 0, 0, 0, 0, 0, 0, 0, 0 };
	static const uint8_t nonmin[] = { 0xFC, 0x05, 0x00 };
	struct proto_cur c;
	struct proto_str s;
	uint64_t v = 9;
	int is_null = 0;

	proto_cur_init(&c, fb, sizeof(fb));
	CHECK_EQ(proto_get_lenenc(&c, &v, NULL), -EPROTO);
	CHECK_EQ(c.off, 0);
	CHECK_EQ(proto_get_lenenc(&c, &v, &is_null), 0);
	CHECK_EQ(is_null, 1);
	CHECK_EQ(v, 0);
	CHECK_EQ(c.off, 1);
	proto_cur_init(&c, fb, sizeof(fb));
	CHECK_EQ(proto_get_lenenc_str(&c, &s), -EPROTO);
	proto_cur_init(&c, ff, sizeof(ff));
	CHECK_EQ(proto_get_lenenc(&c, &v, &is_null), -EPROTO);
	CHECK_EQ(proto_get_lenenc(&c, &v, NULL), -EPROTO);
	CHECK_EQ(c.off, 0);
	proto_cur_init(&c, nonmin, sizeof(nonmin));
	CHECK_EQ(proto_get_lenenc(&c, &v, NULL), 0);
	CHECK_EQ(v, 5);
}

static void test_fixed_and_strings(void)
{
	static const uint8_t d[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
				     'a', 'b', 0, 0x03, 'x', 'y', 'z', 0x05, 'q' };
	struct proto_cur c;
	struct proto_str s;
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;

	proto_cur_init(&c, d, sizeof(d));
	CHECK_EQ(proto_get_u64(&c, &u64), 0);
	CHECK(u64 == 0x0807060504030201ull);
	proto_cur_init(&c, d, sizeof(d));
	CHECK_EQ(proto_get_u8(&c, &u8), 0);
	CHECK_EQ(u8, 1);
	CHECK_EQ(proto_get_u16(&c, &u16), 0);
	CHECK_EQ(u16, 0x0302);
	CHECK_EQ(proto_get_u24(&c, &u32), 0);
	CHECK_EQ(u32, 0x060504);
	CHECK_EQ(proto_get_u16(&c, &u16), 0);
	CHECK_EQ(u16, 0x0807);
	CHECK_EQ(proto_get_nulstr(&c, &s), 0);
	CHECK_STR(s, "ab");
	CHECK_EQ(proto_get_lenenc_str(&c, &s), 0);
	CHECK_STR(s, "xyz");
	CHECK_EQ(proto_get_lenenc_str(&c, &s), -EPROTO);  /* claims 5, has 1 */
	CHECK_EQ(c.off, 15);
	CHECK_EQ(proto_get_nulstr(&c, &s), -EPROTO);      /* no NUL left */
	CHECK_EQ(proto_skip(&c, 3), -EPROTO);
	CHECK_EQ(proto_get_bytes(&c, 2, &s), 0);
	CHECK_EQ(proto_get_bytes(&c, 1, &s), -EPROTO);
	proto_get_rest(&c, &s);
	CHECK_EQ(s.len, 0);
	CHECK_EQ(proto_get_u8(&c, &u8), -EPROTO);
	c.off = 0;
	CHECK_EQ(proto_skip(&c, sizeof(d)), 0);
	/* Fixed-width reads at each short length fail without moving. */
	proto_cur_init(&c, d, 3);
	CHECK_EQ(proto_get_u32(&c, &u32), -EPROTO);
	CHECK_EQ(proto_get_u64(&c, &u64), -EPROTO);
	CHECK_EQ(c.off, 0);
	proto_cur_init(&c, d, 2);
	CHECK_EQ(proto_get_u24(&c, &u32), -EPROTO);
	proto_cur_init(&c, d, 1);
	CHECK_EQ(proto_get_u16(&c, &u16), -EPROTO);
	proto_cur_init(&c, d, 0);
	CHECK_EQ(proto_get_u8(&c, &u8), -EPROTO);
	CHECK_EQ(proto_get_nulstr(&c, &s), -EPROTO);
}

static void test_buf_writers(void)
{
	static const uint8_t want[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a,
		0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 'h', 'i', 0, 0, 0,
		'n', 'u', 0, 0x02, 'l', 'e' };
	struct proto_buf b, z;

	proto_buf_init(&b);
	proto_put_u8(&b, 0x01);
	proto_put_u16(&b, 0x0302);
	proto_put_u24(&b, 0x060504);
	proto_put_u32(&b, 0x0a090807);
	proto_put_u64(&b, 0x1817161514131211ull);
	proto_put_bytes(&b, "hi", 2);
	proto_put_zeros(&b, 2);
	proto_put_bytes(&b, NULL, 0);
	proto_put_nulstr(&b, "\0nu", 0);  /* empty string: just the NUL */
	proto_put_nulstr(&b, "nu", 2);
	proto_put_lenenc_str(&b, "le", 2);
	CHECK_EQ(b.err, 0);
	CHECK_EQ(b.len, sizeof(want));
	CHECK_MEM(b.data, want, sizeof(want));
	proto_buf_reset(&b);
	CHECK_EQ(b.len, 0);
	CHECK(b.data != NULL);
	proto_put_zeros(&b, 100000);  /* growth well past the first allocation */
	CHECK_EQ(b.len, 100000);
	CHECK(b.cap >= 100000);
	proto_buf_free(&b);
	CHECK(b.data == NULL);
	memset(&z, 0, sizeof(z));
	proto_buf_free(&z);
	proto_buf_free(NULL);
}

/* ---- framing ---- */

static void test_peek_header(void)
{
	static const uint8_t h[] = { 0x34, 0x12, 0xab, 0x07 };
	uint32_t len = 0;
	uint8_t seq = 0;
	size_t n;

	for (n = 0; n < 4; n++)
		CHECK_EQ(proto_peek_header(h, n, &len, &seq), -EAGAIN);
	CHECK_EQ(proto_peek_header(h, 4, &len, &seq), 0);
	CHECK_EQ(len, 0xab1234);
	CHECK_EQ(seq, 7);
}

static void test_frame_small(void)
{
	/* Two packets back to back: the first is framed alone. */
	static const uint8_t w[] = { 0x02, 0x00, 0x00, 0x03, 0xaa, 0xbb, 0x00, 0x00, 0x00, 0x04 };
	size_t wire, plen, n;
	uint8_t seq, last, out[2];

	CHECK_EQ(proto_frame_logical(w, sizeof(w), &wire, &plen, &seq, &last), 0);
	CHECK_EQ(wire, 6);
	CHECK_EQ(plen, 2);
	CHECK_EQ(seq, 3);
	CHECK_EQ(last, 3);
	proto_join_payload(w, wire, out);
	CHECK_EQ(out[0], 0xaa);
	CHECK_EQ(out[1], 0xbb);
	for (n = 0; n < 6; n++)
		CHECK_EQ(proto_frame_logical(w, n, &wire, &plen, &seq, &last), -EAGAIN);
	/* The empty second packet. */
	CHECK_EQ(proto_frame_logical(w + 6, 4, &wire, &plen, &seq, &last), 0);
	CHECK_EQ(wire, 4);
	CHECK_EQ(plen, 0);
	CHECK_EQ(seq, 4);
}

/* Frames a payload of len bytes written from seq first_seq; checks the
 * packet count, sequence ids, joined bytes and -EAGAIN on a short buffer. */
static void check_big(size_t len, uint8_t first_seq, size_t npackets)
{
	struct proto_buf b;
	uint8_t *payload = malloc(len ? len : 1), *joined;
	uint8_t seq = first_seq, s0, s1;
	size_t i, wire, plen, off = 0, count = 0;
	uint32_t l;
	uint8_t s;

	for (i = 0; i < len; i++)
		payload[i] = (uint8_t)(i * 7 + (i >> 16));
	proto_buf_init(&b);
	proto_put_packet(&b, &seq, payload, len);
	CHECK_EQ(b.err, 0);
	CHECK_EQ(b.len, len + 4 * npackets);
	CHECK_EQ(seq, (uint8_t)(first_seq + npackets));
	/* Walk the headers. */
	while (off < b.len && proto_peek_header(b.data + off, b.len - off, &l, &s) == 0) {
		CHECK_EQ(s, (uint8_t)(first_seq + count));
		CHECK(count + 1 == npackets ? l < MYSQL_MAX_PAYLOAD : l == MYSQL_MAX_PAYLOAD);
		off += 4 + l;
		count++;
	}
	CHECK_EQ(count, npackets);
	CHECK_EQ(off, b.len);
	CHECK_EQ(proto_frame_logical(b.data, b.len, &wire, &plen, &s0, &s1), 0);
	CHECK_EQ(wire, b.len);
	CHECK_EQ(plen, len);
	CHECK_EQ(s0, first_seq);
	CHECK_EQ(s1, (uint8_t)(first_seq + npackets - 1));
	CHECK_EQ(proto_frame_logical(b.data, b.len - 1, &wire, &plen, &s0, &s1), -EAGAIN);
	if (npackets > 1) {
		/* Cut right after the first full packet, and inside a header. */
		CHECK_EQ(proto_frame_logical(b.data, 4 + MYSQL_MAX_PAYLOAD, &wire, &plen, &s0, &s1), -EAGAIN);
		CHECK_EQ(proto_frame_logical(b.data, 4 + MYSQL_MAX_PAYLOAD + 2, &wire, &plen, &s0, &s1), -EAGAIN);
	}
	joined = malloc(len ? len : 1);
	proto_join_payload(b.data, wire, joined);
	CHECK(memcmp(joined, payload, len) == 0);
	free(joined);
	free(payload);
	proto_buf_free(&b);
}

static void test_frame_big(void)
{
	check_big(0, 0, 1);
	check_big(100, 9, 1);
	check_big(MYSQL_MAX_PAYLOAD - 1, 0, 1);
	check_big(MYSQL_MAX_PAYLOAD, 0, 2);             /* full + empty */
	check_big(MYSQL_MAX_PAYLOAD + 100, 1, 2);       /* full + remainder */
	check_big(2 * (size_t)MYSQL_MAX_PAYLOAD, 3, 3); /* full + full + empty */
}

static void test_put_packet_seq_wrap(void)
{
	struct proto_buf b;
	uint8_t seq = 255, *payload = calloc(1, MYSQL_MAX_PAYLOAD + 1);
	size_t wire, plen;
	uint8_t s0, s1;

	proto_buf_init(&b);
	proto_put_packet(&b, &seq, payload, MYSQL_MAX_PAYLOAD + 1);
	CHECK_EQ(seq, 1);
	CHECK_EQ(b.data[3], 255);
	CHECK_EQ(b.data[4 + MYSQL_MAX_PAYLOAD + 3], 0);
	CHECK_EQ(proto_frame_logical(b.data, b.len, &wire, &plen, &s0, &s1), 0);
	CHECK_EQ(s0, 255);
	CHECK_EQ(s1, 0);
	/* Small packets number 1, 2, ... and wrap 255 -> 0. */
	proto_buf_reset(&b);
	seq = 254;
	proto_put_packet(&b, &seq, "a", 1);
	proto_put_packet(&b, &seq, "b", 1);
	proto_put_packet(&b, &seq, "c", 1);
	CHECK_EQ(seq, 1);
	CHECK_EQ(b.len, 15);
	CHECK_EQ(b.data[3], 254);
	CHECK_EQ(b.data[8], 255);
	CHECK_EQ(b.data[13], 0);
	free(payload);
	proto_buf_free(&b);
}

/* ---- handshake ---- */

static void test_greeting_capture(void)
{
	struct proto_greeting g;
	struct proto_buf b;

	CHECK_EQ(proto_parse_greeting(cap_greeting, sizeof(cap_greeting), &g), 0);
	CHECK_EQ(g.protocol, 10);
	CHECK_STR(g.server_version, "5.5.5-10.11.19-MariaDB-0+deb12u1");
	CHECK_EQ(g.conn_id, 8);
	CHECK_EQ(g.scramble_len, 20);
	CHECK_MEM(g.scramble, cap_greeting + 38, 8);       /* part 1 */
	CHECK_MEM(g.scramble + 8, cap_greeting + 65, 12);  /* part 2, NUL dropped */
	CHECK_EQ(g.caps, CAPS_SERVER);
	CHECK(!(g.caps & CLIENT_LONG_PASSWORD));
	CHECK_EQ(g.mariadb_ext_caps, 0x1d);
	CHECK_EQ(g.charset, MYSQL_CHARSET_UTF8MB4_GENERAL_CI);
	CHECK_EQ(g.status, SERVER_STATUS_AUTOCOMMIT);
	CHECK_STR(g.auth_plugin, "mysql_native_password");

	/* Round trip: the builder reproduces MariaDB's bytes exactly. */
	proto_buf_init(&b);
	proto_build_greeting(&b, &g);
	CHECK_EQ(b.err, 0);
	CHECK_EQ(b.len, sizeof(cap_greeting));
	CHECK_MEM(b.data, cap_greeting, sizeof(cap_greeting));
	proto_buf_free(&b);

	CHECK_EQ(check_prefixes("greeting", p_greeting, cap_greeting, sizeof(cap_greeting),
				NULL, (size_t)-1), 0);
}

static void test_greeting_variants(void)
{
	struct proto_greeting g, h;
	struct proto_buf b;
	uint8_t scr[20];
	int i;

	for (i = 0; i < 20; i++)
		scr[i] = (uint8_t)(0x30 + i);
	memset(&g, 0, sizeof(g));
	g.server_version.p = (const uint8_t *)"8.0.36";
	g.server_version.len = 6;
	g.conn_id = 0xdeadbeef;
	memcpy(g.scramble, scr, 20);
	g.scramble_len = 20;
	g.caps = CLIENT_LONG_PASSWORD | CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION |
		 CLIENT_PLUGIN_AUTH | CLIENT_DEPRECATE_EOF;
	g.mariadb_ext_caps = 0x1d;   /* must not be sent: LONG_PASSWORD is set */
	g.charset = 8;
	g.status = 0x4002;
	g.auth_plugin.p = (const uint8_t *)"caching_sha2_password";
	g.auth_plugin.len = 21;
	proto_buf_init(&b);
	proto_build_greeting(&b, &g);
	CHECK_EQ(b.err, 0);
	CHECK_EQ(proto_parse_greeting(b.data, b.len, &h), 0);
	CHECK_STR(h.server_version, "8.0.36");
	CHECK(h.conn_id == 0xdeadbeef);
	CHECK_EQ(h.scramble_len, 20);
	CHECK_MEM(h.scramble, scr, 20);
	CHECK_EQ(h.caps, g.caps);
	CHECK_EQ(h.mariadb_ext_caps, 0);
	CHECK_EQ(h.charset, 8);
	CHECK_EQ(h.status, 0x4002);
	CHECK_STR(h.auth_plugin, "caching_sha2_password");

	/* Without PLUGIN_AUTH: no plugin name, auth_plugin_data_len 0. */
	proto_buf_reset(&b);
	g.caps &= ~CLIENT_PLUGIN_AUTH;
	proto_build_greeting(&b, &g);
	CHECK_EQ(proto_parse_greeting(b.data, b.len, &h), 0);
	CHECK_EQ(h.auth_plugin.len, 0);
	CHECK_EQ(h.scramble_len, 20);
	CHECK_MEM(h.scramble, scr, 20);

	/* scramble_len other than 20 is refused by the builder. */
	proto_buf_reset(&b);
	g.scramble_len = 8;
	proto_build_greeting(&b, &g);
	CHECK_EQ(b.err, -EINVAL);
	proto_buf_free(&b);
}

static void test_greeting_corrupt(void)
{
	uint8_t *p = malloc(sizeof(cap_greeting));
	struct proto_greeting g;
	size_t n = sizeof(cap_greeting);

	/* Protocol 9 and an ERR packet in place of a greeting. */
	CHECK_EQ(parse_poked(p_greeting, cap_greeting, n, 0, 9), -EPROTO);
	CHECK_EQ(parse_poked(p_greeting, cap_greeting, n, 0, 0xff), -EPROTO);
	/* auth_plugin_data_len 255: part 2 would be 247 bytes, past the end. */
	CHECK(parse_poked(p_greeting, cap_greeting, n, 54, 0xff) < 0);
	/* auth_plugin_data_len 60: part 2 is 52 bytes, in range but too big for
	 * the scramble buffer. Pad the plugin area so the bytes exist. */
	{
		uint8_t big[200];

		memset(big, 'a', sizeof(big));
		memcpy(big, cap_greeting, 55);
		big[54] = 60;
		big[sizeof(big) - 1] = 0;
		CHECK_EQ(proto_parse_greeting(big, sizeof(big), &g), -EMSGSIZE);
	}
	/* Plugin name without its NUL. */
	CHECK_EQ(parse_poked(p_greeting, cap_greeting, n, n - 1, 'x'), -EPROTO);
	/* Server version without a NUL anywhere. */
	memset(p, 'v', n);
	p[0] = 10;
	CHECK_EQ(proto_parse_greeting(p, n, &g), -EPROTO);
	free(p);
}

static void check_attr(struct proto_cur *c, const char *k, const char *v)
{
	struct proto_str ks, vs;

	CHECK_EQ(proto_attrs_next(c, &ks, &vs), 1);
	CHECK_STR(ks, k);
	CHECK_STR(vs, v);
}

static void test_login_capture(void)
{
	struct proto_login l;
	struct proto_cur c;
	struct proto_str k, v;
	struct proto_buf b;

	CHECK_EQ(proto_parse_login(cap_login_attrs, sizeof(cap_login_attrs), &l), 0);
	CHECK_EQ(l.caps, CAPS_CLI);
	CHECK(l.caps & CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA);
	CHECK(!(l.caps & CLIENT_CONNECT_WITH_DB));
	CHECK_EQ(l.max_packet, 0x100000);
	CHECK_EQ(l.charset, 33);
	CHECK_EQ(l.mariadb_ext_caps, 0x1d);
	CHECK_EQ(l.is_ssl_request, 0);
	CHECK_STR(l.user, "shunt");
	CHECK_EQ(l.auth_response.len, 20);
	CHECK_MEM(l.auth_response.p, cap_login_attrs + 39, 20);
	CHECK_EQ(l.database.len, 0);
	CHECK_STR(l.auth_plugin, "mysql_native_password");
	CHECK_EQ(l.has_attrs, 1);
	CHECK_EQ(l.attrs.len, 0x7e);
	CHECK_EQ(off_of(cap_login_attrs, &l.attrs) + l.attrs.len, sizeof(cap_login_attrs));
	proto_cur_init(&c, l.attrs.p, l.attrs.len);
	check_attr(&c, "_os", "Linux");
	check_attr(&c, "_client_name", "libmariadb");
	CHECK_EQ(proto_attrs_next(&c, &k, &v), 1);
	CHECK_STR(k, "_pid");
	check_attr(&c, "_client_version", "3.3.20");
	check_attr(&c, "_platform", "x86_64");
	check_attr(&c, "program_name", "mysql");
	check_attr(&c, "_server_host", "127.0.0.1");
	CHECK_EQ(proto_attrs_next(&c, &k, &v), 0);

	proto_buf_init(&b);
	proto_build_login(&b, &l);
	CHECK_EQ(b.err, 0);
	CHECK_EQ(b.len, sizeof(cap_login_attrs));
	CHECK_MEM(b.data, cap_login_attrs, sizeof(cap_login_attrs));
	proto_buf_free(&b);
}

static void test_login_db_sha2_capi(void)
{
	struct proto_login l;
	struct proto_cur c;
	struct proto_str k, v;
	struct proto_buf b;
	int n = 0;

	proto_buf_init(&b);
	CHECK_EQ(proto_parse_login(cap_login_db, sizeof(cap_login_db), &l), 0);
	CHECK_EQ(l.caps, CAPS_CLI_DB);
	CHECK_STR(l.user, "shunt");
	CHECK_EQ(l.auth_response.len, 20);
	CHECK_STR(l.database, "capdb");
	CHECK_STR(l.auth_plugin, "mysql_native_password");
	CHECK_EQ(l.has_attrs, 1);
	proto_build_login(&b, &l);
	CHECK_EQ(b.len, sizeof(cap_login_db));
	CHECK_MEM(b.data, cap_login_db, sizeof(cap_login_db));

	/* caching_sha2_password offered with an empty (lenenc 0) response. */
	CHECK_EQ(proto_parse_login(cap_login_sha2, sizeof(cap_login_sha2), &l), 0);
	CHECK_STR(l.user, "shunt");
	CHECK_EQ(l.auth_response.len, 0);
	CHECK_STR(l.auth_plugin, "caching_sha2_password");
	CHECK_EQ(l.has_attrs, 1);
	proto_buf_reset(&b);
	proto_build_login(&b, &l);
	CHECK_EQ(b.len, sizeof(cap_login_sha2));
	CHECK_MEM(b.data, cap_login_sha2, sizeof(cap_login_sha2));

	/* The C API client: a db, and no program_name attribute. */
	CHECK_EQ(proto_parse_login(cap_login_capi, sizeof(cap_login_capi), &l), 0);
	CHECK_EQ(l.caps, CAPS_CAPI);
	CHECK_EQ(l.charset, 45);
	CHECK_STR(l.database, "capdb");
	proto_cur_init(&c, l.attrs.p, l.attrs.len);
	while (proto_attrs_next(&c, &k, &v) == 1) {
		CHECK(!(k.len == 12 && !memcmp(k.p, "program_name", 12)));
		n++;
	}
	CHECK_EQ(n, 6);
	CHECK_EQ(proto_cur_left(&c), 0);
	proto_buf_free(&b);
}

/* Every prefix of each captured login: fails, except the lengths where
 * an optional trailing field (db, plugin, attrs) starts. */
static void test_login_truncation(void)
{
	static const struct { const char *name; const uint8_t *p; size_t len; } caps[] = {
		{ "login_attrs", cap_login_attrs, sizeof(cap_login_attrs) },
		{ "login_db", cap_login_db, sizeof(cap_login_db) },
		{ "login_sha2", cap_login_sha2, sizeof(cap_login_sha2) },
		{ "login_capi", cap_login_capi, sizeof(cap_login_capi) },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(caps); i++) {
		struct proto_login l, t;
		long ok[4];
		int k = 0;
		size_t auth_end;

		CHECK_EQ(proto_parse_login(caps[i].p, caps[i].len, &l), 0);
		auth_end = off_of(caps[i].p, &l.auth_response) + l.auth_response.len;
		ok[k++] = (long)auth_end;                 /* db/plugin/attrs all absent */
		if (l.database.len)
			ok[k++] = (long)(off_of(caps[i].p, &l.database) + l.database.len + 1);
		ok[k++] = (long)(off_of(caps[i].p, &l.auth_plugin) + l.auth_plugin.len + 1);
		ok[k] = -1;
		CHECK_EQ(check_prefixes(caps[i].name, p_login, caps[i].p, caps[i].len, ok, (size_t)-1), 0);
		/* The shortest accepted form really has no plugin and no attrs. */
		CHECK_EQ(proto_parse_login(caps[i].p, auth_end, &t), 0);
		CHECK_EQ(t.auth_plugin.len, 0);
		CHECK_EQ(t.database.len, 0);
		CHECK_EQ(t.has_attrs, 0);
		CHECK_EQ(check_prefixes(caps[i].name, p_login_attrs, caps[i].p, caps[i].len, ok,
					(size_t)-1), 0);
	}
}

static void test_login_roundtrip(void)
{
	static const uint8_t attrs[] = { 3, '_', 'o', 's', 5, 'L', 'i', 'n', 'u', 'x' };
	static const uint32_t forms[] = {
		CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA | CLIENT_SECURE_CONNECTION,
		CLIENT_SECURE_CONNECTION,
		0,   /* NUL-terminated auth response */
	};
	uint8_t auth[20];
	size_t f;
	int with;

	memset(auth, 0x5a, sizeof(auth));
	for (f = 0; f < ARRAY_SIZE(forms); f++) {
		for (with = 0; with < 4; with++) {
			struct proto_login l, m;
			struct proto_buf b;

			memset(&l, 0, sizeof(l));
			l.caps = CLIENT_PROTOCOL_41 | CLIENT_PLUGIN_AUTH | forms[f];
			if (with & 1)
				l.caps |= CLIENT_CONNECT_WITH_DB;
			if (with & 2)
				l.caps |= CLIENT_CONNECT_ATTRS;
			l.max_packet = 1 << 24;
			l.charset = 45;
			l.mariadb_ext_caps = 0x1c;
			l.user.p = (const uint8_t *)"app";
			l.user.len = 3;
			l.auth_response.p = auth;
			l.auth_response.len = sizeof(auth);
			if (with & 1) {
				l.database.p = (const uint8_t *)"db1";
				l.database.len = 3;
			}
			l.auth_plugin.p = (const uint8_t *)"mysql_native_password";
			l.auth_plugin.len = 21;
			if (with & 2) {
				l.attrs.p = attrs;
				l.attrs.len = sizeof(attrs);
				l.has_attrs = 1;
			}
			proto_buf_init(&b);
			proto_build_login(&b, &l);
			CHECK_EQ(b.err, 0);
			CHECK_EQ(proto_parse_login(b.data, b.len, &m), 0);
			CHECK_EQ(m.caps, l.caps);
			CHECK_EQ(m.max_packet, l.max_packet);
			CHECK_EQ(m.charset, 45);
			CHECK_EQ(m.mariadb_ext_caps, 0x1c);
			CHECK_STR(m.user, "app");
			CHECK_EQ(m.auth_response.len, 20);
			CHECK_MEM(m.auth_response.p, auth, 20);
			if (with & 1)
				CHECK_STR(m.database, "db1");
			else
				CHECK_EQ(m.database.len, 0);  /* p may be NULL: no CHECK_STR */
			CHECK_STR(m.auth_plugin, "mysql_native_password");
			CHECK_EQ(m.has_attrs, (with & 2) ? 1 : 0);
			CHECK_EQ(m.attrs.len, (with & 2) ? sizeof(attrs) : 0);
			proto_buf_free(&b);
		}
	}
}

static void test_ssl_request(void)
{
	struct proto_login l, m;
	struct proto_buf b;

	memset(&l, 0, sizeof(l));
	l.caps = CAPS_CLI | CLIENT_SSL;
	l.max_packet = 0x1000000;
	l.charset = 45;
	l.mariadb_ext_caps = 0x1d;
	l.is_ssl_request = 1;
	proto_buf_init(&b);
	proto_build_login(&b, &l);
	CHECK_EQ(b.len, 32);
	CHECK_EQ(proto_parse_login(b.data, b.len, &m), 0);
	CHECK_EQ(m.is_ssl_request, 1);
	CHECK_EQ(m.caps, l.caps);
	CHECK_EQ(m.max_packet, 0x1000000);
	CHECK_EQ(m.charset, 45);
	CHECK_EQ(m.mariadb_ext_caps, 0x1d);
	CHECK_EQ(m.user.len, 0);
	/* 32 bytes without CLIENT_SSL is not a valid login. */
	b.data[1] &= (uint8_t)~(CLIENT_SSL >> 8);
	CHECK_EQ(proto_parse_login(b.data, b.len, &m), -EPROTO);
	/* The first 32 bytes of a real login are an SSLRequest only with SSL. */
	CHECK_EQ(proto_parse_login(cap_login_attrs, 32, &m), -EPROTO);
	/* Pre-4.1 clients are refused. */
	b.data[1] = (uint8_t)(b.data[1] | (CLIENT_SSL >> 8));
	b.data[1] &= (uint8_t)~(CLIENT_PROTOCOL_41 >> 8);
	CHECK_EQ(proto_parse_login(b.data, b.len, &m), -EPROTO);
	proto_buf_free(&b);
}

static void test_login_corrupt(void)
{
	const uint8_t *p = cap_login_attrs;
	size_t n = sizeof(cap_login_attrs);
	struct proto_login l;
	struct proto_buf b;
	uint8_t *q;
	size_t attrs_len_off = n - 0x7e - 1;

	/* Auth response lenenc 0xFC 0xFFFF (only the 1st byte poked, the next
	 * two are scramble bytes): claims far more than exists. */
	CHECK_EQ(parse_poked(p_login, p, n, 38, 0xFE), -EPROTO);
	CHECK_EQ(parse_poked(p_login, p, n, 38, 0xFB), -EPROTO);   /* NULL not allowed */
	CHECK_EQ(parse_poked(p_login, p, n, 38, 0xFF), -EPROTO);
	CHECK_EQ(parse_poked(p_login, p, n, 38, 0xFA), -EPROTO);   /* 250 > what is left */
	/* Attrs length beyond the end, NULL, 0xFF. */
	CHECK_EQ(p[attrs_len_off], 0x7e);
	CHECK_EQ(parse_poked(p_login, p, n, attrs_len_off, 0x7f), -EPROTO);
	CHECK_EQ(parse_poked(p_login, p, n, attrs_len_off, 0xFB), -EPROTO);
	CHECK_EQ(parse_poked(p_login, p, n, attrs_len_off, 0xFF), -EPROTO);
	CHECK_EQ(parse_poked(p_login, p, n, attrs_len_off, 0xFD), -EPROTO);
	/* Shorter attrs length: the block parses but one pair is cut short. */
	CHECK_EQ(parse_poked(p_login, p, n, attrs_len_off, 0x7d), 0);
	CHECK_EQ(parse_poked(p_login_attrs, p, n, attrs_len_off, 0x7d), -EPROTO);
	/* A key length inside the block running past it. */
	CHECK_EQ(parse_poked(p_login_attrs, p, n, attrs_len_off + 1, 0x7d), -EPROTO);
	/* Plugin name without NUL (its NUL becomes 'x': then no NUL follows). */
	CHECK_EQ(parse_poked(p_login, p, n, attrs_len_off - 1, 'x'), -EPROTO);
	/* User name without NUL. */
	q = malloc(40);
	memcpy(q, p, 32);
	memcpy(q + 32, "shuntshuntshunt!", 8);
	CHECK_EQ(proto_parse_login(q, 40, &l), -EPROTO);
	/* 1-byte auth length beyond the end. */
	memset(&l, 0, sizeof(l));
	l.caps = CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION;
	l.user.p = (const uint8_t *)"u";
	l.user.len = 1;
	l.auth_response.p = p;
	l.auth_response.len = 3;
	proto_buf_init(&b);
	proto_build_login(&b, &l);
	CHECK_EQ(b.len, 32 + 2 + 1 + 3);
	CHECK_EQ(proto_parse_login(b.data, b.len, &l), 0);
	CHECK_EQ(parse_poked(p_login, b.data, b.len, 34, 4), -EPROTO);
	CHECK_EQ(parse_poked(p_login, b.data, b.len, 34, 0xFF), -EPROTO);
	/* NUL-form auth response without its NUL. */
	proto_buf_reset(&b);
	l.caps = CLIENT_PROTOCOL_41;
	l.auth_response.p = (const uint8_t *)"pw";
	l.auth_response.len = 2;
	proto_build_login(&b, &l);
	CHECK_EQ(proto_parse_login(b.data, b.len, &l), 0);
	CHECK_STR(l.auth_response, "pw");
	CHECK_EQ(proto_parse_login(b.data, b.len - 1, &l), -EPROTO);
	/* The 1-byte form cannot carry more than 255 bytes. */
	proto_buf_reset(&b);
	l.caps = CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION;
	l.auth_response.len = 256;
	l.auth_response.p = q;   /* not read: the builder refuses first */
	proto_build_login(&b, &l);
	CHECK_EQ(b.err, -EMSGSIZE);
	proto_buf_free(&b);
	free(q);
}

static void test_attrs_next_corrupt(void)
{
	static const uint8_t no_value[] = { 1, 'k' };
	static const uint8_t long_value[] = { 1, 'k', 5, 'v' };
	static const uint8_t null_key[] = { 0xFB, 1, 'v' };
	static const uint8_t empty_pair[] = { 0, 0 };
	struct proto_cur c;
	struct proto_str k, v;

	proto_cur_init(&c, no_value, sizeof(no_value));
	CHECK_EQ(proto_attrs_next(&c, &k, &v), -EPROTO);
	CHECK_EQ(c.off, 0);
	proto_cur_init(&c, long_value, sizeof(long_value));
	CHECK_EQ(proto_attrs_next(&c, &k, &v), -EPROTO);
	proto_cur_init(&c, null_key, sizeof(null_key));
	CHECK_EQ(proto_attrs_next(&c, &k, &v), -EPROTO);
	proto_cur_init(&c, empty_pair, sizeof(empty_pair));
	CHECK_EQ(proto_attrs_next(&c, &k, &v), 1);
	CHECK_EQ(k.len + v.len, 0);
	CHECK_EQ(proto_attrs_next(&c, &k, &v), 0);
}

static void test_auth_switch(void)
{
	struct proto_auth_switch s;
	struct proto_buf b;
	long ok[] = { 23, -1 };

	CHECK_EQ(proto_parse_auth_switch(cap_auth_switch, sizeof(cap_auth_switch), &s), 0);
	CHECK_STR(s.plugin, "mysql_native_password");
	CHECK_EQ(s.data.len, 20);
	proto_buf_init(&b);
	proto_build_auth_switch(&b, "mysql_native_password", s.data.p, s.data.len);
	CHECK_EQ(b.len, sizeof(cap_auth_switch));
	CHECK_MEM(b.data, cap_auth_switch, sizeof(cap_auth_switch));
	/* Round trip with data that itself ends in NUL: exactly one NUL dropped. */
	proto_buf_reset(&b);
	proto_build_auth_switch(&b, "caching_sha2_password", (const uint8_t *)"ab\0", 3);
	CHECK_EQ(proto_parse_auth_switch(b.data, b.len, &s), 0);
	CHECK_STR(s.plugin, "caching_sha2_password");
	CHECK_EQ(s.data.len, 3);
	proto_buf_free(&b);
	/* Every prefix from just after the plugin NUL parses (shorter data). */
	CHECK_EQ(check_prefixes("auth_switch", p_auth_switch, cap_auth_switch,
				sizeof(cap_auth_switch), ok, 23), 0);
	/* Wrong header, no NUL, the 1-byte pre-4.1 form. */
	CHECK_EQ(parse_poked(p_auth_switch, cap_auth_switch, sizeof(cap_auth_switch), 0, 0x00), -EPROTO);
	CHECK_EQ(p_auth_switch((const uint8_t *)"\xfe" "abc", 4), -EPROTO);
	CHECK_EQ(p_auth_switch((const uint8_t *)"\xfe", 1), -EPROTO);
}

/* ---- responses ---- */

static void test_ok_capture(void)
{
	struct proto_ok ok;
	struct proto_buf b;
	long seven[] = { 7, -1 };

	CHECK_EQ(proto_parse_ok(cap_ok_login, sizeof(cap_ok_login), CAPS_CLI, &ok), 0);
	CHECK_EQ(ok.header, 0);
	CHECK_EQ(ok.affected_rows, 0);
	CHECK_EQ(ok.last_insert_id, 0);
	CHECK_EQ(ok.status, SERVER_STATUS_AUTOCOMMIT);
	CHECK_EQ(ok.warnings, 0);
	CHECK_EQ(ok.info.len, 0);   /* MariaDB omits the empty info entirely */
	CHECK_EQ(ok.session_state.len, 0);

	CHECK_EQ(proto_parse_ok(cap_ok_insert, sizeof(cap_ok_insert), CAPS_CLI_DB, &ok), 0);
	CHECK_EQ(ok.affected_rows, 1);
	CHECK_EQ(ok.status, SERVER_STATUS_AUTOCOMMIT);

	/* The OK after a login with -D: the schema change is tracked. */
	CHECK_EQ(proto_parse_ok(cap_ok_session_state, sizeof(cap_ok_session_state), CAPS_CLI_DB, &ok), 0);
	CHECK_EQ(ok.status, SERVER_SESSION_STATE_CHANGED | SERVER_STATUS_AUTOCOMMIT);
	CHECK_EQ(ok.info.len, 0);
	CHECK_EQ(ok.session_state.len, 8);
	/* SESSION_TRACK_SCHEMA (1), length 6, lenenc "capdb". */
	CHECK_MEM(ok.session_state.p, "\x01\x06\x05" "capdb", 8);
	proto_buf_init(&b);
	proto_build_ok(&b, CAPS_CLI_DB, &ok);
	CHECK_EQ(b.len, sizeof(cap_ok_session_state));
	CHECK_MEM(b.data, cap_ok_session_state, sizeof(cap_ok_session_state));
	proto_buf_free(&b);

	/* Without SESSION_TRACK, the rest of the packet is info. */
	CHECK_EQ(proto_parse_ok(cap_ok_session_state, sizeof(cap_ok_session_state),
				CAPS_CLI_DB & ~CLIENT_SESSION_TRACK, &ok), 0);
	CHECK_EQ(ok.info.len, 10);

	CHECK_EQ(check_prefixes("ok_login", p_ok_track, cap_ok_login, sizeof(cap_ok_login),
				NULL, (size_t)-1), 0);
	CHECK_EQ(check_prefixes("ok_insert", p_ok_track, cap_ok_insert, sizeof(cap_ok_insert),
				NULL, (size_t)-1), 0);
	/* Session state announced: a prefix ending after the info is refused;
	 * one ending after warnings (no info at all) is the omitted form. */
	CHECK_EQ(check_prefixes("ok_state", p_ok_track, cap_ok_session_state,
				sizeof(cap_ok_session_state), seven, (size_t)-1), 0);
	CHECK_EQ(check_prefixes("ok_state/notrack", p_ok_notrack, cap_ok_session_state,
				sizeof(cap_ok_session_state), NULL, 7), 0);
}

static void check_ok_roundtrip(uint32_t caps, uint8_t header, uint16_t status,
			       const char *info, const char *state)
{
	struct proto_ok ok, back;
	struct proto_buf b;

	memset(&ok, 0, sizeof(ok));
	ok.header = header;
	ok.affected_rows = 0x1000000;
	ok.last_insert_id = 251;
	ok.status = status;
	ok.warnings = 3;
	ok.info.p = (const uint8_t *)info;
	ok.info.len = strlen(info);
	ok.session_state.p = (const uint8_t *)state;
	ok.session_state.len = strlen(state);
	proto_buf_init(&b);
	proto_build_ok(&b, caps, &ok);
	CHECK_EQ(b.err, 0);
	CHECK_EQ(b.data[0], header);
	CHECK_EQ(proto_parse_ok(b.data, b.len, caps, &back), 0);
	CHECK_EQ(back.header, header);
	CHECK(back.affected_rows == 0x1000000);
	CHECK_EQ(back.last_insert_id, 251);
	CHECK_EQ(back.status, status);
	CHECK_EQ(back.warnings, 3);
	if (*info)
		CHECK_STR(back.info, info);
	else
		CHECK_EQ(back.info.len, 0);
	if ((caps & CLIENT_SESSION_TRACK) && (status & SERVER_SESSION_STATE_CHANGED))
		CHECK_STR(back.session_state, state);
	else
		CHECK_EQ(back.session_state.len, 0);
	CHECK_EQ(proto_is_eof(b.data, b.len, caps | CLIENT_DEPRECATE_EOF), header == 0xFE);
	proto_buf_free(&b);
}

static void test_ok_roundtrip(void)
{
	uint32_t track = CLIENT_PROTOCOL_41 | CLIENT_SESSION_TRACK;

	check_ok_roundtrip(track, 0x00, 0x4002, "Rows matched: 1", "\x01\x03\x02xy");
	check_ok_roundtrip(track, 0x00, 0x0002, "info", "ignored");
	check_ok_roundtrip(track, 0x00, 0x0002, "", "");
	check_ok_roundtrip(CLIENT_PROTOCOL_41, 0x00, 0x4002, "Rows matched: 1 Changed: 1", "x");
	check_ok_roundtrip(CLIENT_PROTOCOL_41, 0x00, 0x0000, "", "");
	check_ok_roundtrip(track | CLIENT_DEPRECATE_EOF, 0xFE, 0x0022, "", "");
	check_ok_roundtrip(CLIENT_PROTOCOL_41 | CLIENT_DEPRECATE_EOF, 0xFE, 0x0002, "", "");
}

static void test_ok_corrupt(void)
{
	static const uint8_t bad_hdr[] = { 0x05, 0, 0, 2, 0, 0, 0 };
	static const uint8_t null_rows[] = { 0x00, 0xFB, 0, 2, 0, 0, 0 };
	static const uint8_t ff_id[] = { 0x00, 0, 0xFF, 2, 0, 0, 0 };
	static const uint8_t huge_rows[] = { 0x00, 0xFE, 1, 2, 3, 4, 5, 6 };
	static const uint8_t info_over[] = { 0x00, 0, 0, 2, 0, 0, 0, 0xFC, 0x10, 0x00, 'a' };
	static const uint8_t state_over[] = { 0x00, 0, 0, 2, 0x40, 0, 0, 0, 9, 1 };
	struct proto_ok ok;

	CHECK_EQ(proto_parse_ok(bad_hdr, sizeof(bad_hdr), CAPS_CLI, &ok), -EPROTO);
	CHECK_EQ(proto_parse_ok(null_rows, sizeof(null_rows), CAPS_CLI, &ok), -EPROTO);
	CHECK_EQ(proto_parse_ok(ff_id, sizeof(ff_id), CAPS_CLI, &ok), -EPROTO);
	CHECK_EQ(proto_parse_ok(huge_rows, sizeof(huge_rows), CAPS_CLI, &ok), -EPROTO);
	CHECK_EQ(proto_parse_ok(info_over, sizeof(info_over), CAPS_CLI, &ok), -EPROTO);
	CHECK_EQ(proto_parse_ok(state_over, sizeof(state_over), CAPS_CLI, &ok), -EPROTO);
	CHECK_EQ(proto_parse_ok(info_over, sizeof(info_over), CLIENT_PROTOCOL_41, &ok), 0);
	CHECK_EQ(ok.info.len, 4);
}

static void test_err(void)
{
	struct proto_err e;
	struct proto_buf b;
	static const char msg[] = "Table 'nosuch.tbl' doesn't exist";
	long three[] = { 3, -1 };

	CHECK_EQ(proto_parse_err(cap_err_1146, sizeof(cap_err_1146), &e), 0);
	CHECK_EQ(e.code, 1146);
	CHECK(strcmp(e.sqlstate, "42S02") == 0);
	CHECK_STR(e.message, msg);
	proto_buf_init(&b);
	proto_build_err(&b, 1146, "42S02", msg);
	CHECK_EQ(b.len, sizeof(cap_err_1146));
	CHECK_MEM(b.data, cap_err_1146, sizeof(cap_err_1146));
	/* Round trip of our own errors; a bad sqlstate becomes HY000. */
	proto_buf_reset(&b);
	proto_build_err(&b, ER_ACCESS_DENIED_ERROR, "28000", "Access denied");
	CHECK_EQ(proto_parse_err(b.data, b.len, &e), 0);
	CHECK_EQ(e.code, 1045);
	CHECK(strcmp(e.sqlstate, "28000") == 0);
	CHECK_STR(e.message, "Access denied");
	proto_buf_reset(&b);
	proto_build_err(&b, ER_HANDSHAKE_ERROR, "bad", "");
	CHECK_EQ(proto_parse_err(b.data, b.len, &e), 0);
	CHECK(strcmp(e.sqlstate, "HY000") == 0);
	CHECK_EQ(e.message.len, 0);
	proto_buf_free(&b);
	/* Pre-4.1 form without '#': sqlstate HY000, message is the rest. */
	CHECK_EQ(proto_parse_err((const uint8_t *)"\xff\x10\x04oops", 7, &e), 0);
	CHECK_EQ(e.code, 1040);
	CHECK(strcmp(e.sqlstate, "HY000") == 0);
	CHECK_STR(e.message, "oops");
	/* Prefixes: code only (3) is valid; '#' with a cut sqlstate is not. */
	CHECK_EQ(check_prefixes("err", p_err, cap_err_1146, sizeof(cap_err_1146), three, 9), 0);
	CHECK_EQ(parse_poked(p_err, cap_err_1146, sizeof(cap_err_1146), 0, 0xFE), -EPROTO);
}

static void test_eof(void)
{
	struct proto_eof e;
	struct proto_buf b;
	static const uint8_t nine[] = { 0xFE, 0, 0, 2, 0, 0, 0, 0, 0 };

	CHECK_EQ(proto_parse_eof(cap_eof_meta, sizeof(cap_eof_meta), &e), 0);
	CHECK_EQ(e.warnings, 0);
	CHECK_EQ(e.status, SERVER_STATUS_AUTOCOMMIT);
	CHECK_EQ(proto_parse_eof(cap_eof_status22, sizeof(cap_eof_status22), &e), 0);
	CHECK_EQ(e.status, SERVER_STATUS_AUTOCOMMIT | 0x20);
	proto_buf_init(&b);
	proto_build_eof(&b, 0, SERVER_STATUS_AUTOCOMMIT);
	CHECK_EQ(b.len, sizeof(cap_eof_rows));
	CHECK_MEM(b.data, cap_eof_rows, sizeof(cap_eof_rows));
	proto_buf_reset(&b);
	proto_build_eof(&b, 7, 0x4003);
	CHECK_EQ(proto_parse_eof(b.data, b.len, &e), 0);
	CHECK_EQ(e.warnings, 7);
	CHECK_EQ(e.status, 0x4003);
	proto_buf_free(&b);
	CHECK_EQ(check_prefixes("eof", p_eof, cap_eof_meta, sizeof(cap_eof_meta), NULL, (size_t)-1), 0);
	CHECK_EQ(proto_parse_eof(nine, sizeof(nine), &e), -EPROTO);
	CHECK_EQ(proto_parse_eof(nine, 8, &e), 0);
	CHECK_EQ(parse_poked(p_eof, cap_eof_meta, sizeof(cap_eof_meta), 0, 0x00), -EPROTO);

	/* proto_is_eof on captured packets, both caps. */
	CHECK_EQ(proto_is_eof(cap_eof_meta, sizeof(cap_eof_meta), CAPS_CLI), 1);
	CHECK_EQ(proto_is_eof(cap_eof_meta, sizeof(cap_eof_meta), CAPS_CLI | CLIENT_DEPRECATE_EOF), 1);
	CHECK_EQ(proto_is_eof(cap_row_1xnull, sizeof(cap_row_1xnull), CAPS_CLI), 0);
	CHECK_EQ(proto_is_eof(cap_ok_login, sizeof(cap_ok_login), CAPS_CLI), 0);
	CHECK_EQ(proto_is_eof(cap_err_1146, sizeof(cap_err_1146), CAPS_CLI), 0);
	CHECK_EQ(proto_is_eof(cap_eof_meta, 0, CAPS_CLI), 0);
	CHECK_EQ(proto_is_eof(nine, 9, CAPS_CLI), 0);   /* a row starting with lenenc 0xFE */
	CHECK_EQ(proto_is_eof(nine, 9, CLIENT_DEPRECATE_EOF), 1);
}

static void test_resultset_capture(void)
{
	struct proto_coldef cd;
	struct proto_cur c;
	struct proto_str s;
	uint64_t n;
	int is_null;

	CHECK_EQ(proto_parse_column_count(cap_colcount_3, sizeof(cap_colcount_3), &n), 0);
	CHECK_EQ(n, 3);   /* the trailing byte is MariaDB's "metadata follows" */
	CHECK_EQ(check_prefixes("colcount", p_colcount, cap_colcount_3, sizeof(cap_colcount_3),
				NULL, 1), 0);

	CHECK_EQ(proto_parse_coldef(cap_coldef_1, sizeof(cap_coldef_1), &cd), 0);
	CHECK_STR(cd.catalog, "def");
	CHECK_EQ(cd.schema.len + cd.table.len + cd.org_table.len + cd.org_name.len, 0);
	CHECK_STR(cd.name, "1");
	CHECK_EQ(cd.charset, MYSQL_CHARSET_BINARY);
	CHECK_EQ(cd.length, 1);
	CHECK_EQ(cd.type, 3);           /* MYSQL_TYPE_LONG */
	CHECK_EQ(cd.flags, 0x0081);     /* NOT_NULL | BINARY */
	CHECK_EQ(cd.decimals, 0);
	CHECK_EQ(proto_parse_coldef(cap_coldef_x, sizeof(cap_coldef_x), &cd), 0);
	CHECK_STR(cd.name, "x");
	CHECK_EQ(cd.charset, 33);
	CHECK_EQ(cd.length, 3);
	CHECK_EQ(cd.type, 0xfd);        /* MYSQL_TYPE_VAR_STRING */
	CHECK_EQ(cd.flags, 0x0001);
	CHECK_EQ(cd.decimals, 39);
	CHECK_EQ(proto_parse_coldef(cap_coldef_null, sizeof(cap_coldef_null), &cd), 0);
	CHECK_STR(cd.name, "NULL");
	CHECK_EQ(cd.type, 6);           /* MYSQL_TYPE_NULL */
	CHECK_EQ(cd.flags, 0x0080);
	CHECK_EQ(proto_parse_coldef(cap_coldef_id, sizeof(cap_coldef_id), &cd), 0);
	CHECK_STR(cd.schema, "capdb");
	CHECK_STR(cd.table, "t");
	CHECK_STR(cd.org_table, "t");
	CHECK_STR(cd.name, "id");
	CHECK_STR(cd.org_name, "id");
	CHECK_EQ(cd.length, 11);
	CHECK_EQ(cd.type, 3);
	CHECK_EQ(cd.flags, 0x5003);     /* NOT_NULL | PRI_KEY | PART_KEY | NUM */
	CHECK_EQ(proto_parse_coldef(cap_coldef_name, sizeof(cap_coldef_name), &cd), 0);
	CHECK_STR(cd.name, "name");
	CHECK_EQ(cd.charset, 33);
	CHECK_EQ(cd.length, 60);
	CHECK_EQ(cd.type, 0xfd);

	/* Row: "1", "x", NULL. */
	proto_cur_init(&c, cap_row_1xnull, sizeof(cap_row_1xnull));
	CHECK_EQ(proto_get_lenenc_str(&c, &s), 0);
	CHECK_STR(s, "1");
	CHECK_EQ(proto_get_lenenc_str(&c, &s), 0);
	CHECK_STR(s, "x");
	CHECK_EQ(proto_get_lenenc_str(&c, &s), -EPROTO);
	CHECK_EQ(proto_get_lenenc(&c, &n, &is_null), 0);
	CHECK_EQ(is_null, 1);
	CHECK_EQ(proto_cur_left(&c), 0);

	/* Prefixes of every captured coldef fail. */
	CHECK_EQ(check_prefixes("coldef_1", p_coldef, cap_coldef_1, sizeof(cap_coldef_1), NULL, (size_t)-1), 0);
	CHECK_EQ(check_prefixes("coldef_x", p_coldef, cap_coldef_x, sizeof(cap_coldef_x), NULL, (size_t)-1), 0);
	CHECK_EQ(check_prefixes("coldef_null", p_coldef, cap_coldef_null, sizeof(cap_coldef_null), NULL, (size_t)-1), 0);
	CHECK_EQ(check_prefixes("coldef_id", p_coldef, cap_coldef_id, sizeof(cap_coldef_id), NULL, (size_t)-1), 0);
	CHECK_EQ(check_prefixes("coldef_name", p_coldef, cap_coldef_name, sizeof(cap_coldef_name), NULL, (size_t)-1), 0);
}

static void test_coldef_roundtrip(void)
{
	struct proto_coldef cd, back;
	struct proto_buf b;
	static const uint8_t with_default[] = {
		3, 'd', 'e', 'f', 0, 1, 't', 1, 't', 1, 'c', 1, 'c',
		0x0c, 0x21, 0, 10, 0, 0, 0, 0xfd, 0, 0, 0, 0, 0,
		10, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j' };  /* COM_FIELD_LIST default */
	static const uint8_t ext_geom[] = {
		3, 'd', 'e', 'f', 0, 0, 0, 1, 'g', 0,
		12, 0, 10, 'l', 'i', 'n', 'e', 's', 't', 'r', 'i', 'n', 'g',   /* extended metadata */
		0x0c, 0x3f, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0x90, 0, 0, 0, 0 };

	/* Parsed from MariaDB's extended form, rebuilt in the standard form. */
	CHECK_EQ(proto_parse_coldef(cap_coldef_id, sizeof(cap_coldef_id), &cd), 0);
	proto_buf_init(&b);
	proto_build_coldef(&b, &cd);
	CHECK_EQ(b.err, 0);
	CHECK_EQ(b.len, sizeof(cap_coldef_id) - 1);   /* minus the empty ext block */
	CHECK_EQ(proto_parse_coldef(b.data, b.len, &back), 0);
	CHECK_STR(back.catalog, "def");
	CHECK_STR(back.schema, "capdb");
	CHECK_STR(back.table, "t");
	CHECK_STR(back.org_table, "t");
	CHECK_STR(back.name, "id");
	CHECK_STR(back.org_name, "id");
	CHECK_EQ(back.charset, cd.charset);
	CHECK_EQ(back.length, cd.length);
	CHECK_EQ(back.type, cd.type);
	CHECK_EQ(back.flags, cd.flags);
	CHECK_EQ(back.decimals, cd.decimals);
	CHECK_EQ(check_prefixes("coldef_std", p_coldef, b.data, b.len, NULL, (size_t)-1), 0);
	proto_buf_free(&b);

	CHECK_EQ(proto_parse_coldef(with_default, sizeof(with_default), &cd), 0);
	CHECK_STR(cd.name, "c");
	CHECK_EQ(cd.type, 0xfd);
	CHECK_EQ(cd.length, 10);
	CHECK_EQ(proto_parse_coldef(ext_geom, sizeof(ext_geom), &cd), 0);
	CHECK_STR(cd.name, "g");
	CHECK_EQ(cd.charset, 63);
	CHECK_EQ(cd.type, 0xff);
	CHECK_EQ(cd.flags, 0x90);
}

static void test_coldef_corrupt(void)
{
	const uint8_t *p = cap_coldef_id;
	size_t n = sizeof(cap_coldef_id);

	CHECK_EQ(parse_poked(p_coldef, p, n, 0, 0xFB), -EPROTO);   /* catalog NULL */
	CHECK_EQ(parse_poked(p_coldef, p, n, 0, 0xFF), -EPROTO);
	CHECK_EQ(parse_poked(p_coldef, p, n, 0, 0xFE), -EPROTO);   /* u64 length, huge */
	CHECK_EQ(parse_poked(p_coldef, p, n, 0, 0xFC), -EPROTO);   /* 0x6564 bytes */
	CHECK_EQ(parse_poked(p_coldef, p, n, 4, 0x30), -EPROTO);   /* schema overruns */
	CHECK_EQ(parse_poked(p_coldef, p, n, 14, 0xFB), -EPROTO);  /* name NULL */
	CHECK_EQ(parse_poked(p_coldef, p, n, 14, 0xFF), -EPROTO);
	CHECK_EQ(p[20], 0x00);   /* empty extended-metadata block */
	CHECK_EQ(p[21], 0x0c);
	CHECK_EQ(parse_poked(p_coldef, p, n, 21, 0x05), -EPROTO);  /* fixed block too short */
	CHECK_EQ(parse_poked(p_coldef, p, n, 21, 0x0d), -EPROTO);  /* fixed block past end */
	CHECK_EQ(parse_poked(p_coldef, p, n, 21, 0xFB), -EPROTO);
	CHECK_EQ(parse_poked(p_coldef, p, n, 20, 0x01), -EPROTO);  /* ext block eats fixed len */
	CHECK_EQ(parse_poked(p_coldef, p, n, 20, 0xFB), -EPROTO);
	CHECK_EQ(parse_poked(p_coldef, p, n, 20, 0xFF), -EPROTO);
}

static void test_colcount_corrupt(void)
{
	uint64_t n;

	CHECK_EQ(proto_parse_column_count((const uint8_t *)"\xfb", 1, &n), -EPROTO);
	CHECK_EQ(proto_parse_column_count((const uint8_t *)"\xff", 1, &n), -EPROTO);
	CHECK_EQ(proto_parse_column_count((const uint8_t *)"\x00", 1, &n), -EPROTO);
	CHECK_EQ(proto_parse_column_count((const uint8_t *)"\xfc\x01", 2, &n), -EPROTO);
	CHECK_EQ(proto_parse_column_count((const uint8_t *)"\xfe\x01\x02\x03", 4, &n), -EPROTO);
	CHECK_EQ(proto_parse_column_count((const uint8_t *)"\xfc\x00\x01", 3, &n), 0);
	CHECK_EQ(n, 256);
	CHECK_EQ(proto_parse_column_count(NULL, 0, &n), -EPROTO);
}

static void test_prepare_ok(void)
{
	struct proto_prepare_ok po;

	CHECK_EQ(proto_parse_prepare_ok(cap_prepare_ok, sizeof(cap_prepare_ok), &po), 0);
	CHECK_EQ(po.stmt_id, 1);
	CHECK_EQ(po.num_columns, 2);
	CHECK_EQ(po.num_params, 1);
	CHECK_EQ(po.warnings, 0);
	CHECK_EQ(check_prefixes("prepare_ok", p_prepare_ok, cap_prepare_ok, sizeof(cap_prepare_ok),
				NULL, (size_t)-1), 0);
	CHECK_EQ(parse_poked(p_prepare_ok, cap_prepare_ok, sizeof(cap_prepare_ok), 0, 0xFF), -EPROTO);
}

/* Every parser fed every captured payload: nothing crashes, and parsers
 * refuse packets of the wrong kind where the header byte says so. */
static void test_cross_feed(void)
{
	static const struct { const uint8_t *p; size_t len; } caps[] = {
#define C(x) { x, sizeof(x) }
		C(cap_greeting), C(cap_login_attrs), C(cap_ok_login), C(cap_query_select),
		C(cap_colcount_3), C(cap_coldef_1), C(cap_coldef_x), C(cap_coldef_null),
		C(cap_eof_meta), C(cap_row_1xnull), C(cap_eof_rows), C(cap_err_1146),
		C(cap_login_db), C(cap_ok_session_state), C(cap_ok_insert), C(cap_coldef_id),
		C(cap_coldef_name), C(cap_eof_status22), C(cap_login_sha2), C(cap_auth_switch),
		C(cap_login_capi), C(cap_prepare_ok),
#undef C
	};
	static const parse_fn fns[] = { p_greeting, p_login, p_login_attrs, p_auth_switch,
		p_ok_track, p_ok_notrack, p_err, p_eof, p_colcount, p_coldef, p_prepare_ok };
	size_t i, j;

	for (i = 0; i < ARRAY_SIZE(caps); i++)
		for (j = 0; j < ARRAY_SIZE(fns); j++)
			(void)run_exact(fns[j], caps[i].p, caps[i].len);
	CHECK_EQ(p_err(cap_ok_login, sizeof(cap_ok_login)), -EPROTO);
	CHECK_EQ(p_ok_track(cap_err_1146, sizeof(cap_err_1146)), -EPROTO);
	CHECK_EQ(p_eof(cap_err_1146, sizeof(cap_err_1146)), -EPROTO);
	CHECK_EQ(p_greeting(cap_login_attrs, sizeof(cap_login_attrs)), -EPROTO);
}

int main(void)
{
	RUN(test_lenenc_boundaries);
	RUN(test_lenenc_null_and_ff);
	RUN(test_fixed_and_strings);
	RUN(test_buf_writers);
	RUN(test_peek_header);
	RUN(test_frame_small);
	RUN(test_frame_big);
	RUN(test_put_packet_seq_wrap);
	RUN(test_greeting_capture);
	RUN(test_greeting_variants);
	RUN(test_greeting_corrupt);
	RUN(test_login_capture);
	RUN(test_login_db_sha2_capi);
	RUN(test_login_truncation);
	RUN(test_login_roundtrip);
	RUN(test_ssl_request);
	RUN(test_login_corrupt);
	RUN(test_attrs_next_corrupt);
	RUN(test_auth_switch);
	RUN(test_ok_capture);
	RUN(test_ok_roundtrip);
	RUN(test_ok_corrupt);
	RUN(test_err);
	RUN(test_eof);
	RUN(test_resultset_capture);
	RUN(test_coldef_roundtrip);
	RUN(test_coldef_corrupt);
	RUN(test_colcount_corrupt);
	RUN(test_prepare_ok);
	RUN(test_cross_feed);
	return TEST_SUMMARY();
}
