/* proto.h — the MySQL client/server protocol codec.
 *
 * Pure C, no I/O, no allocation on the read side. Readers take a payload
 * (the bytes after the 4-byte packet header) and return 0 on success or
 * -EPROTO / -EMSGSIZE on malformed or truncated input; they never read past
 * the given length. Parsed strings are slices that point into the caller's
 * buffer and are valid only as long as it is.
 *
 * Writers append to a growable struct proto_buf. A writer that fails sets
 * buf->err (-ENOMEM on allocation; a builder may also set -EINVAL or
 * -EMSGSIZE for values it cannot encode) and later writes become no-ops, so
 * a builder's caller checks once at the end. */
#ifndef SHUNT_PROTO_H
#define SHUNT_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include "mysql_defs.h"

/* A byte slice: not NUL-terminated. */
struct proto_str {
	const uint8_t *p;
	size_t len;
};

/* Read cursor over one payload. */
struct proto_cur {
	const uint8_t *p;
	size_t len;
	size_t off;
};

static inline void proto_cur_init(struct proto_cur *c, const void *p, size_t len)
{
	c->p = p;
	c->len = len;
	c->off = 0;
}

static inline size_t proto_cur_left(const struct proto_cur *c)
{
	return c->len - c->off;
}

/* Fixed-width little-endian integers. 0 or -EPROTO (not enough bytes). */
int proto_get_u8(struct proto_cur *c, uint8_t *v);
int proto_get_u16(struct proto_cur *c, uint16_t *v);
int proto_get_u24(struct proto_cur *c, uint32_t *v);
int proto_get_u32(struct proto_cur *c, uint32_t *v);
int proto_get_u64(struct proto_cur *c, uint64_t *v);
/* Length-encoded integer. 0xFB (NULL) sets *is_null=1 and *v=0 when is_null
 * is non-NULL; otherwise 0xFB and 0xFF are -EPROTO. */
int proto_get_lenenc(struct proto_cur *c, uint64_t *v, int *is_null);
/* n raw bytes. */
int proto_get_bytes(struct proto_cur *c, size_t n, struct proto_str *s);
/* NUL-terminated string; the NUL must lie inside the buffer and is consumed
 * but not included in s. */
int proto_get_nulstr(struct proto_cur *c, struct proto_str *s);
/* Length-encoded string. */
int proto_get_lenenc_str(struct proto_cur *c, struct proto_str *s);
/* Everything left. Always succeeds (s may be empty). */
void proto_get_rest(struct proto_cur *c, struct proto_str *s);
int proto_skip(struct proto_cur *c, size_t n);

/* Growable write buffer. */
struct proto_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	int err;            /* -ENOMEM after a failed growth; sticky */
};

void proto_buf_init(struct proto_buf *b);
void proto_buf_free(struct proto_buf *b);      /* frees data; safe on a zeroed buf */
void proto_buf_reset(struct proto_buf *b);     /* len = 0, keeps memory, clears err */
void proto_put_u8(struct proto_buf *b, uint8_t v);
void proto_put_u16(struct proto_buf *b, uint16_t v);
void proto_put_u24(struct proto_buf *b, uint32_t v);
void proto_put_u32(struct proto_buf *b, uint32_t v);
void proto_put_u64(struct proto_buf *b, uint64_t v);
void proto_put_lenenc(struct proto_buf *b, uint64_t v);
void proto_put_bytes(struct proto_buf *b, const void *p, size_t n);
void proto_put_zeros(struct proto_buf *b, size_t n);
void proto_put_nulstr(struct proto_buf *b, const void *p, size_t n); /* n bytes then a NUL */
void proto_put_lenenc_str(struct proto_buf *b, const void *p, size_t n);
/* Size in bytes of v as a length-encoded integer (1, 3, 4 or 9). */
size_t proto_lenenc_size(uint64_t v);

/* ---- Packet framing ---- */

/* Reads a 4-byte header. Returns 0 and fills len/seq when at least 4 bytes
 * are available, -EAGAIN otherwise. */
