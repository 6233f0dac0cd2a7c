/* outq.h — bytes for a non-blocking socket that it has not taken yet.
 *
 * Every write shunt makes on an established session goes through one of
 * these: send what the socket takes now, keep the rest, and let the owner
 * watch the socket for EV_WRITE until outq_flush() empties the queue. No
 * caller ever waits for a socket. Bounded by what its owner puts in: the
 * relay stops reading the other side while a queue is non-empty, so a
 * queue holds at most one read (RELAY_CHUNK_MAX) plus one answer shunt
 * wrote itself (a KILL's OK/ERR, a refused change-user's ERR). */
#ifndef SHUNT_OUTQ_H
#define SHUNT_OUTQ_H

#include <stddef.h>
#include <stdint.h>

struct outq {
	uint8_t *data;      /* malloc'd; NULL when empty */
	size_t len;         /* bytes in data */
	size_t off;         /* bytes of data already sent */
};

/* Whether nothing is waiting. */
static inline int outq_empty(const struct outq *q)
{
	return q->data == NULL;
}

/* Bytes still waiting. */
static inline size_t outq_pending(const struct outq *q)
{
	return q->data ? q->len - q->off : 0;
}

/* Sends data[0..len) on fd after whatever is queued: writes as much as
 * the socket takes now (only when nothing was queued before, so order is
 * kept) and appends the rest. *sent (may be NULL) gets the bytes written
 * now. Returns 1 when everything went out, 0 when some is queued (watch
 * fd for EV_WRITE and call outq_flush), or -errno (the socket failed, or
 * -ENOMEM). */
int outq_send(struct outq *q, int fd, const uint8_t *data, size_t len, size_t *sent);

/* Appends data to the queue without writing anything. 0 or -ENOMEM. */
int outq_append(struct outq *q, const uint8_t *data, size_t len);

/* Writes what is queued. *sent (may be NULL) gets the bytes written.
 * Returns 1 when the queue is now empty, 0 when the socket is full
 * again, or -errno. */
int outq_flush(struct outq *q, int fd, size_t *sent);

/* Drops whatever is queued. */
void outq_free(struct outq *q);

#endif
