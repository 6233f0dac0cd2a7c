/* labels.c — the metric label words of labels.h. */
#include "core/labels.h"

const char *const login_fail_names[LOGIN_FAIL__COUNT] = {
	[LOGIN_FAIL_ACCESS_DENIED] = "access_denied",
	[LOGIN_FAIL_PROTOCOL] = "protocol",
	[LOGIN_FAIL_UNSUPPORTED] = "unsupported",
	[LOGIN_FAIL_TIMEOUT] = "timeout",
	[LOGIN_FAIL_CLIENT_GONE] = "client_gone",
	[LOGIN_FAIL_BACKEND_DENIED] = "backend_denied",
	[LOGIN_FAIL_NO_BACKEND] = "no_backend",
	[LOGIN_FAIL_TOO_MANY] = "too_many_connections",
	[LOGIN_FAIL_LOCAL_RESOURCES] = "local_resources",
};

const char *const fallback_names[FALLBACK__COUNT] = {
	[FALLBACK_QUEUED] = "bytes_queued",
	[FALLBACK_MAP_FULL] = "map_full",
	[FALLBACK_SOCKET] = "socket_refused",
	[FALLBACK_OTHER] = "other",
};

const char *const mig_trigger_names[MIG_TRIGGER__COUNT] = {
	"manual", "drain", "rebalance", "failover",
};

const char *const mig_outcome_names[MIG_OUTCOME__COUNT] = {
	"ok", "failed", "timeout", "sticky", "not_found", "busy", "no_target", "closed",
};