int proto_peek_header(const uint8_t *buf, size_t avail, uint32_t *payload_len, uint8_t *seq);

/* Looks for one complete logical packet (a payload split over 0xFFFFFF
 * continuation packets counts as one) at the start of buf.
 * Returns 0 with *wire_len = total bytes including all headers, *payload_len =
 * the joined payload length, *seq = the first packet's sequence id and
 * *last_seq = the last one's; -EAGAIN when more bytes are needed. */
int proto_frame_logical(const uint8_t *buf, size_t avail, size_t *wire_len,
			size_t *payload_len, uint8_t *seq, uint8_t *last_seq);

/* Copies the joined payload of a complete logical packet found by
 * proto_frame_logical() into out (payload_len bytes, caller-sized). */
void proto_join_payload(const uint8_t *buf, size_t wire_len, uint8_t *out);

/* Appends payload as one or more packets (splitting at 0xFFFFFF and adding
 * the empty trailing packet when len is an exact multiple), numbering them
 * from *seq; *seq is advanced past the last packet written. */
void proto_put_packet(struct proto_buf *b, uint8_t *seq, const void *payload, size_t len);

/* ---- Handshake ---- */

#define PROTO_SCRAMBLE_LEN 20

/* HandshakeV10 (the server greeting). */
struct proto_greeting {
	uint8_t protocol;              /* 10 */
	struct proto_str server_version;
	uint32_t conn_id;
	uint8_t scramble[PROTO_SCRAMBLE_LEN + 12];  /* auth-plugin-data parts 1+2, NUL dropped */
	size_t scramble_len;           /* usually 20 */
	uint32_t caps;                 /* lower and upper capability words joined */
	uint8_t charset;
	uint16_t status;
	uint32_t mariadb_ext_caps;     /* MariaDB extended caps when !(caps & CLIENT_LONG_PASSWORD) */
	struct proto_str auth_plugin;  /* empty when not CLIENT_PLUGIN_AUTH */
};

int proto_parse_greeting(const uint8_t *payload, size_t len, struct proto_greeting *g);
/* Builds a greeting payload (no header). server_version and auth_plugin are
 * read from g; scramble_len must be 20. */
void proto_build_greeting(struct proto_buf *b, const struct proto_greeting *g);

/* HandshakeResponse41, or the 32-byte SSLRequest that precedes it under TLS. */
struct proto_login {
	uint32_t caps;
	uint32_t max_packet;
	uint8_t charset;
	uint32_t mariadb_ext_caps;     /* bytes 28..31 of the filler (MariaDB) */
	int is_ssl_request;            /* payload was exactly the 32-byte SSLRequest */
	struct proto_str user;
	struct proto_str auth_response;
	struct proto_str database;     /* empty unless CLIENT_CONNECT_WITH_DB */
	struct proto_str auth_plugin;  /* empty unless CLIENT_PLUGIN_AUTH */
	struct proto_str attrs;        /* raw key/value block without its lenenc length prefix;
					  empty unless CLIENT_CONNECT_ATTRS */
	int has_attrs;
};

int proto_parse_login(const uint8_t *payload, size_t len, struct proto_login *l);
/* Builds a HandshakeResponse41 using l->caps to decide which fields exist.
 * The auth response is written lenenc if CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA,
 * else 1-byte length if CLIENT_SECURE_CONNECTION, else NUL-terminated.
 * attrs (when has_attrs) is written with its lenenc total length. */
void proto_build_login(struct proto_buf *b, const struct proto_login *l);

/* Iterates the key/value pairs of a connection-attributes block.
 * Returns 1 with k/v set, 0 at the end, -EPROTO on malformed input. */
int proto_attrs_next(struct proto_cur *c, struct proto_str *k, struct proto_str *v);

/* AuthSwitchRequest (0xFE, plugin name NUL, data [NUL]). */
struct proto_auth_switch {
	struct proto_str plugin;
	struct proto_str data;         /* trailing NUL, if present, is not included */
};
int proto_parse_auth_switch(const uint8_t *payload, size_t len, struct proto_auth_switch *s);
void proto_build_auth_switch(struct proto_buf *b, const char *plugin, const uint8_t *data, size_t len);

