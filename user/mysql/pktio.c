/* pktio.c — see pktio.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "mysql/pktio.h"

int pktio_send(struct bufferevent *bev, uint8_t *seq, const struct proto_buf *payload)
{
	struct proto_buf pkt;

	if (payload->err)
		return payload->err;
	proto_buf_init(&pkt);
	proto_put_packet(&pkt, seq, payload->data, payload->len);
	int rc = pkt.err ? pkt.err : bufferevent_write(bev, pkt.data, pkt.len);
	proto_buf_free(&pkt);
	return rc ? -ENOMEM : 0;
}

int pktio_peek(struct evbuffer *in, size_t max, const uint8_t **payload, size_t *len,
	       uint8_t *seq)
{
	uint8_t hdr[4];
	uint32_t plen;

	if (evbuffer_copyout(in, hdr, 4) < 4)
		return 0;
	if (proto_peek_header(hdr, 4, &plen, seq) < 0)
		return 0;
	if (plen > max || plen == MYSQL_MAX_PAYLOAD)
		return -EMSGSIZE;
	if (evbuffer_get_length(in) < 4 + (size_t)plen)
		return 0;
	const uint8_t *p = evbuffer_pullup(in, 4 + (ssize_t)plen);
	if (!p)
		return -ENOMEM;
	*payload = p + 4;
	*len = plen;
	return 1;
}

int pktio_take(struct evbuffer *in, size_t max, uint8_t **payload, size_t *len, uint8_t *seq)
{
	const uint8_t *p;
	int rc = pktio_peek(in, max, &p, len, seq);

	if (rc <= 0)
		return rc;
	*payload = malloc(*len ? *len : 1);
	if (!*payload)
		return -ENOMEM;
	memcpy(*payload, p, *len);
	evbuffer_drain(in, MYSQL_HDR_LEN + *len);
	return 1;
}

/* Appends what evbuffer b holds to out (NULL: b must be empty). 0 or
 * -errno; b is not drained (the bufferevent is freed with it). */
static int take_queued(struct evbuffer *b, struct proto_buf *out)
{
	size_t n = evbuffer_get_length(b);

	if (n == 0)
		return 0;
	if (!out)
		return -EBUSY;
	const uint8_t *p = evbuffer_pullup(b, -1);
	if (!p)
		return -ENOMEM;
	proto_put_bytes(out, p, n);
	return out->err ? out->err : 0;
}

int pktio_steal_fd(struct bufferevent **bevp, struct proto_buf *unsent, struct proto_buf *unread)
{
	struct bufferevent *bev = *bevp;
	int fd = bufferevent_getfd(bev), rc;

	/* Both are checked before either is taken: nothing changes on -EBUSY. */
	if ((!unsent && evbuffer_get_length(bufferevent_get_output(bev))) ||
	    (!unread && evbuffer_get_length(bufferevent_get_input(bev))))
		return -EBUSY;
	rc = take_queued(bufferevent_get_output(bev), unsent);
	if (rc == 0)
		rc = take_queued(bufferevent_get_input(bev), unread);
	if (rc < 0)
		return rc;
	bufferevent_disable(bev, EV_READ | EV_WRITE);
	bufferevent_setfd(bev, -1);
	bufferevent_free(bev);
	*bevp = NULL;
	return fd;
}
