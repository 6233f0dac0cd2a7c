/* stmt_xlate.c — statement-id translation of a client byte stream (stmt_xlate.h). */
#include <errno.h>
#include <string.h>
#include "mysql/stmt.h"
#include "mysql/stmt_xlate.h"

void stmt_xlate_reset(struct stmt_xlate *x, uint64_t skip, int cont)
{
	memset(x, 0, sizeof(*x));
	x->skip = skip;
	x->next_cont = cont != 0;
}

size_t stmt_xlate_pending(const struct stmt_xlate *x)
{
	return x->have;
}

const uint8_t *stmt_xlate_pass(struct stmt_xlate *x, const struct stmt_table *t,
			       const uint8_t *data, size_t *len, struct proto_buf *out)
{
	if (!stmt_translated(t) && !x->have)
		return data;
	if (stmt_xlate_feed(x, t, data, *len, out) < 0)
		return NULL;
	*len = out->len;
	return out->data;
}

/* The prefix is complete: translate its id if it has one, emit it, and
 * skip the rest of the payload. */
static void prefix_done(struct stmt_xlate *x, const struct stmt_table *t, struct proto_buf *out)
{
	if (!x->cur_cont && x->plen >= 5 && MYSQL_STMT_ID_CMD(x->pre[MYSQL_HDR_LEN])) {
		uint8_t *p = x->pre + MYSQL_HDR_LEN + 1;
		uint32_t id = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
			      (uint32_t)p[3] << 24, bid;
		if (stmt_backend_id(t, id, &bid) && bid != id) {
			p[0] = (uint8_t)bid;
			p[1] = (uint8_t)(bid >> 8);
			p[2] = (uint8_t)(bid >> 16);
			p[3] = (uint8_t)(bid >> 24);
			x->rewritten++;
		}
	}
	proto_put_bytes(out, x->pre, x->have);
	x->skip = x->plen - (uint32_t)(x->have - MYSQL_HDR_LEN);
	x->have = 0;
}

int stmt_xlate_feed(struct stmt_xlate *x, const struct stmt_table *t, const uint8_t *data,
		    size_t len, struct proto_buf *out)
{
	size_t off = 0;

	while (off < len) {
		if (x->skip) {
			size_t n = len - off < x->skip ? len - off : (size_t)x->skip;
			proto_put_bytes(out, data + off, n);
			x->skip -= n;
			off += n;
			continue;
		}
		x->pre[x->have++] = data[off++];
		if (x->have == MYSQL_HDR_LEN) {
			x->plen = (uint32_t)x->pre[0] | (uint32_t)x->pre[1] << 8 |
				  (uint32_t)x->pre[2] << 16;
			x->cur_cont = x->next_cont;
			x->next_cont = x->plen == MYSQL_MAX_PAYLOAD;
			x->need = MYSQL_HDR_LEN + (x->cur_cont ? 0 : x->plen < 5 ? x->plen : 5);
		}
		if (x->have >= MYSQL_HDR_LEN && x->have == x->need)
			prefix_done(x, t, out);
	}
	return out->err ? -ENOMEM : 0;
}
