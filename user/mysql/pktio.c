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

int pktio_steal_fd(struct bufferevent **bevp, struct proto_buf *unsent)
{
	struct bufferevent *bev = *bevp;
	struct evbuffer *out = bufferevent_get_output(bev);
	size_t left = evbuffer_get_length(out);
	int fd = bufferevent_getfd(bev);

	if (left) {
		const uint8_t *p = unsent ? evbuffer_pullup(out, -1) : NULL;
		if (!p)
			return unsent ? -ENOMEM : -EBUSY;
		proto_put_bytes(unsent, p, left);
		if (unsent->err)
			return unsent->err;
	}
	bufferevent_disable(bev, EV_READ | EV_WRITE);
	bufferevent_setfd(bev, -1);
	bufferevent_free(bev);
	*bevp = NULL;
	return fd;
}
