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
 * A COM_CHANGE_USER at a command boundary is not forwarded as it is: it is
 * collected and rewritten for the backend (change_user.c). */
#ifndef SHUNT_RELAY_H
#define SHUNT_RELAY_H

#include <stdint.h>
#include "mysql/proto.h"
#include "mysql/tracker_host.h"

#define RELAY_CHUNK_MAX (256 * 1024)   /* the most read (and so kept) at once */

struct session;
struct event;

/* Bytes of one direction that the destination has not accepted yet. */
struct relay_pending {
	uint8_t *data;              /* malloc'd; NULL when nothing is pending */
	size_t len;
	size_t off;                 /* bytes of data already sent */
};

struct relay {
	struct mt_frame cf;         /* client -> server framing */
	struct mt_frame sf;         /* server -> client framing */
	struct mt_conv conv;        /* the conversation */
	uint64_t bytes_c2s;         /* bytes forwarded client -> backend */
	uint64_t bytes_s2c;
	uint64_t cmd_start_us;      /* when the command in progress started */
	uint64_t last_latency_us;   /* command start -> response end, last command */
	struct relay_pending c2s;   /* waiting for the backend socket */
	struct relay_pending s2c;   /* waiting for the client socket */
	struct proto_buf hold;      /* a COM_CHANGE_USER being collected */
	struct event *crd, *cwr;    /* client socket readable / writable */
	struct event *brd, *bwr;    /* backend socket readable / writable */
};

/* Starts relaying an established session: takes the sockets out of the
 * session's bufferevents (which are freed; they hold no bytes at this
 * point), and arms the read events. caps are the negotiated capabilities,
 * status the login OK's status flags. 0, or -ENOMEM (free the session). */
int relay_start(struct session *s, uint32_t caps, uint16_t status);

/* Releases the relay's events and buffers (not the fds). Safe to call on
 * a session that never relayed. */
void relay_free(struct session *s);

/* Migration (migrate.c): whether the session may move now (a movable
 * conversation, nothing half-read or unsent either way); stop reading
 * both sockets; the backend socket is now fd (framing restarts); read
 * again and serve what waited (may free s). */
int relay_movable(struct session *s);
void relay_pause(struct session *s);
int relay_backend_changed(struct session *s, int fd);
void relay_resume(struct session *s);

/* Feeds a chunk of one direction to the tracker (to_server: 1 for client
 * bytes). Returns the OR of MT_EV_* events. Exposed for tests. */
uint32_t relay_track(struct relay *r, int to_server, const uint8_t *p, size_t len);

#endif
