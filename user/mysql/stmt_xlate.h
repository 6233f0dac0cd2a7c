/* stmt_xlate.h — statement-id translation of a client byte stream.
 *
 * A migration re-creates a session's prepared statements on the new
 * backend under the same ids when it can; when the new server thread
 * numbers them differently (MariaDB keeps a thread's statement counter
 * across its thread cache), the statement keeps the id the client knows
 * and shunt rewrites it on the way to the backend (docs/migration.md).
 *
 * This is the user-space side of that rewrite: a framer over the client
 * bytes user space forwards (the relay's, or a kernel session's held
 * bytes) that puts the backend's id into every statement command
 * (MYSQL_STMT_ID_CMD). It needs only the first MYSQL_STMT_ID_PREFIX bytes
 * of each packet; a prefix cut by the end of the input is kept back and
 * goes out, translated, with the next input. */
#ifndef SHUNT_STMT_XLATE_H
#define SHUNT_STMT_XLATE_H

#include <stddef.h>
#include <stdint.h>
#include "mysql_defs.h"
#include "mysql/proto.h"

struct stmt_table;

struct stmt_xlate {
	uint64_t skip;                      /* bytes to pass on before the next header */
	uint8_t pre[MYSQL_STMT_ID_PREFIX];  /* the current packet's prefix so far */
	uint8_t have;                       /* bytes in pre */
	uint8_t need;                       /* bytes of pre wanted (known once the header is) */
	uint8_t cur_cont;                   /* the current packet continues a 0xffffff one */
	uint8_t next_cont;                  /* so does the next one */
	uint32_t plen;                      /* the current packet's payload length */
	uint64_t rewritten;                 /* ids rewritten since the reset */
};

/* Starts framing at a point `skip` bytes before a packet header (a
 * continuation packet's when cont). Drops anything kept back. */
void stmt_xlate_reset(struct stmt_xlate *x, uint64_t skip, int cont);
/* Appends data to out with every statement id that t translates replaced
 * by the backend's. A prefix cut at the end is kept (stmt_xlate_pending)
 * and comes first in the next call's output. 0, or -ENOMEM. */
int stmt_xlate_feed(struct stmt_xlate *x, const struct stmt_table *t, const uint8_t *data,
		    size_t len, struct proto_buf *out);
/* Bytes kept back: while there are some, user space must not let the
 * kernel forward again (they would be overtaken). */
size_t stmt_xlate_pending(const struct stmt_xlate *x);
/* Client bytes on their way to the backend: data itself when the session
 * translates nothing (no translated statement, nothing kept back), else
 * out's bytes after stmt_xlate_feed(); *len follows. NULL: out of memory. */
const uint8_t *stmt_xlate_pass(struct stmt_xlate *x, const struct stmt_table *t,
			       const uint8_t *data, size_t *len, struct proto_buf *out);

#endif
