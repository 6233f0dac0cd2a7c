/* proto.c — the MySQL client/server protocol codec.
 *
 * Readers work on a struct proto_cur and never look past c->len. A reader
 * that fails leaves the cursor where it was, so a caller can try another
 * form. Writers append to a struct proto_buf whose first allocation failure
 * is sticky (buf->err), so builders check once at the end.
 *
 * Tolerance policy for packets from the network (documented per parser):
 * a field that the capabilities say exists but that is entirely absent
 * because the packet ends right before it is treated as empty only where
 * real servers/clients do so (OK info, login database/plugin/attrs);
 * a field that is present but malformed is always -EPROTO. Trailing bytes
 * after the last field we understand are ignored (newer protocol versions
 * append fields). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mysql/proto.h"

/* ---- Readers ---- */

/* Fixed-width readers: 0, or -EPROTO with the cursor unchanged when fewer
 * than the needed bytes remain. */
int proto_get_u8(struct proto_cur *c, uint8_t *v)
{
	if (proto_cur_left(c) < 1)
		return -EPROTO;
	*v = c->p[c->off];
	c->off += 1;
	return 0;
}

int proto_get_u16(struct proto_cur *c, uint16_t *v)
{
	const uint8_t *q;

	if (proto_cur_left(c) < 2)
		return -EPROTO;
	q = c->p + c->off;
	*v = (uint16_t)(q[0] | (uint16_t)q[1] << 8);
	c->off += 2;
	return 0;
}

