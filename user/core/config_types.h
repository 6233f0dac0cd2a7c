/* config_types.h — the configuration as the daemon reads it: struct
 * shunt_config and its parts. Built by config.c (file and flags) from the
 * key table (config_keys.c); nothing else writes it. */
#ifndef SHUNT_CONFIG_TYPES_H
#define SHUNT_CONFIG_TYPES_H

#include <stdint.h>
#include <stddef.h>
#include <sys/socket.h>
#include "util/addr.h"
#include "util/log.h"

#define SHUNT_VERSION "0.2.0"

#define CFG_NAME_MAX 64

/* A resolved "HOST:PORT" (IPv4, [IPv6] or a host name). */
struct cfg_backend {
	struct cfg_addr addr;
	unsigned weight;                   /* 1..1000, default 1 */
};

struct cfg_pool {
	char name[CFG_NAME_MAX];
	struct cfg_backend *backends;
	size_t n_backends;
};

struct cfg_listener {
	char name[CFG_NAME_MAX];
	struct cfg_addr addr;
	char pool[CFG_NAME_MAX];           /* name of a struct cfg_pool */
};

struct cfg_user {
	char name[CFG_NAME_MAX];
	uint8_t stage2[20];                /* SHA1(SHA1(password)), as in mysql.user's "*HEX" */
	int empty_password;                /* the account has no password */
	unsigned max_connections;          /* logged-in sessions of this user; 0 = no limit */
};

enum fastpath_mode { FASTPATH_AUTO = 0, FASTPATH_ON, FASTPATH_OFF };
/* How the sk_skb program is attached (docs/fastpath.md). */
enum fastpath_kind {
	FASTPATH_KIND_AUTO = 0,          /* verdict if the kernel has it, else stream parser */
	FASTPATH_KIND_VERDICT,           /* BPF_SK_SKB_VERDICT, no stream parser (5.13+) */
	FASTPATH_KIND_STREAM_PARSER,     /* BPF_SK_SKB_STREAM_PARSER + STREAM_VERDICT */
};

/* When a session picked by the rebalancer moves. */
enum rebalance_policy {
	REBALANCE_PASSIVE = 0,           /* when its client sends its next command */
	REBALANCE_ACTIVE,                /* at once when idle, else at its next command */
};

struct shunt_config {
	enum log_level log_level;          /* default info */
	unsigned threads;                  /* worker threads; 0 = one per CPU (default) */
	unsigned connect_timeout_ms;       /* backend TCP connect; default 2000 */
	unsigned backend_login_timeout_ms; /* backend greeting..OK; default 5000 */
	unsigned auth_timeout_ms;          /* client greeting..login reply; default 10000 */
	size_t relay_buffer;               /* bytes queued per direction before backpressure; default 1 MiB */
	unsigned max_connections;          /* client sessions; default 10000 */
	unsigned max_unauthenticated;      /* clients not logged in yet, in all; default 1000 */
	unsigned max_unauthenticated_per_source; /* the same from one address; default 256 */
	unsigned max_connections_per_source; /* client sessions from one address; 0 = no limit */
	unsigned max_connection_rate_per_source; /* new connections a second from one
						    address (a burst of as many); 0 = no limit */
	unsigned login_failures_per_source; /* failed logins before the address is
					       blocked; default 100, 0 = never */
	unsigned login_failure_window_ms;  /* ... counted over this long; default 60000 */
	unsigned login_block_ms;           /* ... blocked this long; default 60000 */
	char server_version[64];           /* greeting version when no backend was seen yet;
					      default "5.5.5-10.11.0-shunt" */
	enum fastpath_mode fastpath;       /* default auto */
	enum fastpath_kind fastpath_kind;  /* default auto */
	char pin_path[256];                /* default /sys/fs/bpf/shunt */
	int fastpath_set, pin_path_set, admin_set, http_set; /* given explicitly */
	/* Operating shunt (docs/admin.md) */
	int admin_on;                      /* SQL admin port; default on when an admin
					      password is set */
	struct cfg_addr admin;             /* default 127.0.0.1:6032 */
	struct cfg_user admin_user;        /* default name "admin"; no password = port off */
	int admin_password_set;
	int http_on;                       /* HTTP API; default on */
	struct cfg_addr http;              /* default 127.0.0.1:6080 */
	char http_token[128];              /* the API token; "" = the one in http_token_file */
	char http_token_file[256];         /* made at first start; default /run/shunt/http-token */
	int http_write;                    /* write endpoints enabled; default 1 */
	unsigned health_interval_ms;       /* probe of down backends; default 2000 */
	unsigned health_fail_threshold;    /* consecutive failures that mark a backend
					      down; default 3, 0 = never */
	/* Session migration (docs/migration.md); all may change on reload */
	unsigned migrate_timeout_ms;       /* wait for a safe point; default 10000 */
	int rebalance;                     /* move sessions to even out load; default off */
	unsigned rebalance_interval_ms;    /* between rebalance rounds; default 5000 */
	double rebalance_tolerance;        /* over-loaded above target*(1+this); default 0.2 */
	unsigned rebalance_max_moves;      /* sessions asked to move per round; default 8 */
	enum rebalance_policy rebalance_policy; /* default passive */

	struct cfg_listener *listeners;
	size_t n_listeners;
	struct cfg_pool *pools;
	size_t n_pools;
	struct cfg_user *users;
	size_t n_users;

	char *path;                        /* config file, or NULL */
	struct shunt_config *retired_next; /* the daemon's list of replaced configs */
	uint64_t *retire_epochs;           /* each worker's epoch when it was replaced
					      (control.c frees it once all moved on) */
	int startup;                       /* start-up's (on main's stack): never freed
					      by a reload */
	int check_only;                    /* --check-config */
};

#endif
