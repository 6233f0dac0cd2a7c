/* client_login.h — a client logging in to shunt (client_login.c). */
#ifndef SHUNT_CLIENT_LOGIN_H
#define SHUNT_CLIENT_LOGIN_H

#include <stdint.h>
#include <sys/socket.h>
#include "core/shunt.h"
#include "mysql/proto.h"

/* Accepts a client connection on lc's worker: takes ownership of fd,
 * sends the greeting and runs the login. */
void sess_accept(struct listener_ctx *lc, int fd, const struct sockaddr *sa, int salen);

/* Builds a HandshakeV10 payload offering mysql_native_password with the
 * 20-byte scramble and autocommit status (client sessions, admin port). */
void sess_build_greeting(struct proto_buf *b, const char *version, uint32_t conn_id,
			 const uint8_t scramble[PROTO_SCRAMBLE_LEN], uint32_t caps, uint8_t charset);

#endif
