/* must_see.h — which client commands user space must see, for both
 * carriers: the relay, which frames every client byte it reads, and the
 * kernel carrier's user-space half, which frames every byte the program
 * held for it. The decision is the classifier of mysql_tracker.h
 * (mt_see_command, the KILL scan), which the BPF program runs too; this
 * adds what user space knows and the program does not: the statements the
 * table watches, and the whole query text. */
#ifndef SHUNT_MUST_SEE_H
#define SHUNT_MUST_SEE_H

#include <stddef.h>
#include <stdint.h>
#include "mysql/tracker_host.h"

struct stmt_table;

/* Most query text scanned to tell whether a COM_QUERY is a KILL; a scan
 * still undecided there counts as one (user space parses the whole text). */
#define MUST_SEE_KILL_SCAN 4096

/* Most bytes a carrier holds for one command it must see whole (a
 * change-user, a KILL, a prepare, an execute whose types it puts back):
 * one packet of the largest size the protocol has. Larger commands (16
 * MB and more, in several packets) are refused if user space must read
 * them, and otherwise go to the backend unlooked-at. */
#define MUST_SEE_HOLD_MAX (MYSQL_HDR_LEN + MYSQL_MAX_PAYLOAD)

/* Classifies the client command whose packet starts at p (avail bytes of
 * it, and of what follows, are here): its command byte, the statement an
 * execute names (stmts may be NULL), and for a COM_QUERY whether its text
 * is or may be a KILL. Returns 1 with *see set to MT_SEE_* (MT_SEE_NONE:
 * forward it as it is), or 0 when more bytes are needed to tell. */
int must_see_classify(const struct stmt_table *stmts, const uint8_t *p, size_t avail,
		      uint32_t *see);

#endif
