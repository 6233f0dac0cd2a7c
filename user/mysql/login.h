/* login.h — shunt logging in to a MySQL server as a client: the pieces
 * that backend logins (session/backend.c), side connections (sqlconn.c)
 * and change-user rewriting share. The server gets a mysql_native_password
 * token computed from SHA1(password), which shunt recovered when the
 * client logged in to it, so no password is ever stored or sent. */
#ifndef SHUNT_LOGIN_H
#define SHUNT_LOGIN_H

#include <stddef.h>
#include <stdint.h>
#include "mysql/auth.h"
#include "mysql/proto.h"

/* Capabilities that shape the bytes on the wire after login: a backend
 * must agree on all of them with the client (and a migration's new
 * backend with the old one). */
#define WIRE_CAPS (CLIENT_DEPRECATE_EOF | CLIENT_SESSION_TRACK | CLIENT_MULTI_RESULTS | \
		   CLIENT_PS_MULTI_RESULTS | CLIENT_PROTOCOL_41 | CLIENT_PLUGIN_AUTH)

/* Fills a login's user, auth response (the native token for scramble,
 * computed into token, which must outlive l) and plugin. */
void login_credentials(struct proto_login *l, const char *user,
		       const uint8_t stage1[AUTH_SHA1_LEN], int empty_password,
		       const uint8_t *scramble, uint8_t token[AUTH_SHA1_LEN]);

/* The answer to a server's AuthSwitchRequest, appended to out (the native
 * token for its new scramble). 0; -EPROTO when malformed; -EOPNOTSUPP
 * when it asks for another plugin (named in *plugin). */
int login_auth_switch_answer(const uint8_t *payload, size_t len,
			     const uint8_t stage1[AUTH_SHA1_LEN], int empty_password,
			     struct proto_buf *out, struct proto_str *plugin);

/* Appends shunt's own connection attributes (_proxy=shunt and
 * _client_addr), so the server's performance_schema can tell who is
 * behind the proxy. */
void login_put_proxy_attrs(const char *client_addr, struct proto_buf *out);

#endif
