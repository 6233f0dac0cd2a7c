/* relay.h — the user-space relay of an established session.
 *
 * Forwards bytes both ways with libevent bufferevents (chains are moved,
 * not copied) while the MySQL conversation tracker follows the packets:
 * command starts, response ends, the transaction status. Backpressure:
 * when one side's output queue reaches relay_buffer bytes the other side
 * stops reading until the queue drains below half of it.
 *
 * This is also the fallback when the kernel fast path is unavailable. */
#ifndef SHUNT_RELAY_H
#define SHUNT_RELAY_H

#include <stdint.h>
#include "tracker_host.h"

struct session;

struct relay {
	struct mt_frame cf;         /* client -> server framing */
	struct mt_frame sf;         /* server -> client framing */
	struct mt_conv conv;        /* the conversation */
	uint64_t bytes_c2s;         /* bytes forwarded client -> backend */
	uint64_t bytes_s2c;
};

/* Starts relaying an established session (state RELAY): caps are the
 * negotiated capabilities, status the login OK's status flags. Any bytes
 * already buffered on either side are forwarded. */
void relay_start(struct session *s, uint32_t caps, uint16_t status);

/* Feeds a chunk of one direction to the tracker (to_server: 1 for client
 * bytes). Returns the OR of MT_EV_* events. Exposed for tests. */
uint32_t relay_track(struct relay *r, int to_server, const uint8_t *p, size_t len);

#endif
