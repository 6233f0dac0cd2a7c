/* outq.c — see outq.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "util/outq.h"

/* Writes data[0..len) as far as fd takes it: the count written (0 when
 * full), or -errno. */
static ssize_t write_some(int fd, const uint8_t *data, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t w = send(fd, data + done, len - done, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w > 0) {
			done += (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		return w < 0 ? -errno : -EPIPE;
	}
	return (ssize_t)done;
}

int outq_append(struct outq *q, const uint8_t *data, size_t len)
{
	if (!len)
		return 0;
	/* Compact first: what was sent is not kept. */
	size_t keep = outq_pending(q);
	uint8_t *n = malloc(keep + len);

	if (!n)
		return -ENOMEM;
	if (keep)
		memcpy(n, q->data + q->off, keep);
	memcpy(n + keep, data, len);
	free(q->data);
	q->data = n;
	q->len = keep + len;
	q->off = 0;
	return 0;
}

int outq_send(struct outq *q, int fd, const uint8_t *data, size_t len, size_t *sent)
{
	size_t done = 0;

	if (sent)
		*sent = 0;
	if (outq_empty(q)) {
		ssize_t w = write_some(fd, data, len);
		if (w < 0)
			return (int)w;
		done = (size_t)w;
		if (sent)
			*sent = done;
		if (done == len)
			return 1;
	}
	return outq_append(q, data + done, len - done) < 0 ? -ENOMEM : 0;
}

int outq_flush(struct outq *q, int fd, size_t *sent)
{
	if (sent)
		*sent = 0;
	if (outq_empty(q))
		return 1;
	ssize_t w = write_some(fd, q->data + q->off, q->len - q->off);
	if (w < 0)
		return (int)w;
	q->off += (size_t)w;
	if (sent)
		*sent = (size_t)w;
	if (q->off < q->len)
		return 0;
	outq_free(q);
	return 1;
}

void outq_free(struct outq *q)
{
	free(q->data);
	q->data = NULL;
	q->len = q->off = 0;
}
