/* stmt.c — the prepared statements of a session (stmt.h). */
#include <stdlib.h>
#include <string.h>
#include "mysql_defs.h"
#include "mysql/stmt.h"

#define EXEC_FIXED 10            /* command, stmt_id u32, flags, iteration_count u32 */

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The statement with client id `id` (the table as the caller has it). */
static struct stmt *find(const struct stmt_table *t, uint32_t id)
{
	for (size_t i = 0; t && i < t->n; i++)
		if (t->v[i].id == id)
			return (struct stmt *)&t->v[i];
	return NULL;
}

static void stmt_clear(struct stmt *st)
{
	free(st->sql);
	free(st->types);
	memset(st, 0, sizeof(*st));
}

/* Recomputes the executes user space must see (stmt_exec_watch) and the
 * count of translated statements. */
static void refresh_watch(struct stmt_table *t)
{
	t->watch = 0;
	t->n_xlate = 0;
	t->gen++;
	for (size_t i = 0; i < t->n; i++) {
		if (t->v[i].types_owed || (t->v[i].nparams && !t->v[i].types))
			t->watch |= 1ull << (t->v[i].id & 63);
		t->n_xlate += t->v[i].bid != t->v[i].id;
	}
}

static void remove_at(struct stmt_table *t, size_t i)
{
	stmt_clear(&t->v[i]);
	t->v[i] = t->v[t->n - 1];
	t->n--;
	refresh_watch(t);
}

/* Adds the settled pending prepare under id. */
static void add(struct stmt_table *t, uint32_t id, uint16_t nparams)
{
	struct stmt *old = find(t, id);
	if (old)
		remove_at(t, (size_t)(old - t->v));
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 8;
		struct stmt *grown = realloc(t->v, cap * sizeof(*grown));
		if (!grown) {
			t->lost = 1;        /* cannot remember it: the session cannot move */
			return;
		}
		t->v = grown;
		t->cap = cap;
	}
	struct stmt *st = &t->v[t->n++];
	memset(st, 0, sizeof(*st));
	st->id = id;
	st->bid = id;            /* a prepare's answer: the backend's id is the client's */
	st->sql = t->pending_sql;
	st->sql_len = t->pending_len;
	st->nparams = nparams;
	t->pending_sql = NULL;
	refresh_watch(t);
}

void stmt_settle(struct stmt_table *t, const struct mt_conv *conv)
{
	if (!t)
		return;
	uint32_t fresh = conv->prep_oks - t->oks_settled;
	if (t->pending) {
		if (fresh == 1)
			add(t, conv->prep_id, conv->prep_params);
		else if (fresh > 1)
			t->lost = 1;
		/* fresh == 0: the prepare failed; nothing to remember */
		free(t->pending_sql);
		t->pending_sql = NULL;
		t->pending = 0;
	} else if (fresh) {
		t->lost = 1;        /* prepared behind shunt's back (pipelined) */
	}
	t->oks_settled = conv->prep_oks;
}

void stmt_on_prepare(struct stmt_table **tp, const struct mt_conv *conv, const uint8_t *payload,
		     size_t len)
{
	struct stmt_table *t = *tp;

	if (!t) {
		t = calloc(1, sizeof(*t));
		if (!t)
			return;     /* stmt_unmovable() will find the prepare unaccounted */
		t->oks_settled = conv->prep_oks;
		*tp = t;
	}
	stmt_settle(t, conv);
	if (len < 1)
		return;
	t->pending_sql = malloc(len);
	if (!t->pending_sql) {
		t->lost = 1;
		return;
	}
	memcpy(t->pending_sql, payload + 1, len - 1);
	t->pending_sql[len - 1] = '\0';
	t->pending_len = len - 1;
	t->pending = 1;
}

void stmt_on_client_command(struct stmt_table *t, const uint8_t *payload, size_t len)
{
	if (!t || len < 1)
		return;
	if (payload[0] == COM_STMT_CLOSE && len >= 5) {
		struct stmt *st = find(t, get_u32(payload + 1));
		if (st)
			remove_at(t, (size_t)(st - t->v));
	} else if (payload[0] == COM_RESET_CONNECTION || payload[0] == COM_CHANGE_USER) {
		/* The server forgets every statement. */
		while (t->n)
			remove_at(t, t->n - 1);
	}
}

