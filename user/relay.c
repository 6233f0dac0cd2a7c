/* relay.c — the user-space relay of an established session. */
#include <stdlib.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include "log.h"
#include "relay.h"
#include "session.h"

/* Bytes read per callback: large enough that a 200 MB result is not
 * chopped into 4 KiB callbacks (libevent's default). */
#define RELAY_MAX_SINGLE_IO (256 * 1024)

uint32_t relay_track(struct relay *r, int to_server, const uint8_t *p, size_t len)
{
	struct mt_frame *f = to_server ? &r->cf : &r->sf;
	uint32_t ev = 0;
	int off = 0;

	while ((size_t)off < len) {
		int pkt = 0;
		off = mt_frame_step(f, (void *)p, (__u32)off, (__u32)len, &pkt);
		if (off < 0)
			break;
		if (pkt)
			ev |= to_server ? mt_client_packet(&r->conv, f) : mt_server_packet(&r->conv, f);
	}
	return ev;
}

/* Runs the tracker over every chain of buf without copying. */
static uint32_t track_evbuffer(struct relay *r, int to_server, struct evbuffer *buf)
{
	struct evbuffer_iovec small[16], *vec = small;
	uint32_t ev = 0;
	int n = evbuffer_peek(buf, -1, NULL, NULL, 0);

	if (n > 16) {
		vec = malloc(sizeof(*vec) * (size_t)n);
		if (!vec)
			return 0;
	}
	n = evbuffer_peek(buf, -1, NULL, vec, n);
	for (int i = 0; i < n; i++)
		ev |= relay_track(r, to_server, vec[i].iov_base, vec[i].iov_len);
	if (vec != small)
		free(vec);
	return ev;
}

static void relay_event_cb(struct bufferevent *bev, short what, void *arg);
static void relay_read_cb(struct bufferevent *bev, void *arg);

/* The peer's output drained below the low watermark: resume reading. */
static void relay_drained_cb(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;
	struct bufferevent *src = bev == s->cbev ? s->bbev : s->cbev;

	bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
	bufferevent_setcb(bev, relay_read_cb, NULL, relay_event_cb, s);
	bufferevent_enable(src, EV_READ);
}

/* At a command boundary, a COM_CHANGE_USER is rewritten for the backend
 * instead of being forwarded (change_user.c). Returns 1 to hold the input
 * until the packet is complete, 0 to go on relaying, -1 if the session was
 * closed. */
static int intercept_change_user(struct session *s, struct evbuffer *in)
{
	struct relay *r = &s->relay;
	uint8_t head[MYSQL_HDR_LEN + 1];
	const uint8_t *payload;
	size_t len;
	uint8_t seq;

	while (mt_idle(&r->conv) && r->cf.hdr_have == 0 && r->cf.remaining == 0 &&
	       evbuffer_copyout(in, head, sizeof(head)) == (ssize_t)sizeof(head) &&
	       head[MYSQL_HDR_LEN] == COM_CHANGE_USER && head[3] == 0) {
		struct proto_buf out, err;
		int rc = sess_peek_packet(in, 1 << 20, &payload, &len, &seq);
		if (rc == 0)
			return 1;
		proto_buf_init(&out);
		proto_buf_init(&err);
		rc = rc < 0 ? rc : sess_change_user(s, payload, len, &out, &err);
		if (rc < 0) {
			s->client_seq = 1;
			if (err.len)
				sess_send_client(s, &err);
			proto_buf_free(&out);
			proto_buf_free(&err);
			sess_close_after_flush(s);
			return -1;
		}
		evbuffer_drain(in, MYSQL_HDR_LEN + len);
		relay_track(r, 1, out.data, out.len);
		bufferevent_write(s->bbev, out.data, out.len);
		proto_buf_free(&out);
		proto_buf_free(&err);
	}
	return 0;
}

