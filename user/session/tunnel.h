/* tunnel.h — established sessions carried by the kernel (tunnel.c). */
#ifndef SHUNT_TUNNEL_H
#define SHUNT_TUNNEL_H

#include <stddef.h>
#include <stdint.h>

struct session;

/* Hands an established session to the kernel as its carrier and queues
 * the client's login OK (ok/oklen: the backend's OK payload; status its
 * status flags). 0 when the kernel carries it; -EPIPE when the session
 * is unusable (free it); other -errno: nothing changed, why says why, and
 * the caller relays it in user space. */
int tunnel_start(struct session *s, const uint8_t *ok, size_t oklen, uint16_t status,
		 char *why, size_t whylen);

/* The name of a punt reason (TUN_PUNT_*), for logs. */
const char *tunnel_punt_name(unsigned reason);

#endif