int stmt_on_execute(struct stmt_table *t, const uint8_t *payload, size_t len, struct proto_buf *out)
{
	if (!t || len < EXEC_FIXED)
		return 0;
	struct stmt *st = find(t, get_u32(payload + 1));
	if (!st || st->nparams == 0)
		return 0;
	size_t bitmap = ((size_t)st->nparams + 7) / 8;
	size_t bound_at = EXEC_FIXED + bitmap;
	size_t ntypes = 2 * (size_t)st->nparams;
	if (len <= bound_at)
		return 0;
	if (payload[bound_at]) {
		/* The client binds types: learn them (they may have changed). */
		if (len < bound_at + 1 + ntypes)
			return 0;
		if (!st->types)
			st->types = malloc(ntypes);
		if (st->types)
			memcpy(st->types, payload + bound_at + 1, ntypes);
		st->types_owed = 0;
		refresh_watch(t);
		return 0;
	}
	if (!st->types_owed || !st->types)
		return 0;
	/* The new server never saw this statement's types: put them in. */
	proto_put_bytes(out, payload, bound_at);
	proto_put_u8(out, 1);
	proto_put_bytes(out, st->types, ntypes);
	proto_put_bytes(out, payload + bound_at + 1, len - bound_at - 1);
	st->types_owed = 0;
	refresh_watch(t);
	return out->err ? 0 : 1;
}

uint64_t stmt_exec_watch(const struct stmt_table *t)
{
	return t ? t->watch : 0;
}

int stmt_watches(const struct stmt_table *t, uint32_t id)
{
	return (stmt_exec_watch(t) >> (id & 63)) & 1;
}

const char *stmt_unmovable(const struct stmt_table *t, const struct mt_conv *conv)
{
	uint32_t settled = t ? t->oks_settled : 0;

	if ((t && (t->lost || t->pending)) || conv->prep_oks != settled)
		return "prepared-statements";
	/* Executed (maybe) without shunt seeing its types: the new server
	 * could not be given them. */
	for (size_t i = 0; t && i < t->n; i++)
		if (t->v[i].nparams && !t->v[i].types && (conv->exec_bits & (1ull << (t->v[i].id & 63))))
			return "prepared-statements";
	return NULL;
}

int stmt_backend_id(const struct stmt_table *t, uint32_t id, uint32_t *bid)
{
	const struct stmt *st = find(t, id);

	if (st)
		*bid = st->bid;
	return st != NULL;
}

size_t stmt_translated(const struct stmt_table *t)
{
	return t ? t->n_xlate : 0;
}

void stmt_set_backend_id(struct stmt_table *t, uint32_t id, uint32_t bid)
{
	struct stmt *st = find(t, id);

	if (st) {
		st->bid = bid;
		refresh_watch(t);
	}
}

void stmt_moved(struct stmt_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		t->v[i].types_owed = t->v[i].nparams && t->v[i].types;
	refresh_watch(t);
}

int stmt_note_commands(struct stmt_table **tp, const struct mt_conv *conv, const uint8_t *wire,
		       size_t from, size_t len, struct proto_buf *out)
{
	size_t off = from < len ? from : len, plen, wlen;
	uint8_t seq, last;
	int rewritten = 0;

	stmt_settle(*tp, conv);
	while (off < len) {
		const uint8_t *pkt = wire + off;
		if (proto_frame_logical(pkt, len - off, &wlen, &plen, &seq, &last) < 0 ||
		    wlen != plen + MYSQL_HDR_LEN || seq != 0 || plen == 0)
			break;              /* a partial or long packet: not looked into */
		const uint8_t *payload = pkt + MYSQL_HDR_LEN;
		struct proto_buf pl;
		proto_buf_init(&pl);
		switch (payload[0]) {
		case COM_STMT_PREPARE:
			/* Only the last command can be a prepare shunt follows:
			 * its answer is settled at the next boundary. One with
			 * more behind it stays unaccounted (stmt_unmovable). */
			if (off + wlen == len)
				stmt_on_prepare(tp, conv, payload, plen);
			break;
		case COM_STMT_CLOSE:
		case COM_RESET_CONNECTION:
		case COM_CHANGE_USER:
			stmt_on_client_command(*tp, payload, plen);
			break;
		case COM_STMT_EXECUTE:
			if (stmt_on_execute(*tp, payload, plen, &pl) == 1) {
				if (!rewritten)
					proto_put_bytes(out, wire, off);
				uint8_t sq = 0;
				proto_put_packet(out, &sq, pl.data, pl.len);
				rewritten = 1;
				proto_buf_free(&pl);
				off += wlen;
				continue;
			}
			break;
		}
		proto_buf_free(&pl);
		if (rewritten)
			proto_put_bytes(out, pkt, wlen);
		off += wlen;
	}
	if (rewritten && off < len)
		proto_put_bytes(out, wire + off, len - off);
	if (rewritten && out->err) {
		proto_buf_reset(out);
		return 0;
	}
	return rewritten;
}

void stmt_table_free(struct stmt_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		stmt_clear(&t->v[i]);
	free(t->v);
	free(t->pending_sql);
	free(t);
}
