/* sqlconn.h — shunt's own short conversations with a backend.
 *
 * A migration reads a session's state from its old backend and replays
 * it on a new one. Both are done here: a connection (a new one that logs
 * in with a session's recovered credentials, or a session's established
 * backend socket borrowed while it is idle) runs a batch of steps —
 * COM_QUERY, COM_INIT_DB, COM_STMT_PREPARE, COM_STMT_CLOSE — sent at once
 * (pipelined) and answered in order; text result sets are kept as rows of
 * strings. Everything is asynchronous on one worker's event base. */
#ifndef SHUNT_SQLCONN_H
#define SHUNT_SQLCONN_H

#include <stddef.h>
#include <stdint.h>
#include <event2/event.h>
#include "mysql/auth.h"
#include "mysql/sql_batch.h"
#include "util/addr.h"

#define SQLCONN_USER_MAX 64             /* = CFG_NAME_MAX: the longest user name */

struct sqlconn;
/* Called once per sqlconn_login / sqlconn_run: err 0 when every step was
 * answered (each may still carry its own err_code), else -errno and
 * sqlconn_error() says what broke (the connection is then unusable). */
typedef void (*sqlconn_cb)(struct sqlconn *c, int err, void *arg);

/* Login parameters: who, and the capabilities the session uses. */
struct sqlconn_login {
	const struct cfg_addr *addr;
	const char *user;
	const uint8_t *stage1;        /* SHA1(password), AUTH_SHA1_LEN bytes */
	int empty_password;
	uint32_t caps;                /* exactly these (WIRE_CAPS must all be offered) */
	uint8_t charset;
	uint32_t max_packet;
	const uint8_t *attrs;         /* connection attributes block, or NULL */
	size_t attrs_len;
	unsigned timeout_ms;          /* connect + login */
};

/* Connects and logs in; cb runs when logged in or failed. */
struct sqlconn *sqlconn_connect(struct event_base *base, const struct sqlconn_login *l,
				sqlconn_cb cb, void *arg);
/* Borrows an established, idle backend socket (not closed on free). */
struct sqlconn *sqlconn_adopt(struct event_base *base, int fd, uint32_t caps);
/* Sends every step of b and reads the answers into it; cb when done or
 * failed, or at timeout_ms. b must outlive the call and hold at least one
 * step that is answered (not only COM_STMT_CLOSE). 0 or -errno. */
int sqlconn_run(struct sqlconn *c, struct sql_batch *b, unsigned timeout_ms, sqlconn_cb cb,
		void *arg);
const char *sqlconn_error(const struct sqlconn *c);
/* The server's own error code when the connection failed on an ERR packet
 * (greeting or login), with its SQLSTATE in *sqlstate; else 0. */
uint16_t sqlconn_server_error(const struct sqlconn *c, const char **sqlstate);
/* The backend's connection id (its greeting), 0 for an adopted socket. */
uint32_t sqlconn_thread_id(const struct sqlconn *c);
/* The scramble of its greeting (COM_CHANGE_USER needs it later). */
const uint8_t *sqlconn_scramble(const struct sqlconn *c);
/* Frees the connection; closes the socket unless adopted. */
void sqlconn_free(struct sqlconn *c);
/* Frees the connection and hands its socket to the caller (-1 on error).
 * Only between batches, with nothing unread. */
int sqlconn_take_fd(struct sqlconn *c);

#endif
