/* change_user.c — COM_CHANGE_USER, which shunt must rewrite.
 *
 * The client computes its token over the scramble of shunt's greeting; the
 * backend checks tokens against the scramble of its own greeting. So shunt
 * verifies the client's token against its user table (which also recovers
 * the new user's SHA1(password)) and sends the backend the same command
 * with a token computed for the backend's scramble. The backend's answer
 * (OK or ERR) goes back to the client unchanged, through the relay or the
 * kernel. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mysql/login.h"
#include "session/change_user.h"
#include "session/session.h"
#include "util/log.h"

/* Builds the ERR payload of a refused change-user. */
static void access_denied(struct session *s, const struct proto_str *user, int used_password,
			  struct proto_buf *err)
{
	char msg[256];

	sess_access_denied_msg(s, (const char *)user->p, user->len, used_password, msg, sizeof(msg));
	proto_build_err(err, ER_ACCESS_DENIED_ERROR, "28000", msg);
}

void change_user_refusal(const struct proto_buf *err, struct proto_buf *pkt)
{
	uint8_t seq = 1;

	if (err->len)
		proto_put_packet(pkt, &seq, err->data, err->len);
}

int sess_change_user(struct session *s, const uint8_t *payload, size_t len,
		     struct proto_buf *out, struct proto_buf *err)
{
	struct proto_change_user cu;
	struct proto_buf body;
	uint8_t stage1[AUTH_SHA1_LEN], token[AUTH_SHA1_LEN];
	uint8_t seq = 0;
	int empty, rc;

	if (proto_parse_change_user(payload, len, s->client_caps, &cu) < 0) {
		sess_log(s, LOG_WARN, "malformed COM_CHANGE_USER");
		proto_build_err(err, ER_HANDSHAKE_ERROR, "08S01", "Bad handshake");
		return -EPROTO;
	}
	if (cu.auth_plugin.len && (cu.auth_plugin.len != strlen(AUTH_NATIVE_PLUGIN) ||
				   memcmp(cu.auth_plugin.p, AUTH_NATIVE_PLUGIN, cu.auth_plugin.len))) {
		sess_log(s, LOG_WARN, "COM_CHANGE_USER with plugin %.*s refused",
			 (int)cu.auth_plugin.len, (const char *)cu.auth_plugin.p);
		proto_build_err(err, ER_NOT_SUPPORTED_AUTH_MODE, "08004",
				"shunt: COM_CHANGE_USER supports mysql_native_password only");
		return -EOPNOTSUPP;
	}
	const struct cfg_user *u = config_find_user(shunt_cfg(s->sh), (const char *)cu.user.p, cu.user.len);
	empty = auth_token_empty(cu.auth_response.p, cu.auth_response.len);
	if (!u || cu.user.len >= sizeof(s->user) ||
	    auth_check_account(u->empty_password, u->stage2, s->scramble, cu.auth_response.p,
			       cu.auth_response.len, stage1) < 0) {
		sess_login_failed(s, LOGIN_FAIL_ACCESS_DENIED);
		sess_log(s, LOG_WARN, "COM_CHANGE_USER to '%.*s' refused: access denied",
			 (int)(cu.user.len < 64 ? cu.user.len : 64), (const char *)cu.user.p);
		access_denied(s, &cu.user, !empty, err);
		return -EACCES;
	}

	/* The same command for the backend, with its scramble. */
	if (u->empty_password) {
		cu.auth_response.len = 0;
	} else {
		auth_native_token(s->backend_scramble, stage1, token);
		cu.auth_response.p = token;
		cu.auth_response.len = AUTH_SHA1_LEN;
	}
	cu.auth_plugin.p = (const uint8_t *)AUTH_NATIVE_PLUGIN;
	cu.auth_plugin.len = strlen(AUTH_NATIVE_PLUGIN);
	cu.charset = cu.has_charset ? cu.charset : s->charset;
	cu.has_charset = 1;
	/* With CONNECT_ATTRS negotiated the server requires the attributes
	 * block in COM_CHANGE_USER too (MariaDB answers "Unknown command"
	 * otherwise): the client's, plus shunt's own. */
	struct proto_buf attrs;
	proto_buf_init(&attrs);
	if (cu.has_attrs)
		proto_put_bytes(&attrs, cu.attrs.p, cu.attrs.len);
	login_put_proxy_attrs(s->client_addr, &attrs);
	cu.attrs.p = attrs.data;
	cu.attrs.len = attrs.len;
	cu.has_attrs = 1;
	proto_buf_init(&body);
	proto_build_change_user(&body, s->backend_caps, &cu);
	proto_buf_free(&attrs);
	proto_put_packet(out, &seq, body.data, body.len);
	rc = body.err ? body.err : out->err;
	proto_buf_free(&body);
	auth_wipe(token, sizeof(token));
	if (rc < 0) {
		auth_wipe(stage1, sizeof(stage1));
		proto_build_err(err, ER_HANDSHAKE_ERROR, "08S01", "shunt: cannot rebuild COM_CHANGE_USER");
		return rc;
	}

	/* The session now belongs to the new user (the backend has the last
	 * word: its ERR would reach the client and end the session). */
	rc = sess_set_identity(s, cu.user.p, cu.user.len, stage1, u->empty_password,
			       cu.database.p, cu.database.len);
	auth_wipe(stage1, sizeof(stage1));
	if (rc < 0) {
		proto_buf_reset(out);
		proto_build_err(err, ER_OUT_OF_RESOURCES, "HY000", "shunt: out of memory");
		return rc;
	}
	sess_log(s, LOG_INFO, "COM_CHANGE_USER to '%s' db=%s: forwarded with a backend token",
		 s->user, s->db ? s->db : "-");
	return 0;
}

int sess_split_change_users(struct session *s, const uint8_t *buf, size_t len,
			    struct proto_buf *out, struct proto_buf *err)
{
	size_t off = 0;

	while (off < len) {
		size_t wire, plen;
		uint8_t seq, last;

		if (proto_frame_logical(buf + off, len - off, &wire, &plen, &seq, &last) < 0) {
			/* An incomplete packet (the head of a long one): as it is. */
			proto_put_bytes(out, buf + off, len - off);
			break;
		}
		if (plen > 0 && seq == 0 && wire == plen + MYSQL_HDR_LEN &&
		    buf[off + MYSQL_HDR_LEN] == COM_CHANGE_USER) {
			int rc = sess_change_user(s, buf + off + MYSQL_HDR_LEN, plen, out, err);
			if (rc < 0)
				return rc;
		} else {
			proto_put_bytes(out, buf + off, wire);
		}
		off += wire;
	}
	return out->err;
}
