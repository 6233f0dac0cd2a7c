/* fastpath.h — the kernel fast path: loading the BPF program, pinning its
 * maps, and putting sessions' sockets into the sockhash.
 *
 * fastpath.c is the only file that includes the BPF skeleton. Everything
 * else talks to the kernel side through these functions and the ABI in
 * include/shunt_abi.h. All functions are thread-safe (map operations are
 * syscalls on fds that do not change after fp_init). */
#ifndef SHUNT_FASTPATH_H
#define SHUNT_FASTPATH_H

#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "core/config.h"
#include "mysql/tracker_host.h"
#include "shunt_abi.h"

/* Probes the kernel, loads and attaches the program, pins the maps under
 * cfg->pin_path (mounting bpffs and removing a previous run's pins first).
 * Returns 0 when the fast path is active; otherwise -errno and one line in
 * why saying exactly what is missing; -EBUSY when another running shunt
 * holds cfg->pin_path (its pins are left alone). Never called with
 * fastpath=off. */
int fp_init(const struct shunt_config *cfg, char *why, size_t whylen);
/* Detaches, unpins and unloads. Safe when fp_init failed or never ran. */
void fp_fini(void);
/* Whether the fast path is active. */
int fp_active(void);
/* Whether the active attachment is the stream parser (older kernels). */
int fp_stream_parser(void);
/* "verdict" or "stream_parser" (the active attachment), or "off". */
const char *fp_mode_name(void);

/* Remembers why sessions are relayed in user space when the fast path is
 * not active (configured off, or unavailable: the start-up reason). */
void fp_note_user_space(const char *why);
/* That reason, or NULL when the fast path is active. */
const char *fp_user_space_reason(void);
/* Sums the program's per-CPU counters. 0, -ENOENT when the fast path is
 * not active, or -errno. */
int fp_stats_read(struct fp_stats *sum);

/* The socket cookie of fd (SO_COOKIE). 0 or -errno. */
int fp_sock_cookie(int fd, uint64_t *cookie);

struct fp_tunnel_spec {
	int cfd, bfd;                /* client and backend sockets */
	uint64_t ccookie, bcookie;   /* their cookies */
	uint32_t conn_id;
	uint32_t backend_id;
	uint32_t caps;               /* negotiated capabilities */
	uint16_t status;             /* the login OK's status flags */
	const struct sockaddr *client_sa;   /* for the views (shuntctl, bpftool) */
	const struct sockaddr *backend_sa;
	uint32_t queue_max;          /* backpressure bound (tunnel_ctl.queue_max;
					0: the default) */
};

/* Bytes a TCP socket has taken into its send queue since it was made:
 * acknowledged by the peer plus still queued (SIOCOUTQ). The base of the
 * backpressure accounting (tunnel_ctl) and of user space's ordering
 * checks. 0 or -errno. */
int fp_sock_written(int fd, uint64_t *out);

/* Creates both tunnel entries and the control entry, then inserts the
 * backend socket and the client socket into the sockhash (in that order).
 * The caller guarantees both receive queues are empty and both peers are
 * waiting on shunt (design.md: data queued before insertion is not
 * processed promptly). On failure nothing is left in the maps: 0 or
 * -errno, with why filled. */
int fp_tunnel_open(const struct fp_tunnel_spec *spec, char *why, size_t whylen);
/* A session's backend socket (spec: ccookie, bfd, bcookie, conn_id,
 * backend_id, caps, status, backend_sa): creates its tunnel entry and puts
 * it in the sockhash. fp_tunnel_open() uses it; a migration adds its new
 * backend with it and then points tunnel_ctl.backend_cookie there. 0 or
 * -errno with why filled (nothing is left behind). */
int fp_tunnel_add_backend(const struct fp_tunnel_spec *spec, char *why, size_t whylen);
/* Takes a backend socket that no longer serves its session out of the
 * sockhash and removes its tunnel entry (a migration's old backend, or a
 * new one that was not used). */
void fp_tunnel_drop_backend(uint64_t bcookie);
/* Removes a session's entries from every map. The caller has read the
 * client socket until EAGAIN or closes it right after (design.md: deleting
 * a socket that holds unread passed data wedges it). */
void fp_tunnel_close(uint64_t ccookie, uint64_t bcookie);
/* Reads one tunnel entry. 0 or -errno (-ENOENT). */
int fp_tunnel_get(uint64_t cookie, struct tunnel *out);
/* Reads a client entry with user space's pending re-arm applied, as the
 * program will see it at its next run (the raw entry still says HELD until
 * then). For decisions on the conversation and for views. 0 or -errno. */
int fp_tunnel_get_current(uint64_t ccookie, struct tunnel *out);
/* Writes the control entry of a session (keyed by the client cookie). */
int fp_ctl_set(uint64_t ccookie, const struct tunnel_ctl *ctl);
int fp_ctl_get(uint64_t ccookie, struct tunnel_ctl *ctl);
/* A session's statement-id translation in the kernel (stmt_xlate map):
 * the client's id -> the backend's. Set: 0 or -errno. */
int fp_xlate_set(uint64_t ccookie, uint32_t id, uint32_t bid);
void fp_xlate_del(uint64_t ccookie, uint32_t id);

#endif
