/* labels.h — the enumerations that counters are kept by, with their
 * metric label words (labels.c). They live below every module that
 * counts, so that the counters in shunt.h need no upper header. */
#ifndef SHUNT_LABELS_H
#define SHUNT_LABELS_H

/* Why a client login failed (metrics label). */
enum login_fail {
	LOGIN_FAIL_ACCESS_DENIED = 0,  /* unknown user or wrong password (shunt's check) */
	LOGIN_FAIL_PROTOCOL,           /* malformed, oversized or out-of-order handshake */
	LOGIN_FAIL_UNSUPPORTED,        /* TLS, missing capabilities, auth plugin */
	LOGIN_FAIL_TIMEOUT,            /* the client did not finish in auth_timeout_ms */
	LOGIN_FAIL_CLIENT_GONE,        /* the client closed during the login */
	LOGIN_FAIL_BACKEND_DENIED,     /* the backend refused the login */
	LOGIN_FAIL_NO_BACKEND,         /* no backend could be reached */
	LOGIN_FAIL_TOO_MANY,           /* max_connections */
	LOGIN_FAIL_LOCAL_RESOURCES,    /* shunt ran out of descriptors or memory */
	LOGIN_FAIL__COUNT
};
extern const char *const login_fail_names[LOGIN_FAIL__COUNT];

/* Why an established session was relayed in user space instead of the kernel. */
enum fallback_reason {
	FALLBACK_QUEUED = 0,           /* bytes already queued in user space at hand-over */
	FALLBACK_MAP_FULL,             /* the maps are full */
	FALLBACK_SOCKET,               /* the kernel refused the socket (closed, unsupported) */
	FALLBACK_OTHER,
	FALLBACK__COUNT
};
extern const char *const fallback_names[FALLBACK__COUNT];

/* Who asked (log lines, metrics label). */
enum mig_trigger {
	MIG_TRIGGER_MANUAL = 0,      /* MIGRATE <id> [TO 'addr'], HTTP, shuntctl */
	MIG_TRIGGER_DRAIN,           /* its backend is draining */
	MIG_TRIGGER_REBALANCE,       /* the rebalancer */
	MIG_TRIGGER_FAILOVER,        /* its backend is offline or failing health */
	MIG_TRIGGER__COUNT
};
extern const char *const mig_trigger_names[MIG_TRIGGER__COUNT];

/* How it ended (metrics label). */
enum mig_outcome {
	MIG_OK = 0,                  /* moved */
	MIG_FAILED,                  /* tried and failed before the switch: stayed, working */
	MIG_TIMEOUT,                 /* no safe point within migrate_timeout_ms: stayed */
	MIG_STICKY,                  /* holds state that cannot move (res.msg, s->sticky) */
	MIG_NOT_FOUND,               /* no such session, or not established */
	MIG_BUSY,                    /* a migration of that session is already running */
	MIG_NO_TARGET,               /* no usable backend to move to (or target refused) */
	MIG_CLOSED,                  /* the session ended meanwhile */
	MIG_OUTCOME__COUNT
};
extern const char *const mig_outcome_names[MIG_OUTCOME__COUNT];

#endif