static void relay_read_cb(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;
	int to_server = bev == s->cbev;
	struct bufferevent *dst = to_server ? s->bbev : s->cbev;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer *out = bufferevent_get_output(dst);
	size_t n = evbuffer_get_length(in);
	size_t limit = s->sh->cfg->relay_buffer;

	if (to_server && intercept_change_user(s, in) != 0)
		return;
	n = evbuffer_get_length(in);
	if (!n)
		return;
	uint32_t ev = track_evbuffer(&s->relay, to_server, in);
	if (ev & MT_EV_UNEXPECTED)
		sess_log(s, LOG_DEBUG, "tracker: unexpected %s packet (state %u)",
			 to_server ? "client" : "server", s->relay.conv.rstate);
	evbuffer_add_buffer(out, in);
	if (to_server) {
		s->relay.bytes_c2s += n;
		STAT_ADD(s->sh, relay_bytes_c2s, n);
	} else {
		s->relay.bytes_s2c += n;
		STAT_ADD(s->sh, relay_bytes_s2c, n);
	}
	if (evbuffer_get_length(out) >= limit) {
		/* Backpressure: stop reading this side until dst drains. */
		bufferevent_disable(bev, EV_READ);
		bufferevent_setwatermark(dst, EV_WRITE, limit / 2, 0);
		bufferevent_setcb(dst, relay_read_cb, relay_drained_cb, relay_event_cb, s);
	}
}

/* One side is finished: flush what is queued toward the other, then free. */
static void close_after_drain_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	sess_free(arg);
}

static void close_event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	(void)what;
	sess_free(arg);
}

static void relay_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct session *s = arg;
	int from_client = bev == s->cbev;
	struct bufferevent *other = from_client ? s->bbev : s->cbev;
	const char *how = (what & BEV_EVENT_EOF) ? "closed" : "failed";

	if (!mt_idle(&s->relay.conv))
		sess_log(s, LOG_INFO, "%s %s mid-response (command 0x%02x)",
			 from_client ? "client" : "backend", how, s->relay.conv.cmd);
	else
		sess_log(s, LOG_DEBUG, "%s %s", from_client ? "client" : "backend", how);

	/* Whatever this side still had queued is pointless now. */
	bufferevent_disable(bev, EV_READ | EV_WRITE);
	bufferevent_disable(other, EV_READ);
	if (!(what & BEV_EVENT_EOF) || evbuffer_get_length(bufferevent_get_output(other)) == 0) {
		sess_free(s);
		return;
	}
	bufferevent_setwatermark(other, EV_WRITE, 0, 0);
	bufferevent_setcb(other, NULL, close_after_drain_cb, close_event_cb, s);
	bufferevent_enable(other, EV_WRITE);
	if (sess_set_state(s, SESS_CLOSING) == 0)
		sess_arm_timer(s, 5000);
}

void relay_start(struct session *s, uint32_t caps, uint16_t status)
{
	struct relay *r = &s->relay;

	mt_frame_init(&r->cf);
	mt_frame_init(&r->sf);
	mt_conv_init(&r->conv, caps, status);
	bufferevent_set_max_single_read(s->cbev, RELAY_MAX_SINGLE_IO);
	bufferevent_set_max_single_read(s->bbev, RELAY_MAX_SINGLE_IO);
	bufferevent_set_max_single_write(s->cbev, RELAY_MAX_SINGLE_IO);
	bufferevent_set_max_single_write(s->bbev, RELAY_MAX_SINGLE_IO);
	bufferevent_setcb(s->cbev, relay_read_cb, NULL, relay_event_cb, s);
	bufferevent_setcb(s->bbev, relay_read_cb, NULL, relay_event_cb, s);
	bufferevent_enable(s->cbev, EV_READ | EV_WRITE);
	bufferevent_enable(s->bbev, EV_READ | EV_WRITE);
	if (evbuffer_get_length(bufferevent_get_input(s->bbev)))
		relay_read_cb(s->bbev, s);
	if (evbuffer_get_length(bufferevent_get_input(s->cbev)))
		relay_read_cb(s->cbev, s);
}
