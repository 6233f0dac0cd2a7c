/* kill.h — KILL [CONNECTION | QUERY] <id>, as MySQL clients expect it.
 *
 * Clients see shunt's connection id (the greeting's), so a KILL names a
 * shunt session, never a backend thread. `KILL <id>` closes that session;
 * `KILL QUERY <id>` logs in to the session's backend on a separate
 * connection, as the session's own user (with the SHA1(password)
 * recovered at login), and sends `KILL QUERY <backend thread id>` there:
 * the running statement ends with ER_QUERY_INTERRUPTED (1317) and the
 * session lives on. A user may only kill their own sessions; the admin
 * port and the HTTP API may kill any. Errors are MySQL's: 1094 unknown
 * thread, 1095 not owner.
 *
 * Threads: the requester (a session's worker, or the control thread)
 * calls kill_start(); the work runs on the target session's worker; the
 * result comes back on the requester's event base. Nothing blocks. */
#ifndef SHUNT_KILL_H
#define SHUNT_KILL_H

#include <stddef.h>
#include <stdint.h>
#include <event2/event.h>

struct shunt;
struct session;
struct proto_buf;

/* A parsed KILL statement. */
struct kill_stmt {
	uint32_t id;
	int query_only;          /* KILL QUERY */
};

/* Parses the text of a COM_QUERY (without the command byte). Returns 1
 * for `KILL [HARD|SOFT] [CONNECTION|QUERY] <number> [;]` (comments and
 * blanks allowed where MySQL allows them), 0 for anything else (other
 * KILL forms such as KILL USER or KILL QUERY ID are not shunt's: the
 * caller forwards them to the backend). */
int kill_parse(const uint8_t *q, size_t len, struct kill_stmt *st);

/* The outcome: code 0 is success, else a MySQL error. */
struct kill_result {
	uint16_t code;
	char sqlstate[6];
	char msg[256];
};

typedef void (*kill_done_fn)(void *ctx, const struct kill_result *res);

struct kill_req;

/* Starts KILL [QUERY] id on behalf of `user` (NULL: the admin, who may
 * kill anything). done(ctx, result) is called later on reply_base's
 * thread, unless kill_cancel() was called first. Returns the request (for
 * kill_cancel), or NULL when out of memory. */
struct kill_req *kill_start(struct shunt *sh, struct event_base *reply_base, uint32_t id,
			    int query_only, const char *user, kill_done_fn done, void *ctx);
/* The requester is gone: done will not be called (requester's thread). */
void kill_cancel(struct kill_req *r);
/* Takes a client's KILL off its own session s: wire/len are the client
 * bytes at a command boundary (headers included). When they are exactly
 * one whole COM_QUERY KILL that kill_parse() accepts, or one
 * COM_PROCESS_KILL, returns 1: the KILL is carried out and resume(s,
 * result) is called later on s's worker (a KILL of s itself is answered
 * with 1927); meanwhile the session is borrowed (sess_borrow) by the KILL.
 * Otherwise returns 0: forward the bytes. */
int kill_from_client(struct session *s, const uint8_t *wire, size_t len,
		     void (*resume)(struct session *s, const struct kill_result *res));
/* Appends the answer to a client's KILL to pkt (one packet, sequence 1):
 * OK with caps/status, or the ERR of res. */
void kill_build_answer(const struct kill_result *res, uint32_t caps, uint16_t status,
		       struct proto_buf *pkt);
#endif
