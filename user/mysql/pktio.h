/* pktio.h — MySQL packets over libevent bufferevents, for the phases that
 * use them (client login, backend login, sqlconn, the admin port), and
 * taking a socket back out of a bufferevent when a session is
 * established. */
#ifndef SHUNT_PKTIO_H
#define SHUNT_PKTIO_H

#include <stddef.h>
#include <stdint.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include "mysql/proto.h"

/* Queues one payload on bev as packet(s) numbered from *seq (advanced).
 * 0, or -errno (the payload's own error, or -ENOMEM). */
int pktio_send(struct bufferevent *bev, uint8_t *seq, const struct proto_buf *payload);

/* Reads one complete packet (no continuation; at most max bytes) from an
 * input buffer. Returns 1 with payload pointing into the buffer (valid
 * until the caller drains 4+len bytes), 0 if incomplete, -EMSGSIZE if too
 * big, -ENOMEM. */
int pktio_peek(struct evbuffer *in, size_t max, const uint8_t **payload, size_t *len,
	       uint8_t *seq);

/* As pktio_peek, but *payload is a malloc'd copy (the caller frees it)
 * and the packet is drained. 1, 0 if incomplete, or -errno. */
int pktio_take(struct evbuffer *in, size_t max, uint8_t **payload, size_t *len, uint8_t *seq);

/* Takes the socket out of a bufferevent, frees the bufferevent (*bevp
 * becomes NULL) and returns the fd, now owned by the caller. Whatever the
 * bufferevent still had queued for the socket is appended to unsent (the
 * caller sends it before anything else), and whatever it had read and not
 * handed out to unread (the caller takes it as the first bytes from the
 * peer). A NULL unsent or unread means that side must be empty: -EBUSY
 * otherwise, and nothing changes. Never writes to the socket. */
int pktio_steal_fd(struct bufferevent **bevp, struct proto_buf *unsent, struct proto_buf *unread);

#endif