int proto_get_u24(struct proto_cur *c, uint32_t *v)
{
	const uint8_t *q;

	if (proto_cur_left(c) < 3)
		return -EPROTO;
	q = c->p + c->off;
	*v = (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16;
	c->off += 3;
	return 0;
}

int proto_get_u32(struct proto_cur *c, uint32_t *v)
{
	const uint8_t *q;

	if (proto_cur_left(c) < 4)
		return -EPROTO;
	q = c->p + c->off;
	*v = (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 |
	     (uint32_t)q[3] << 24;
	c->off += 4;
	return 0;
}

int proto_get_u64(struct proto_cur *c, uint64_t *v)
{
	const uint8_t *q;
	uint64_t x = 0;
	int i;

	if (proto_cur_left(c) < 8)
		return -EPROTO;
	q = c->p + c->off;
	for (i = 7; i >= 0; i--)
		x = x << 8 | q[i];
	*v = x;
	c->off += 8;
	return 0;
}

/* Length-encoded integer: 0..0xFA literal, 0xFC u16, 0xFD u24, 0xFE u64.
 * 0xFB is NULL: allowed only when is_null is non-NULL (then *is_null = 1,
 * *v = 0); otherwise -EPROTO. 0xFF is never a valid lenenc (-EPROTO).
 * Non-minimal encodings (e.g. 0xFC 0x05 0x00) are accepted. When is_null is
 * non-NULL it is set to 0 for a non-NULL value. The cursor is unchanged on
 * error. */
int proto_get_lenenc(struct proto_cur *c, uint64_t *v, int *is_null)
{
	struct proto_cur t = *c;
	uint8_t b;
	uint16_t v16;
	uint32_t v32;
	uint64_t v64;

	if (proto_get_u8(&t, &b))
		return -EPROTO;
	switch (b) {
	case 0xFB:
		if (!is_null)
			return -EPROTO;
		*is_null = 1;
		*v = 0;
		c->off = t.off;
		return 0;
	case 0xFC:
		if (proto_get_u16(&t, &v16))
			return -EPROTO;
		v64 = v16;
		break;
	case 0xFD:
		if (proto_get_u24(&t, &v32))
			return -EPROTO;
		v64 = v32;
		break;
	case 0xFE:
		if (proto_get_u64(&t, &v64))
			return -EPROTO;
		break;
	case 0xFF:
		return -EPROTO;
	default:
		v64 = b;
		break;
	}
	if (is_null)
		*is_null = 0;
	*v = v64;
	c->off = t.off;
	return 0;
}

/* n raw bytes as a slice into the buffer; -EPROTO if fewer remain. */
int proto_get_bytes(struct proto_cur *c, size_t n, struct proto_str *s)
{
	if (proto_cur_left(c) < n)
		return -EPROTO;
	s->p = c->p + c->off;
	s->len = n;
	c->off += n;
	return 0;
}

/* NUL-terminated string; -EPROTO when no NUL lies in the remaining bytes. */
int proto_get_nulstr(struct proto_cur *c, struct proto_str *s)
{
	const uint8_t *start = c->p + c->off;
	const uint8_t *nul;
	size_t left = proto_cur_left(c);

	if (left == 0)
		return -EPROTO;
	nul = memchr(start, 0, left);
	if (!nul)
		return -EPROTO;
	s->p = start;
	s->len = (size_t)(nul - start);
	c->off += s->len + 1;
	return 0;
}

/* Length-encoded string. NULL (0xFB) is not a string here: -EPROTO, as is a
 * length running past the end. The cursor is unchanged on error. */
int proto_get_lenenc_str(struct proto_cur *c, struct proto_str *s)
{
	struct proto_cur t = *c;
	uint64_t n;

	if (proto_get_lenenc(&t, &n, NULL))
		return -EPROTO;
	if (n > proto_cur_left(&t))
		return -EPROTO;
	if (proto_get_bytes(&t, (size_t)n, s))
		return -EPROTO;
	c->off = t.off;
	return 0;
}

void proto_get_rest(struct proto_cur *c, struct proto_str *s)
{
	s->p = c->p + c->off;
	s->len = proto_cur_left(c);
	c->off = c->len;
}

int proto_skip(struct proto_cur *c, size_t n)
{
	if (proto_cur_left(c) < n)
		return -EPROTO;
	c->off += n;
	return 0;
}

/* ---- Writers ---- */

void proto_buf_init(struct proto_buf *b)
{
	memset(b, 0, sizeof(*b));
}

void proto_buf_free(struct proto_buf *b)
{
	if (!b)
		return;
	free(b->data);
	memset(b, 0, sizeof(*b));
}

void proto_buf_reset(struct proto_buf *b)
{
	b->len = 0;
	b->err = 0;
}

/* Makes room for n more bytes. Returns a pointer to the first of them, or
 * NULL (setting the sticky b->err) on overflow or allocation failure, or
 * when b->err is already set. */
static uint8_t *buf_grow(struct proto_buf *b, size_t n)
{
	size_t need, cap;
	uint8_t *d;

	if (b->err)
		return NULL;
	if (n > SIZE_MAX - b->len) {
		b->err = -ENOMEM;
		return NULL;
	}
	need = b->len + n;
	if (need > b->cap) {
		cap = b->cap ? b->cap : 64;
		while (cap < need)
			cap = cap > SIZE_MAX / 2 ? need : cap * 2;
		d = realloc(b->data, cap);
		if (!d) {
			b->err = -ENOMEM;
			return NULL;
		}
		b->data = d;
		b->cap = cap;
	}
	d = b->data + b->len;
	b->len += n;
	return d;
}

/* Writes the low nbytes of v little-endian. */
static void put_le(struct proto_buf *b, uint64_t v, int nbytes)
{
	uint8_t *d = buf_grow(b, (size_t)nbytes);
	int i;

	if (!d)
		return;
	for (i = 0; i < nbytes; i++)
		d[i] = (uint8_t)(v >> (8 * i));
}

void proto_put_u8(struct proto_buf *b, uint8_t v)  { put_le(b, v, 1); }
void proto_put_u16(struct proto_buf *b, uint16_t v) { put_le(b, v, 2); }
void proto_put_u24(struct proto_buf *b, uint32_t v) { put_le(b, v, 3); }
void proto_put_u32(struct proto_buf *b, uint32_t v) { put_le(b, v, 4); }
void proto_put_u64(struct proto_buf *b, uint64_t v) { put_le(b, v, 8); }

size_t proto_lenenc_size(uint64_t v)
{
	if (v < 251)
		return 1;
	if (v <= 0xFFFF)
		return 3;
	if (v <= 0xFFFFFF)
		return 4;
	return 9;
}

/* Shortest encoding of v (never 0xFB/0xFF as the first byte). */
void proto_put_lenenc(struct proto_buf *b, uint64_t v)
{
	if (v < 251) {
		put_le(b, v, 1);
	} else if (v <= 0xFFFF) {
		put_le(b, 0xFC, 1);
		put_le(b, v, 2);
	} else if (v <= 0xFFFFFF) {
		put_le(b, 0xFD, 1);
		put_le(b, v, 3);
	} else {
		put_le(b, 0xFE, 1);
		put_le(b, v, 8);
	}
}

void proto_put_bytes(struct proto_buf *b, const void *p, size_t n)
{
	uint8_t *d;

	if (n == 0)
		return;
	d = buf_grow(b, n);
	if (d)
		memcpy(d, p, n);
}

void proto_put_zeros(struct proto_buf *b, size_t n)
{
	uint8_t *d;

	if (n == 0)
		return;
	d = buf_grow(b, n);
	if (d)
		memset(d, 0, n);
}

void proto_put_nulstr(struct proto_buf *b, const void *p, size_t n)
{
	proto_put_bytes(b, p, n);
	proto_put_u8(b, 0);
}

void proto_put_lenenc_str(struct proto_buf *b, const void *p, size_t n)
{
	proto_put_lenenc(b, n);
	proto_put_bytes(b, p, n);
}

/* ---- Packet framing ---- */

int proto_peek_header(const uint8_t *buf, size_t avail, uint32_t *payload_len, uint8_t *seq)
{
	if (avail < MYSQL_HDR_LEN)
		return -EAGAIN;
	*payload_len = (uint32_t)buf[0] | (uint32_t)buf[1] << 8 | (uint32_t)buf[2] << 16;
	*seq = buf[3];
	return 0;
}

/* Walks 0xFFFFFF continuation packets until one shorter than that (possibly
 * empty) ends the logical packet. Sequence ids of the continuation packets
 * are reported (first/last) but not checked here. -EAGAIN until every
 * packet of the logical packet is in buf[0..avail). */
int proto_frame_logical(const uint8_t *buf, size_t avail, size_t *wire_len,
			size_t *payload_len, uint8_t *seq, uint8_t *last_seq)
{
	size_t off = 0, total = 0;
	uint32_t plen;
	uint8_t s, first = 0;

	for (;;) {
		if (proto_peek_header(buf + off, avail - off, &plen, &s))
			return -EAGAIN;
		if (off == 0)
			first = s;
		if (plen > avail - off - MYSQL_HDR_LEN)
			return -EAGAIN;
		off += MYSQL_HDR_LEN + plen;
		total += plen;
		if (plen < MYSQL_MAX_PAYLOAD)
			break;
	}
	*wire_len = off;
	*payload_len = total;
	*seq = first;
	*last_seq = s;
	return 0;
}

/* buf/wire_len must describe a complete logical packet as returned by
 * proto_frame_logical(); the walk is still bounded by wire_len. */
void proto_join_payload(const uint8_t *buf, size_t wire_len, uint8_t *out)
{
	size_t off = 0;
	uint32_t plen;
	uint8_t s;

	while (proto_peek_header(buf + off, wire_len - off, &plen, &s) == 0) {
		off += MYSQL_HDR_LEN;
		if (plen > wire_len - off)
			plen = (uint32_t)(wire_len - off);
		memcpy(out, buf + off, plen);
		out += plen;
		off += plen;
		if (plen < MYSQL_MAX_PAYLOAD)
			break;
	}
}

void proto_put_packet(struct proto_buf *b, uint8_t *seq, const void *payload, size_t len)
{
	const uint8_t *p = payload;
	size_t chunk;

	for (;;) {
		chunk = len < MYSQL_MAX_PAYLOAD ? len : MYSQL_MAX_PAYLOAD;
		proto_put_u24(b, (uint32_t)chunk);
		proto_put_u8(b, (*seq)++);
		proto_put_bytes(b, p, chunk);
		if (chunk == 0)
			break;
		p += chunk;
		len -= chunk;
		if (chunk < MYSQL_MAX_PAYLOAD)
			break;
		/* A full packet always needs a successor, empty if len is 0. */
	}
}

/* ---- Handshake ---- */

/* Parses HandshakeV10. Requires protocol 10, a NUL-terminated version, and
 * every fixed field through the 10-byte filler (servers have sent them
 * since 4.1). With CLIENT_SECURE_CONNECTION, auth-plugin-data part 2 is
 * max(13, auth_plugin_data_len - 8) bytes; one trailing NUL is dropped and
 * the joined scramble must fit g->scramble (-EMSGSIZE otherwise). With
 * CLIENT_PLUGIN_AUTH the plugin name must be NUL-terminated (the 5.5.7-5.5.9
 * string[EOF] bug is not tolerated). mariadb_ext_caps is read from the last
 * 4 filler bytes only when CLIENT_LONG_PASSWORD is clear; else 0. */
int proto_parse_greeting(const uint8_t *payload, size_t len, struct proto_greeting *g)
{
	struct proto_cur c;
	struct proto_str part1, part2;
	uint16_t lo, hi;
	uint8_t apdl, filler;
	size_t n2;

	memset(g, 0, sizeof(*g));
	proto_cur_init(&c, payload, len);
	if (proto_get_u8(&c, &g->protocol) || g->protocol != 10)
		return -EPROTO;
	if (proto_get_nulstr(&c, &g->server_version) ||
	    proto_get_u32(&c, &g->conn_id) ||
	    proto_get_bytes(&c, 8, &part1) ||
	    proto_get_u8(&c, &filler) ||
	    proto_get_u16(&c, &lo) ||
	    proto_get_u8(&c, &g->charset) ||
	    proto_get_u16(&c, &g->status) ||
	    proto_get_u16(&c, &hi) ||
	    proto_get_u8(&c, &apdl) ||
	    proto_skip(&c, 6) ||
	    proto_get_u32(&c, &g->mariadb_ext_caps))
		return -EPROTO;
	g->caps = (uint32_t)lo | (uint32_t)hi << 16;
	if (g->caps & CLIENT_LONG_PASSWORD)
		g->mariadb_ext_caps = 0;
	memcpy(g->scramble, part1.p, 8);
	g->scramble_len = 8;
	if (g->caps & CLIENT_SECURE_CONNECTION) {
		n2 = apdl > 8 + 13 ? (size_t)apdl - 8 : 13;
		if (proto_get_bytes(&c, n2, &part2))
			return -EPROTO;
		if (part2.p[n2 - 1] == 0)
			n2--;
		if (8 + n2 > sizeof(g->scramble))
			return -EMSGSIZE;
		memcpy(g->scramble + 8, part2.p, n2);
		g->scramble_len += n2;
	}
	if (g->caps & CLIENT_PLUGIN_AUTH) {
		if (proto_get_nulstr(&c, &g->auth_plugin))
			return -EPROTO;
	}
	return 0;
}

/* Builds HandshakeV10 with protocol 10, auth_plugin_data_len = 21 under
 * CLIENT_PLUGIN_AUTH (0 otherwise) and part 2 as 12 bytes + NUL. Sets
 * b->err = -EINVAL when g->scramble_len != 20. The last 4 filler bytes carry
 * g->mariadb_ext_caps when CLIENT_LONG_PASSWORD is clear, else zeros. */
void proto_build_greeting(struct proto_buf *b, const struct proto_greeting *g)
{
	if (g->scramble_len != PROTO_SCRAMBLE_LEN) {
		if (!b->err)
			b->err = -EINVAL;
		return;
	}
	proto_put_u8(b, 10);
	proto_put_nulstr(b, g->server_version.p, g->server_version.len);
	proto_put_u32(b, g->conn_id);
	proto_put_bytes(b, g->scramble, 8);
	proto_put_u8(b, 0);
	proto_put_u16(b, (uint16_t)g->caps);
	proto_put_u8(b, g->charset);
	proto_put_u16(b, g->status);
	proto_put_u16(b, (uint16_t)(g->caps >> 16));
	proto_put_u8(b, (g->caps & CLIENT_PLUGIN_AUTH) ? PROTO_SCRAMBLE_LEN + 1 : 0);
	proto_put_zeros(b, 6);
	proto_put_u32(b, (g->caps & CLIENT_LONG_PASSWORD) ? 0 : g->mariadb_ext_caps);
	if (g->caps & CLIENT_SECURE_CONNECTION)
		proto_put_nulstr(b, g->scramble + 8, PROTO_SCRAMBLE_LEN - 8);
	if (g->caps & CLIENT_PLUGIN_AUTH)
		proto_put_nulstr(b, g->auth_plugin.p, g->auth_plugin.len);
}

#define LOGIN_FIXED_LEN 32  /* caps, max_packet, charset, 23-byte filler */

/* Parses HandshakeResponse41 or the 32-byte SSLRequest.
 * - Fewer than 32 bytes, or CLIENT_PROTOCOL_41 clear: -EPROTO (pre-4.1
 *   HandshakeResponse320 is not supported).
 * - Exactly 32 bytes: an SSLRequest if CLIENT_SSL is set (is_ssl_request=1,
 *   all strings empty), else -EPROTO.
 * - user (NUL-terminated) and the auth response are required. The auth
 *   response is lenenc (NULL not allowed) under
 *   CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA, else 1-byte length under
 *   CLIENT_SECURE_CONNECTION, else NUL-terminated.
 * - database, plugin and attrs are optional trailing fields: when the caps
 *   announce one but the packet ends before it (zero bytes left), it is
 *   treated as absent (empty; has_attrs = 0), as MariaDB and MySQL servers
 *   do. If bytes are left, the field must be well-formed (NUL present,
 *   attrs length within the packet) or the result is -EPROTO.
 * - Bytes after the attrs block (e.g. MySQL 8's zstd level) are ignored.
 * The attrs block itself is not validated; iterate with proto_attrs_next. */
int proto_parse_login(const uint8_t *payload, size_t len, struct proto_login *l)
{
	struct proto_cur c;
	uint64_t n;
	uint8_t n8;

	memset(l, 0, sizeof(*l));
	proto_cur_init(&c, payload, len);
	if (len < LOGIN_FIXED_LEN)
		return -EPROTO;
	if (proto_get_u32(&c, &l->caps) ||
	    proto_get_u32(&c, &l->max_packet) ||
	    proto_get_u8(&c, &l->charset) ||
	    proto_skip(&c, 19) ||
	    proto_get_u32(&c, &l->mariadb_ext_caps))
		return -EPROTO;
	if (!(l->caps & CLIENT_PROTOCOL_41))
		return -EPROTO;
	if (len == LOGIN_FIXED_LEN) {
		if (!(l->caps & CLIENT_SSL))
			return -EPROTO;
		l->is_ssl_request = 1;
		return 0;
	}
	if (proto_get_nulstr(&c, &l->user))
		return -EPROTO;
	if (l->caps & CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA) {
		if (proto_get_lenenc_str(&c, &l->auth_response))
			return -EPROTO;
	} else if (l->caps & CLIENT_SECURE_CONNECTION) {
		if (proto_get_u8(&c, &n8) || proto_get_bytes(&c, n8, &l->auth_response))
			return -EPROTO;
	} else {
		if (proto_get_nulstr(&c, &l->auth_response))
			return -EPROTO;
	}
	if ((l->caps & CLIENT_CONNECT_WITH_DB) && proto_cur_left(&c) > 0) {
		if (proto_get_nulstr(&c, &l->database))
			return -EPROTO;
	}
	if ((l->caps & CLIENT_PLUGIN_AUTH) && proto_cur_left(&c) > 0) {
		if (proto_get_nulstr(&c, &l->auth_plugin))
			return -EPROTO;
	}
	if ((l->caps & CLIENT_CONNECT_ATTRS) && proto_cur_left(&c) > 0) {
		if (proto_get_lenenc(&c, &n, NULL) || n > proto_cur_left(&c))
			return -EPROTO;
		proto_get_bytes(&c, (size_t)n, &l->attrs);
		l->has_attrs = 1;
	}
	return 0;
}

/* See proto.h. Writes the 32 fixed bytes (mariadb_ext_caps in bytes
 * 28..31), then user, auth response, and the optional fields the caps
 * announce: database (even if empty) under CLIENT_CONNECT_WITH_DB, plugin
 * (even if empty) under CLIENT_PLUGIN_AUTH, attrs under CLIENT_CONNECT_ATTRS
 * only when has_attrs. With the 1-byte form an auth response longer than
 * 255 bytes sets b->err = -EMSGSIZE. With is_ssl_request only the 32 fixed
 * bytes are written. */
void proto_build_login(struct proto_buf *b, const struct proto_login *l)
{
	proto_put_u32(b, l->caps);
	proto_put_u32(b, l->max_packet);
	proto_put_u8(b, l->charset);
	proto_put_zeros(b, 19);
	proto_put_u32(b, l->mariadb_ext_caps);
	if (l->is_ssl_request)
		return;
	proto_put_nulstr(b, l->user.p, l->user.len);
	if (l->caps & CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA) {
		proto_put_lenenc_str(b, l->auth_response.p, l->auth_response.len);
	} else if (l->caps & CLIENT_SECURE_CONNECTION) {
		if (l->auth_response.len > 255) {
			if (!b->err)
				b->err = -EMSGSIZE;
			return;
		}
		proto_put_u8(b, (uint8_t)l->auth_response.len);
		proto_put_bytes(b, l->auth_response.p, l->auth_response.len);
	} else {
		proto_put_nulstr(b, l->auth_response.p, l->auth_response.len);
	}
	if (l->caps & CLIENT_CONNECT_WITH_DB)
		proto_put_nulstr(b, l->database.p, l->database.len);
	if (l->caps & CLIENT_PLUGIN_AUTH)
		proto_put_nulstr(b, l->auth_plugin.p, l->auth_plugin.len);
	if ((l->caps & CLIENT_CONNECT_ATTRS) && l->has_attrs)
		proto_put_lenenc_str(b, l->attrs.p, l->attrs.len);
}

/* One key/value pair of lenenc strings; 0 at the end of the cursor, 1 with
 * k/v set, -EPROTO (cursor unchanged) if a pair is cut short. */
int proto_attrs_next(struct proto_cur *c, struct proto_str *k, struct proto_str *v)
{
	struct proto_cur t = *c;

	if (proto_cur_left(c) == 0)
		return 0;
	if (proto_get_lenenc_str(&t, k) || proto_get_lenenc_str(&t, v))
		return -EPROTO;
	c->off = t.off;
	return 1;
}

/* 0xFE, plugin name (must be NUL-terminated), then data up to the end with
 * one trailing NUL dropped. The 1-byte pre-4.1 "old password" switch (just
 * 0xFE) is -EPROTO. */
int proto_parse_auth_switch(const uint8_t *payload, size_t len, struct proto_auth_switch *s)
{
	struct proto_cur c;
	uint8_t h;

	memset(s, 0, sizeof(*s));
	proto_cur_init(&c, payload, len);
	if (proto_get_u8(&c, &h) || h != MYSQL_AUTH_SWITCH_HDR)
		return -EPROTO;
	if (proto_get_nulstr(&c, &s->plugin))
		return -EPROTO;
	proto_get_rest(&c, &s->data);
	if (s->data.len > 0 && s->data.p[s->data.len - 1] == 0)
		s->data.len--;
	return 0;
}

/* Writes 0xFE, plugin NUL, data and a NUL (as servers do). */
void proto_build_auth_switch(struct proto_buf *b, const char *plugin, const uint8_t *data, size_t len)
{
	proto_put_u8(b, MYSQL_AUTH_SWITCH_HDR);
	proto_put_nulstr(b, plugin, strlen(plugin));
	proto_put_nulstr(b, data, len);
}

/* ---- Responses ---- */

/* Header 0x00 or 0xFE; affected rows and last insert id (lenenc, no NULL);
 * status and warnings under CLIENT_PROTOCOL_41 (status only under
 * CLIENT_TRANSACTIONS), required. With CLIENT_SESSION_TRACK the info is a
 * lenenc string that servers omit when it is empty and nothing follows
 * (MariaDB 10.11 does): zero bytes left means empty info and no session
 * state. If info is present and the status has SERVER_SESSION_STATE_CHANGED,
 * the lenenc session state must follow. Without CLIENT_SESSION_TRACK the info
 * is the rest of the packet. */
int proto_parse_ok(const uint8_t *payload, size_t len, uint32_t caps, struct proto_ok *ok)
{
	struct proto_cur c;

	memset(ok, 0, sizeof(*ok));
	proto_cur_init(&c, payload, len);
	if (proto_get_u8(&c, &ok->header) ||
	    (ok->header != MYSQL_OK_HDR && ok->header != MYSQL_EOF_HDR))
		return -EPROTO;
	if (proto_get_lenenc(&c, &ok->affected_rows, NULL) ||
	    proto_get_lenenc(&c, &ok->last_insert_id, NULL))
		return -EPROTO;
	if (caps & CLIENT_PROTOCOL_41) {
		if (proto_get_u16(&c, &ok->status) || proto_get_u16(&c, &ok->warnings))
			return -EPROTO;
	} else if (caps & CLIENT_TRANSACTIONS) {
		if (proto_get_u16(&c, &ok->status))
			return -EPROTO;
	}
	if (caps & CLIENT_SESSION_TRACK) {
		if (proto_cur_left(&c) == 0)
			return 0;
		if (proto_get_lenenc_str(&c, &ok->info))
			return -EPROTO;
		if (ok->status & SERVER_SESSION_STATE_CHANGED) {
			if (proto_get_lenenc_str(&c, &ok->session_state))
				return -EPROTO;
		}
	} else {
		proto_get_rest(&c, &ok->info);
	}
	return 0;
}

/* Header is ok->header when it is 0xFE, else 0x00. With CLIENT_SESSION_TRACK
 * the info is always written (lenenc) and the session state follows when
 * the status has SERVER_SESSION_STATE_CHANGED. */
void proto_build_ok(struct proto_buf *b, uint32_t caps, const struct proto_ok *ok)
{
	proto_put_u8(b, ok->header == MYSQL_EOF_HDR ? MYSQL_EOF_HDR : MYSQL_OK_HDR);
	proto_put_lenenc(b, ok->affected_rows);
	proto_put_lenenc(b, ok->last_insert_id);
	if (caps & CLIENT_PROTOCOL_41) {
		proto_put_u16(b, ok->status);
		proto_put_u16(b, ok->warnings);
	} else if (caps & CLIENT_TRANSACTIONS) {
		proto_put_u16(b, ok->status);
	}
	if (caps & CLIENT_SESSION_TRACK) {
		proto_put_lenenc_str(b, ok->info.p, ok->info.len);
		if (ok->status & SERVER_SESSION_STATE_CHANGED)
			proto_put_lenenc_str(b, ok->session_state.p, ok->session_state.len);
	} else {
		proto_put_bytes(b, ok->info.p, ok->info.len);
	}
}

/* 0xFF, code, then '#' + 5-byte sqlstate when the next byte is '#'
 * (required to be complete then), message = the rest. Without '#' the
 * sqlstate is "HY000". */
int proto_parse_err(const uint8_t *payload, size_t len, struct proto_err *e)
{
	struct proto_cur c;
	struct proto_str st;
	uint8_t h;

	memset(e, 0, sizeof(*e));
	proto_cur_init(&c, payload, len);
	if (proto_get_u8(&c, &h) || h != MYSQL_ERR_HDR || proto_get_u16(&c, &e->code))
		return -EPROTO;
	if (proto_cur_left(&c) > 0 && c.p[c.off] == '#') {
		if (proto_skip(&c, 1) || proto_get_bytes(&c, 5, &st))
			return -EPROTO;
		memcpy(e->sqlstate, st.p, 5);
		e->sqlstate[5] = '\0';
	} else {
		memcpy(e->sqlstate, "HY000", 6);
	}
	proto_get_rest(&c, &e->message);
	return 0;
}

/* A sqlstate that is NULL or not exactly 5 characters is sent as "HY000". */
void proto_build_err(struct proto_buf *b, uint16_t code, const char *sqlstate, const char *msg)
{
	if (!sqlstate || strnlen(sqlstate, 6) != 5)
		sqlstate = "HY000";
	proto_put_u8(b, MYSQL_ERR_HDR);
	proto_put_u16(b, code);
	proto_put_u8(b, '#');
	proto_put_bytes(b, sqlstate, 5);
	proto_put_bytes(b, msg, strlen(msg));
}

/* 0xFE, warnings, status; 5..8 bytes. The 1-byte pre-4.1 EOF is -EPROTO. */
int proto_parse_eof(const uint8_t *payload, size_t len, struct proto_eof *e)
{
	struct proto_cur c;
	uint8_t h;

	memset(e, 0, sizeof(*e));
	if (len >= 9)
		return -EPROTO;
	proto_cur_init(&c, payload, len);
	if (proto_get_u8(&c, &h) || h != MYSQL_EOF_HDR ||
	    proto_get_u16(&c, &e->warnings) || proto_get_u16(&c, &e->status))
		return -EPROTO;
	return 0;
}

void proto_build_eof(struct proto_buf *b, uint16_t warnings, uint16_t status)
{
	proto_put_u8(b, MYSQL_EOF_HDR);
	proto_put_u16(b, warnings);
	proto_put_u16(b, status);
}

/* 1 if the payload is a result-set/command terminator, else 0. */
int proto_is_eof(const uint8_t *payload, size_t len, uint32_t caps)
{
	if (len == 0 || payload[0] != MYSQL_EOF_HDR)
		return 0;
	if (caps & CLIENT_DEPRECATE_EOF)
		return len < MYSQL_MAX_PAYLOAD;
	return len < 9;
}

/* A lenenc count, not NULL and not 0 (a 0x00 first byte is an OK packet).
 * Trailing bytes are ignored (MariaDB's metadata-cache extension appends a
 * "metadata follows" byte). */
int proto_parse_column_count(const uint8_t *payload, size_t len, uint64_t *count)
{
	struct proto_cur c;

	proto_cur_init(&c, payload, len);
	if (proto_get_lenenc(&c, count, NULL) || *count == 0)
		return -EPROTO;
	return 0;
}

/* Reads the lenenc fixed-fields length and the fixed fields at c. 0 or
 * -EPROTO; *exact is set when the fixed block ends the packet. */
static int coldef_fixed(struct proto_cur *c, struct proto_coldef *cd, int *exact)
{
	uint64_t flen;
	size_t start;

	if (proto_get_lenenc(c, &flen, NULL) || flen < 10 || flen > proto_cur_left(c))
		return -EPROTO;
	start = c->off;
	if (proto_get_u16(c, &cd->charset) ||
	    proto_get_u32(c, &cd->length) ||
	    proto_get_u8(c, &cd->type) ||
	    proto_get_u16(c, &cd->flags) ||
	    proto_get_u8(c, &cd->decimals))
		return -EPROTO;
	c->off = start + (size_t)flen;
	*exact = proto_cur_left(c) == 0;
	return 0;
}

/* Whether s is well-formed MariaDB extended metadata: a sequence of
 * (type 0 or 1, lenenc string) pairs filling it exactly. */
static int coldef_ext_valid(const struct proto_str *s)
{
	struct proto_cur c;
	struct proto_str v;
	uint8_t type;

	proto_cur_init(&c, s->p, s->len);
	while (proto_cur_left(&c) > 0) {
		if (proto_get_u8(&c, &type) || type > 1 || proto_get_lenenc_str(&c, &v))
			return 0;
	}
	return 1;
}

/* ColumnDefinition41: six lenenc strings, then the lenenc length of the
 * fixed fields (at least 10: charset, length, type, flags, decimals; the
 * usual 12 includes a 2-byte filler), all of which must be present.
 *
 * MariaDB clients (libmariadb 3.x) negotiate MARIADB_CLIENT_EXTENDED_METADATA,
 * which inserts a lenenc extended-metadata block between org_name and the
 * fixed length; this function has no caps argument, so it recognises both
 * forms from the bytes: (1) the standard form if its fixed block ends the
 * packet; else (2) the extended form if the block is well-formed
 * (type 0/1 + lenenc string pairs) and the fixed block ends the packet;
 * else (3) the standard form followed by trailing bytes (COM_FIELD_LIST
 * default values), which are ignored. The two exact forms cannot both
 * match the same bytes. Extended metadata is skipped, not returned. */
int proto_parse_coldef(const uint8_t *payload, size_t len, struct proto_coldef *cd)
{
	struct proto_cur c, t;
	struct proto_str ext;
	int exact = 0;

	memset(cd, 0, sizeof(*cd));
	proto_cur_init(&c, payload, len);
	if (proto_get_lenenc_str(&c, &cd->catalog) ||
	    proto_get_lenenc_str(&c, &cd->schema) ||
	    proto_get_lenenc_str(&c, &cd->table) ||
	    proto_get_lenenc_str(&c, &cd->org_table) ||
	    proto_get_lenenc_str(&c, &cd->name) ||
	    proto_get_lenenc_str(&c, &cd->org_name))
		return -EPROTO;
	t = c;
	if (coldef_fixed(&t, cd, &exact) == 0 && exact)
		return 0;
	t = c;
	if (proto_get_lenenc_str(&t, &ext) == 0 && coldef_ext_valid(&ext) &&
	    coldef_fixed(&t, cd, &exact) == 0 && exact)
		return 0;
	t = c;
	return coldef_fixed(&t, cd, &exact);
}

/* Writes the strings as given (servers send catalog "def"), fixed-length
 * 0x0C and a zero 2-byte filler. */
void proto_build_coldef(struct proto_buf *b, const struct proto_coldef *cd)
{
	proto_put_lenenc_str(b, cd->catalog.p, cd->catalog.len);
	proto_put_lenenc_str(b, cd->schema.p, cd->schema.len);
	proto_put_lenenc_str(b, cd->table.p, cd->table.len);
	proto_put_lenenc_str(b, cd->org_table.p, cd->org_table.len);
	proto_put_lenenc_str(b, cd->name.p, cd->name.len);
	proto_put_lenenc_str(b, cd->org_name.p, cd->org_name.len);
	proto_put_lenenc(b, 0x0C);
	proto_put_u16(b, cd->charset);
	proto_put_u32(b, cd->length);
	proto_put_u8(b, cd->type);
	proto_put_u16(b, cd->flags);
	proto_put_u8(b, cd->decimals);
	proto_put_zeros(b, 2);
}

/* 0x00, stmt id u32, columns u16, params u16, filler, warnings u16: all 12
 * bytes required; trailing bytes (MySQL 8 metadata_follows) ignored. */
int proto_parse_prepare_ok(const uint8_t *payload, size_t len, struct proto_prepare_ok *p)
{
	struct proto_cur c;
	uint8_t h;

	memset(p, 0, sizeof(*p));
	proto_cur_init(&c, payload, len);
	if (proto_get_u8(&c, &h) || h != MYSQL_OK_HDR ||
	    proto_get_u32(&c, &p->stmt_id) ||
	    proto_get_u16(&c, &p->num_columns) ||
	    proto_get_u16(&c, &p->num_params) ||
	    proto_skip(&c, 1) ||
	    proto_get_u16(&c, &p->warnings))
		return -EPROTO;
	return 0;
}

/* ---- COM_CHANGE_USER ---- */

int proto_parse_change_user(const uint8_t *payload, size_t len, uint32_t caps,
			    struct proto_change_user *cu)
{
	struct proto_cur c;
	uint8_t cmd;

	memset(cu, 0, sizeof(*cu));
	proto_cur_init(&c, payload, len);
	if (proto_get_u8(&c, &cmd) < 0 || cmd != COM_CHANGE_USER)
		return -EPROTO;
	if (proto_get_nulstr(&c, &cu->user) < 0)
		return -EPROTO;
	if (caps & CLIENT_SECURE_CONNECTION) {
		uint8_t n;
		if (proto_get_u8(&c, &n) < 0 || proto_get_bytes(&c, n, &cu->auth_response) < 0)
			return -EPROTO;
	} else if (proto_get_nulstr(&c, &cu->auth_response) < 0) {
		return -EPROTO;
	}
	if (proto_get_nulstr(&c, &cu->database) < 0)
		return -EPROTO;
	/* The optional tail: each field is absent when the packet ends first. */
	if (proto_cur_left(&c) == 0)
		return 0;
	if (proto_get_u16(&c, &cu->charset) < 0)
		return -EPROTO;
	cu->has_charset = 1;
	if ((caps & CLIENT_PLUGIN_AUTH) && proto_cur_left(&c) > 0 &&
	    proto_get_nulstr(&c, &cu->auth_plugin) < 0)
		return -EPROTO;
	if ((caps & CLIENT_CONNECT_ATTRS) && proto_cur_left(&c) > 0) {
		if (proto_get_lenenc_str(&c, &cu->attrs) < 0)
			return -EPROTO;
		cu->has_attrs = 1;
	}
	return 0;
}

void proto_build_change_user(struct proto_buf *b, uint32_t caps, const struct proto_change_user *cu)
{
	proto_put_u8(b, COM_CHANGE_USER);
	proto_put_nulstr(b, cu->user.p, cu->user.len);
	if (cu->auth_response.len > 255 || !(caps & CLIENT_SECURE_CONNECTION)) {
		if (!b->err)
			b->err = -EMSGSIZE;
		return;
	}
	proto_put_u8(b, (uint8_t)cu->auth_response.len);
	proto_put_bytes(b, cu->auth_response.p, cu->auth_response.len);
	proto_put_nulstr(b, cu->database.p, cu->database.len);
	if (!cu->has_charset)
		return;
	proto_put_u16(b, cu->charset);
	if (caps & CLIENT_PLUGIN_AUTH)
		proto_put_nulstr(b, cu->auth_plugin.p, cu->auth_plugin.len);
	if ((caps & CLIENT_CONNECT_ATTRS) && cu->has_attrs)
		proto_put_lenenc_str(b, cu->attrs.p, cu->attrs.len);
}