/* COM_CHANGE_USER (0x11): user NUL, auth response (1-byte length with
 * CLIENT_SECURE_CONNECTION, else NUL-terminated), schema NUL, then
 * optionally charset u16, plugin name NUL (CLIENT_PLUGIN_AUTH) and
 * connection attributes (CLIENT_CONNECT_ATTRS). */
struct proto_change_user {
	struct proto_str user;
	struct proto_str auth_response;
	struct proto_str database;
	uint16_t charset;
	int has_charset;
	struct proto_str auth_plugin;   /* empty when absent */
	struct proto_str attrs;         /* without its lenenc length */
	int has_attrs;
};
/* Parses a COM_CHANGE_USER payload (including the 0x11 byte). 0 or -EPROTO. */
int proto_parse_change_user(const uint8_t *payload, size_t len, uint32_t caps,
			    struct proto_change_user *cu);
/* Builds one (the 1-byte auth length form: caps must have
 * CLIENT_SECURE_CONNECTION; a longer auth response sets -EMSGSIZE). */
void proto_build_change_user(struct proto_buf *b, uint32_t caps, const struct proto_change_user *cu);

/* ---- Responses ---- */

/* OK packet; accepts the 0x00 header and, for the CLIENT_DEPRECATE_EOF form,
 * the 0xFE header. caps decide which fields exist. */
struct proto_ok {
	uint8_t header;
	uint64_t affected_rows;
	uint64_t last_insert_id;
	uint16_t status;
	uint16_t warnings;
	struct proto_str info;
	struct proto_str session_state;  /* when SESSION_TRACK and STATE_CHANGED */
};
int proto_parse_ok(const uint8_t *payload, size_t len, uint32_t caps, struct proto_ok *ok);
void proto_build_ok(struct proto_buf *b, uint32_t caps, const struct proto_ok *ok);

struct proto_err {
	uint16_t code;
	char sqlstate[6];                /* NUL-terminated; "HY000" when absent */
	struct proto_str message;
};
int proto_parse_err(const uint8_t *payload, size_t len, struct proto_err *e);
/* sqlstate is 5 characters; msg is a NUL-terminated C string. */
void proto_build_err(struct proto_buf *b, uint16_t code, const char *sqlstate, const char *msg);

/* Classic EOF packet (0xFE, warnings, status; payload length < 9). */
struct proto_eof {
	uint16_t warnings;
	uint16_t status;
};
int proto_parse_eof(const uint8_t *payload, size_t len, struct proto_eof *e);
void proto_build_eof(struct proto_buf *b, uint16_t warnings, uint16_t status);

/* Whether a payload is an EOF/terminator: 0xFE header and len < 0xFFFFFF
 * with CLIENT_DEPRECATE_EOF (an OK packet), len < 9 without. */
int proto_is_eof(const uint8_t *payload, size_t len, uint32_t caps);

/* Column count packet (lenenc int, not NULL). */
int proto_parse_column_count(const uint8_t *payload, size_t len, uint64_t *count);

/* Column definition (ColumnDefinition41). */
struct proto_coldef {
	struct proto_str catalog, schema, table, org_table, name, org_name;
	uint16_t charset;
	uint32_t length;
	uint8_t type;
	uint16_t flags;
	uint8_t decimals;
};
int proto_parse_coldef(const uint8_t *payload, size_t len, struct proto_coldef *cd);
void proto_build_coldef(struct proto_buf *b, const struct proto_coldef *cd);

/* COM_STMT_PREPARE OK (0x00, stmt id, columns, params, filler, warnings). */
struct proto_prepare_ok {
	uint32_t stmt_id;
	uint16_t num_columns;
	uint16_t num_params;
	uint16_t warnings;
};
int proto_parse_prepare_ok(const uint8_t *payload, size_t len, struct proto_prepare_ok *p);

#endif
