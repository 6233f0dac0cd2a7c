/* relay.h — the user-space relay of an established session.
 *
 * Used when the kernel fast path is off or unavailable, and for sessions
 * the kernel refuses. Each direction is recv() into a per-thread scratch
 * buffer, the tracker walks the packet headers, and send() passes the bytes
 * on at once: two system calls per message, write-readiness watched only
 * while a peer is full. Backpressure: what a full peer has not taken (at
 * most one read, min(relay_buffer, RELAY_CHUNK_MAX) bytes) is kept and
 * reading from the other side stops until it has gone, so a slow client
 * holds back the backend through TCP flow control instead of growing
 * memory.
 *
 * Every client packet is framed, and a command user space must see (the
 * punt classifier of mysql_tracker.h: a KILL, a COM_CHANGE_USER, what the
 * statement table follows) is held until the responses ahead of it have
 * ended and its whole packet is in, then carried out or rewritten
 * (relay.c); it is never forwarded unlooked-at. */
#ifndef SHUNT_RELAY_H
#define SHUNT_RELAY_H

#include <stdint.h>
#include "mysql/proto.h"
#include "util/outq.h"
#include "mysql/tracker_host.h"

#define RELAY_CHUNK_MAX (256 * 1024)   /* the most read (and so kept) at once */

struct session;
struct event;

struct relay {
	struct mt_frame cf;         /* client -> server framing */
	struct mt_frame sf;         /* server -> client framing */
	struct mt_conv conv;        /* the conversation */
	uint64_t bytes_c2s;         /* bytes forwarded client -> backend */
	uint64_t bytes_s2c;
	uint64_t cmd_start_us;      /* when the command in progress started */
	uint64_t last_latency_us;   /* command start -> response end, last command */
	struct outq c2s;            /* waiting for the backend socket */
	struct outq s2c;            /* waiting for the client socket (the backend's
				       bytes, and shunt's own answers behind them) */
	int closing;                /* end the session once s2c is empty */
	char why[96];               /* why user space carries it (views) */
	struct proto_buf hold;      /* client bytes from a command user space must see
				       on, not forwarded yet (relay.c) */
	struct event *crd, *cwr;    /* client socket readable / writable */
	struct event *brd, *bwr;    /* backend socket readable / writable */
};

/* Starts relaying an established session as its carrier: takes the
 * sockets out of the session's bufferevents (which are freed), queues the
 * login OK (ok/oklen: the backend's OK payload) for the client and arms
 * the events. status: the OK's status flags; why: why user space carries
 * it (views). 0; -EPROTO when the backend broke the protocol (logged);
 * -ENOMEM. On failure the caller frees the session. */
int relay_start(struct session *s, const uint8_t *ok, size_t oklen, uint16_t status,
		const char *why);

/* Feeds a chunk of one direction to the tracker (to_server: 1 for client
 * bytes). Returns the OR of MT_EV_* events. Exposed for tests. */
uint32_t relay_track(struct relay *r, int to_server, const uint8_t *p, size_t len);

#endif
