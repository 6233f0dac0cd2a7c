/* stmt.h — the prepared statements of a session, as shunt saw them.
 *
 * A migration re-prepares a session's statements on the new backend, so
 * shunt keeps what it needs: the SQL of each COM_STMT_PREPARE (user space
 * sees every one: the kernel punts them, the relay holds them), the id
 * the server gave it (the conversation tracker records the prepare OK's
 * id, read when the next command is seen), and the parameter types from
 * the first COM_STMT_EXECUTE that bound them. Clients send the types only
 * when they (re)bind, so after a move the next execute of each statement
 * gets them put back in (stmt_rewrite_execute).
 *
 * Ids: a statement keeps the id the client knows (`id`). A migration
 * re-creates it on the new backend, where it may get another one (`bid`):
 * shunt then rewrites the id in the client's statement commands on the
 * way to the backend (stmt_xlate.h, and the kernel's stmt_xlate map).
 * Everything here sees client ids: the kernel rewrites only bytes it
 * forwards, the relay and the held-bytes path translate last
 * (docs/migration.md). */
#ifndef SHUNT_STMT_H
#define SHUNT_STMT_H

#include <stddef.h>
#include <stdint.h>
#include "mysql/proto.h"
#include "mysql/tracker_host.h"

struct stmt {
	uint32_t id;             /* the client's id */
	uint32_t bid;            /* the backend's id for it (== id unless moved) */
	char *sql;
	size_t sql_len;
	uint16_t nparams;
	uint8_t *types;          /* 2 * nparams bytes once learnt, else NULL */
	int types_owed;          /* moved: the server lacks the types; the next
				    execute without them gets them put in */
};

struct stmt_table {
	struct stmt *v;
	size_t n, cap;
	char *pending_sql;       /* a prepare sent, its answer not settled yet */
	size_t pending_len;
	int pending;
	uint32_t oks_settled;    /* conv.prep_oks accounted for */
	uint64_t watch;          /* stmt_exec_watch(), kept up to date by every change */
	size_t n_xlate;          /* statements whose bid != id */
	uint64_t gen;            /* changes with every change of the table */
	int lost;                /* a statement was prepared that shunt did not see */
};

/* A client COM_STMT_PREPARE is about to be forwarded (payload: command
 * byte first). conv: the conversation before it. */
void stmt_on_prepare(struct stmt_table **tp, const struct mt_conv *conv, const uint8_t *payload,
		     size_t len);
/* Accounts for prepare answers the tracker has seen since. Only at a
 * command boundary (the previous command's answer is complete). */
void stmt_settle(struct stmt_table *t, const struct mt_conv *conv);
/* A client COM_STMT_CLOSE, COM_RESET_CONNECTION or COM_CHANGE_USER
 * (payload: command byte first). */
void stmt_on_client_command(struct stmt_table *t, const uint8_t *payload, size_t len);
/* A client COM_STMT_EXECUTE (whole payload): learns the types it binds;
 * when the statement owes its types and this execute has none, appends a
 * copy with them put in to out and returns 1; 0 when it goes as it is. */
int stmt_on_execute(struct stmt_table *t, const uint8_t *payload, size_t len, struct proto_buf *out);
/* The executes user space must see, as a mask of statement ids modulo 64
 * (tunnel_ctl.exec_watch): statements with parameters whose types are
 * not known yet, or owed to a new server. Executes of other statements
 * are not looked at (a statement never executed costs nothing). */
uint64_t stmt_exec_watch(const struct stmt_table *t);
/* Whether an execute of statement id is watched. */
int stmt_watches(const struct stmt_table *t, uint32_t id);
/* Why the statements cannot be moved, or NULL. */
const char *stmt_unmovable(const struct stmt_table *t, const struct mt_conv *conv);
/* Client bytes with a command boundary at wire + from (a punt, or the
 * relay's held command; the bytes before it end an earlier packet and
 * are left alone): notes every whole command packet from there for the
 * statement table (prepares, closes, resets, executes' types), after
 * settling earlier prepares. An execute owing its types is rewritten:
 * returns 1 with all of wire, rewritten, in out; 0 to forward wire as it
 * is. */
int stmt_note_commands(struct stmt_table **tp, const struct mt_conv *conv, const uint8_t *wire,
		       size_t from, size_t len, struct proto_buf *out);
/* The backend's id for the client's statement id: 1 with *bid set, 0
 * when shunt knows no such statement. */
int stmt_backend_id(const struct stmt_table *t, uint32_t id, uint32_t *bid);
/* Statements whose id the backend knows under another one. */
size_t stmt_translated(const struct stmt_table *t);
/* A move re-created statement id as bid on the new backend. */
void stmt_set_backend_id(struct stmt_table *t, uint32_t id, uint32_t bid);
/* After a move: every statement with known types owes them. */
void stmt_moved(struct stmt_table *t);
void stmt_table_free(struct stmt_table *t);

#endif
