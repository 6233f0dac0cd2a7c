/* mig_state.h — a session's state, read from its old backend and replayed
 * on the new one (docs/migration.md).
 *
 * Read (one pipelined batch on the old backend, idle at a safe point):
 * the schema and LAST_INSERT_ID(); user variables (information_schema.
 * USER_VARIABLES); the session's own statement counters that tell of
 * temporary tables, LOCK TABLES and XA; its user locks (information_schema.
 * METADATA_LOCK_INFO, when the server has that plugin). If the session
 * ever ran a SET (its Com_set_option counter), a second round reads all
 * its session variables, and those that differ from what a fresh login
 * on the new backend has (read there while the migration waited for its
 * safe point) are replayed. Values travel as hex, so no character set
 * conversion can touch them.
 *
 * Replayed (one pipelined batch on the new backend): COM_INIT_DB, SET
 * SESSION per variable (character sets last), LAST_INSERT_ID(n), user
 * variables, and the prepared statements, in the order of their ids with
 * the gaps filled by throw-away statements, so that a fresh server thread
 * (numbering from 1) gives them their old ids. MariaDB's counter lives on
 * in its thread cache, so a statement may come back under another id:
 * then shunt translates it (stmt_xlate.h). The fillers are closed by a
 * second batch, with the ids they really got (docs/migration.md). */
#ifndef SHUNT_MIG_STATE_H
#define SHUNT_MIG_STATE_H

#include <stddef.h>
#include <stdint.h>
#include "mysql/proto.h"
#include "mysql/sqlconn.h"
#include "mysql/stmt.h"
#include "mysql/tracker_host.h"

struct mig_var {
	char *name;
	char *hex;              /* the value's bytes in hex */
	int numeric;            /* a plain number: replayed unquoted */
};

struct mig_uvar {
	char *name;
	char *type;             /* INT, DECIMAL, DOUBLE, VARCHAR */
	char *charset;
	char *hex;              /* NULL for a NULL value */
};

struct mig_state_plan {
	struct mt_conv conv;            /* the conversation at the safe point */
	uint32_t new_thread_id;
	uint8_t new_scramble[PROTO_SCRAMBLE_LEN];
	char *db_hex;                   /* NULL: no schema */
	char *last_insert_id;
	struct mig_var *vars;
	size_t n_vars;
	struct mig_uvar *uvars;
	size_t n_uvars;
	size_t n_stmts;
	int need_vars;                  /* the session ran a SET: diff its variables */
	/* replay bookkeeping */
	size_t *prep_step;              /* replay step of each re-prepare */
	uint32_t *prep_id;              /* the client's id */
	uint16_t *prep_params;
	uint32_t *got_id;               /* the id the new backend gave it */
	size_t *filler_step;            /* replay steps of the fillers */
	size_t n_fillers;
	uint32_t max_client_id;
	size_t n_translated;            /* statements whose id changed */
};

/* The capture batch. 0 or -ENOMEM. */
int mig_state_build_capture(struct sql_batch *b);
/* Reads the capture's answers into plan. Returns 0; 1 when the session
 * holds state that cannot move (why: the reason word shown in SHOW
 * TUNNELS); -1 when the answers make no sense (why says so). */
int mig_state_read(struct mig_state_plan *plan, const struct sql_batch *b, char *why, size_t n);
/* The batch that reads every session variable (old and new backend). */
int mig_state_build_vars(struct sql_batch *b);
/* Fills plan->vars with the old session's variables whose value the new
 * session does not have (bookkeeping ones skipped). 0 or -1 with why. */
int mig_state_diff_vars(struct mig_state_plan *plan, const struct sql_batch *old_vars,
			const struct sql_batch *new_vars, char *why, size_t n);
/* The replay batch for plan and the session's statements. 0, or -1 with
 * why (statement ids too far apart, out of memory). */
int mig_state_build_replay(struct mig_state_plan *plan, const struct stmt_table *stmts,
			   struct sql_batch *b, char *why, size_t n);
/* Whether every replay step succeeded and every statement came back with
 * its parameter count; records the id each got (got_id, n_translated).
 * 0, or -1 with why naming the first step that did not. */
int mig_state_check_replay(struct mig_state_plan *plan, const struct sql_batch *b,
			   char *why, size_t n);
/* The batch that closes the replay's fillers (n_fillers > 0). 0 or -1. */
int mig_state_build_closes(const struct mig_state_plan *plan, const struct sql_batch *replay,
			   struct sql_batch *b);
void mig_state_plan_free(struct mig_state_plan *plan);

/* Why a session with conversation conv is not at a safe point (for a
 * timeout's message). */
const char *mig_state_busy_reason(const struct mt_conv *conv);

#endif
