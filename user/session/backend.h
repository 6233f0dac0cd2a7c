/* backend.h — logging a session in to a backend (backend.c). */
#ifndef SHUNT_BACKEND_H
#define SHUNT_BACKEND_H

#include <stdint.h>
#include "mysql/proto.h"

struct session;
struct backend;

/* Picks a backend not yet tried and starts connecting to it; fails the
 * session with SHUNT_ER_NO_BACKEND when none is left. Once logged in, the
 * session is handed to a carrier (the kernel's when it takes it, else
 * the relay). */
void backend_start(struct session *s);

/* A migration moved the session to `to` (its count already reserved by
 * pool_reserve/pool_take): the session's backend fields follow, the
 * arrival is counted and the old backend's count released. */
void backend_adopt(struct session *s, struct backend *to, uint32_t thread_id,
		   const uint8_t scramble[PROTO_SCRAMBLE_LEN]);

#endif
