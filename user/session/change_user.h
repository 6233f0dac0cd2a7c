/* change_user.h — COM_CHANGE_USER, which shunt verifies and rewrites for
 * the backend (change_user.c). */
#ifndef SHUNT_CHANGE_USER_H
#define SHUNT_CHANGE_USER_H

#include <stddef.h>
#include <stdint.h>
#include "mysql/proto.h"

struct session;

/* Rewrites one client COM_CHANGE_USER (payload, 0x11 first) for the
 * backend: verifies the token against shunt's user table with the
 * session's scramble, appends the backend's version (header included,
 * sequence 0) to out and switches the session to the new user. On
 * refusal returns -errno with the ERR payload for the client in err. */
int sess_change_user(struct session *s, const uint8_t *payload, size_t len,
		     struct proto_buf *out, struct proto_buf *err);

/* Copies client bytes to out, rewriting every complete COM_CHANGE_USER
 * packet in them. 0, or -errno as sess_change_user. */
int sess_split_change_users(struct session *s, const uint8_t *buf, size_t len,
			    struct proto_buf *out, struct proto_buf *err);

/* The client's answer to a refused COM_CHANGE_USER: err (the ERR payload)
 * as one packet, sequence 1, appended to pkt. The carrier queues it and
 * ends the session once it is sent. */
void change_user_refusal(const struct proto_buf *err, struct proto_buf *pkt);

#endif
