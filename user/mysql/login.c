/* login.c — see login.h. */
#include <errno.h>
#include <string.h>
#include "mysql/login.h"

void login_credentials(struct proto_login *l, const char *user,
		       const uint8_t stage1[AUTH_SHA1_LEN], int empty_password,
		       const uint8_t *scramble, uint8_t token[AUTH_SHA1_LEN])
{
	l->user.p = (const uint8_t *)user;
	l->user.len = strlen(user);
	if (!empty_password) {
		auth_native_token(scramble, stage1, token);
		l->auth_response.p = token;
		l->auth_response.len = AUTH_SHA1_LEN;
	}
	l->auth_plugin.p = (const uint8_t *)AUTH_NATIVE_PLUGIN;
	l->auth_plugin.len = strlen(AUTH_NATIVE_PLUGIN);
}

int login_auth_switch_answer(const uint8_t *payload, size_t len,
			     const uint8_t stage1[AUTH_SHA1_LEN], int empty_password,
			     struct proto_buf *out, struct proto_str *plugin)
{
	struct proto_auth_switch sw;
	uint8_t token[AUTH_SHA1_LEN];

	memset(plugin, 0, sizeof(*plugin));
	if (proto_parse_auth_switch(payload, len, &sw) < 0)
		return -EPROTO;
	*plugin = sw.plugin;
	if (sw.plugin.len != strlen(AUTH_NATIVE_PLUGIN) ||
	    memcmp(sw.plugin.p, AUTH_NATIVE_PLUGIN, sw.plugin.len) != 0 ||
	    sw.data.len < PROTO_SCRAMBLE_LEN)
		return -EOPNOTSUPP;
	if (!empty_password) {
		auth_native_token(sw.data.p, stage1, token);
		proto_put_bytes(out, token, sizeof(token));
		auth_wipe(token, sizeof(token));
	}
	return out->err;
}

void login_put_proxy_attrs(const char *client_addr, struct proto_buf *out)
{
	proto_put_lenenc_str(out, "_proxy", 6);
	proto_put_lenenc_str(out, "shunt", 5);
	proto_put_lenenc_str(out, "_client_addr", 12);
	proto_put_lenenc_str(out, client_addr, strlen(client_addr));
}
