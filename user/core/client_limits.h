/* client_limits.h — admission limits per client source address and per
 * user, shared by every worker (one mutex; taken once per accept, login
 * and close, never on the data path).
 *
 * Per source address: how many of its connections are open, how many
 * of those have not logged in yet, and its recent failed logins (a
 * source past login_failures_per_source in login_failure_window_ms is
 * refused for login_block_ms, as MariaDB's max_connect_errors blocks a
 * host, but for a while rather than until FLUSH HOSTS). Per user: how
 * many sessions are logged in. The limits themselves are read from the
 * running configuration at each call, so a reload applies them to the
 * next connection. Entries exist only while a source has a connection
 * or a failure that still counts; at most CLIMIT_MAX_SOURCES of them
 * (when full, stale ones are swept, at most once a second; if it is still
 * full, new sources are refused: memory stays bounded whatever the client
 * addresses). */
#ifndef SHUNT_CLIENT_LIMITS_H
#define SHUNT_CLIENT_LIMITS_H

#include <stdint.h>
#include <sys/socket.h>
#include "core/config_types.h"

#define CLIMIT_MAX_SOURCES 65536

/* What an admission check decided. */
enum climit_verdict {
	CLIMIT_OK = 0,
	CLIMIT_UNAUTH_TOTAL,      /* max_unauthenticated: too many logins in progress */
	CLIMIT_UNAUTH_SOURCE,     /* max_unauthenticated_per_source */
	CLIMIT_SOURCE,            /* max_connections_per_source */
	CLIMIT_BLOCKED,           /* too many failed logins from this source */
	CLIMIT_TABLE_FULL,        /* CLIMIT_MAX_SOURCES sources tracked */
	CLIMIT_USER,              /* the user's max_connections */
	CLIMIT_RATE,              /* max_connection_rate_per_source */
	CLIMIT__COUNT
};

/* The words /metrics and the log use ("unauthenticated", ...). */
const char *climit_name(enum climit_verdict v);

/* A client's source, as the table keys it. */
struct climit_source {
	uint8_t addr[16];
	uint8_t family;           /* AF_INET, AF_INET6, 0: not limited (unix) */
};

/* Sets *src from a peer address. */
void climit_source_of(const struct sockaddr *sa, struct climit_source *src);

/* A connection from src was accepted: admits it (counted as open and not
 * logged in) or says why not (nothing counted). now_ms: monotonic. */
enum climit_verdict climit_admit(const struct shunt_config *cfg, const struct climit_source *src,
				 uint64_t now_ms);

/* The connection logged in as user: no longer counts as unauthenticated;
 * counts for the user unless the user's limit is reached
 * (CLIMIT_USER: nothing changed, the caller refuses the login and still
 * calls climit_close(..., 0)). Resets the source's failed logins. */
enum climit_verdict climit_login_ok(const struct shunt_config *cfg, const struct climit_source *src,
				    const char *user);

/* A login from src failed (bad password, unknown user, a malformed or
 * unfinished handshake). */
void climit_login_failed(const struct shunt_config *cfg, const struct climit_source *src,
			 uint64_t now_ms);

/* An admitted connection ended: logged_in_as is the user it counted for
 * (climit_login_ok returned CLIMIT_OK), or NULL when it had not logged
 * in. */
void climit_close(const struct shunt_config *cfg, const struct climit_source *src,
		  const char *logged_in_as, uint64_t now_ms);

/* Whether a refusal of src may be logged now: at most one line per
 * CLIMIT_LOG_S seconds per source (one for all sources the table has no
 * room for). *suppressed gets the refusals not logged since the last
 * line. A flood from one address costs one log line per CLIMIT_LOG_S. */
#define CLIMIT_LOG_S 10
int climit_may_log(const struct climit_source *src, uint64_t now_ms, uint32_t *suppressed);

/* Open, unauthenticated connections in all; sources tracked (metrics). */
void climit_counts(uint64_t *unauth, uint64_t *sources);

/* Frees the table (at exit). */
void climit_free_all(void);

#endif
