/* http.c — the HTTP API (libevent's evhttp, JSON with jansson).
 *
 *   GET    /metrics                     Prometheus text (metrics.c)
 *   GET    /healthz                     the process answers
 *   GET    /readyz                      every listener's pool has a usable backend
 *   GET    /api/backends                ctl_backends()
 *   POST   /api/backends                {"address", "pool"?, "weight"?}
 *   PATCH  /api/backends/{addr}[?pool=] {"state"?, "weight"?}
 *   DELETE /api/backends/{addr}[?pool=]
 *   GET    /api/tunnels                 ctl_tunnels()
 *   POST   /api/tunnels/{id}/kill       {"query"?: bool}
 *   POST   /api/tunnels/{id}/migrate    {"to"?: "host:port"}
 *   GET    /api/stats                   ctl_stats()
 *   POST   /api/reload                  ctl_reload()
 *
 * Every answer but /metrics is JSON; errors are {"error": "..."} with a
 * 4xx/5xx status. Every /api/ request needs "Authorization: Bearer TOKEN"
 * (401 otherwise): http_token, or the token shunt keeps in
 * http_token_file (made at first start, 0600; shuntctl reads it). Write
 * endpoints (POST, PATCH, DELETE) are refused with 403 when http_write =
 * off or when a browser sends them (Origin). A Host header that names
 * anything but an address or localhost is refused with 403 (DNS
 * rebinding). docs/admin.md has examples. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include "ctl/http.h"
#include "ctl/http_access.h"
#include "ctl/metrics.h"
#include "ctl/control.h"
#include "util/listen_guard.h"
#include "util/log.h"
#include "mysql_defs.h"

#define HTTP_MAX_BODY (64 * 1024)

static struct {
	struct shunt *sh;
	struct evhttp *http;
	struct listen_guard guard;         /* pauses accept when out of descriptors */
	int guarded;
	char file_token[HTTP_TOKEN_MAX];   /* from http_token_file ("" when
					      http_token was set at start) */
} api;

/* The token /api/ requests need now: http_token (reloadable), else the
 * file's. "" when neither: then nothing under /api/ is answered. */
static const char *api_token(void)
{
	const struct shunt_config *cfg = shunt_cfg(api.sh);

	return cfg->http_token[0] ? cfg->http_token : api.file_token;
}

/* Sends a JSON document (stolen) with the status. */
static void reply_json(struct evhttp_request *req, int status, json_t *doc)
{
	struct evbuffer *out = evbuffer_new();
	char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;

	json_decref(doc);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
	if (out && text) {
		evbuffer_add(out, text, strlen(text));
		evbuffer_add(out, "\n", 1);
	}
	free(text);
	evhttp_send_reply(req, status, NULL, out);    /* NULL: the standard phrase */
	if (out)
		evbuffer_free(out);
}

static void reply_error(struct evhttp_request *req, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void reply_error(struct evhttp_request *req, int status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	reply_json(req, status, json_pack("{s:s}", "error", msg));
}

static void reply_ctl_err(struct evhttp_request *req, const struct ctl_err *e)
{
	reply_error(req, e->http ? e->http : 500, "%s", e->msg);
}

/* A table as an array of objects keyed by column name. */
static json_t *table_json(const struct table *t)
{
	json_t *arr = json_array();

	for (size_t r = 0; arr && r < t->nrows; r++) {
		json_t *o = json_object();
		for (size_t c = 0; o && c < t->ncols; c++) {
			const struct table_cell *cell = table_cell(t, r, c);
			json_t *v;
			if (cell->is_null)
				v = json_null();
			else if (t->cols[c].type == COL_STR)
				v = json_string(cell->s);
			else if (t->cols[c].type == COL_BOOL)
				v = json_boolean(cell->i);
			else
				v = json_integer(cell->i);
			json_object_set_new(o, t->cols[c].name, v);
		}
		json_array_append_new(arr, o);
	}
	return arr;
}

static void reply_table(struct evhttp_request *req, const char *key, struct table *t,
			const struct ctl_err *err)
{
	if (!t) {
		reply_ctl_err(req, err);
		return;
	}
	reply_json(req, 200, json_pack("{s:o}", key, table_json(t)));
	table_free(t);
}

/* Parses the request body as a JSON object (an empty body is {}). NULL
 * after replying 400. */
static json_t *body_object(struct evhttp_request *req)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	json_error_t jerr;
	json_t *doc;

	if (len == 0)
		return json_object();
	doc = json_loadb((const char *)evbuffer_pullup(in, -1), len,
			 JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
	if (!doc) {
		reply_error(req, 400, "invalid JSON: %s (line %d, column %d)", jerr.text, jerr.line,
			    jerr.column);
		return NULL;
	}
	if (!json_is_object(doc)) {
		json_decref(doc);
		reply_error(req, 400, "expected a JSON object");
		return NULL;
	}
	return doc;
}

/* Checks the request's bearer token; replies 401 otherwise. */
static int token_allowed(struct evhttp_request *req)
{
	const char *auth = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");

	if (http_bearer_ok(auth, api_token()))
		return 1;
	evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate",
			  "Bearer realm=\"shunt\"");
	reply_error(req, 401, "this endpoint needs 'Authorization: Bearer <token>' (http_token, or "
		    "the token in http_token_file; shuntctl reads that file)");
	return 0;
}

/* Checks that a write is allowed; replies 403 otherwise (the token was
 * checked for every /api/ request already). */
static int write_allowed(struct evhttp_request *req)
{
	const struct shunt_config *cfg = shunt_cfg(api.sh);

	if (!cfg->http_write) {
		reply_error(req, 403, "write endpoints are disabled (http_write = off)");
		return 0;
	}
	/* A web page the operator visits could POST to a loopback API (a
	 * "simple" cross-origin request needs no CORS preflight); browsers
	 * always send Origin on those, and shunt's clients never do. */
	if (evhttp_find_header(evhttp_request_get_input_headers(req), "Origin")) {
		reply_error(req, 403, "cross-origin requests to write endpoints are refused");
		return 0;
	}
	return 1;
}

/* An optional string member; -1 (after replying 400) when of the wrong type. */
static int opt_string(struct evhttp_request *req, json_t *o, const char *key, const char **out)
{
	json_t *v = json_object_get(o, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		reply_error(req, 400, "'%s' must be a string", key);
		return -1;
	}
	*out = json_string_value(v);
	return 0;
}

static int opt_weight(struct evhttp_request *req, json_t *o, unsigned *out)
{
	json_t *v = json_object_get(o, "weight");

	*out = 0;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 1000) {
		reply_error(req, 400, "'weight' must be an integer from 1 to 1000");
		return -1;
	}
	*out = (unsigned)json_integer_value(v);
	return 0;
}

/* Rejects members the endpoint does not know (typos must not pass silently). */
static int only_keys(struct evhttp_request *req, json_t *o, const char *const *keys)
{
	const char *k;
	json_t *v;

	json_object_foreach(o, k, v) {
		int known = 0;
		for (size_t i = 0; keys[i]; i++)
			known |= strcmp(k, keys[i]) == 0;
		if (!known) {
			reply_error(req, 400, "unknown member '%s'", k);
			return -1;
		}
	}
	return 0;
}

static void backend_reply(struct evhttp_request *req, int status, const char *addr)
{
	struct ctl_err err;
	struct table *t = ctl_backends(api.sh, &err);
	json_t *list = json_array();

	if (t) {
		json_t *all = table_json(t);
		size_t i;
		json_t *row;
		json_array_foreach(all, i, row) {
			const char *a = json_string_value(json_object_get(row, "address"));
			if (a && strcmp(a, addr) == 0)
				json_array_append(list, row);
		}
		json_decref(all);
		table_free(t);
	}
	reply_json(req, status, json_pack("{s:o}", "backends", list));
}

static void post_backend(struct evhttp_request *req)
{
	static const char *const keys[] = { "address", "pool", "weight", NULL };
	struct ctl_err err;
	const char *addr, *pool;
	unsigned weight;
	json_t *o = body_object(req);

	if (!o)
		return;
	if (only_keys(req, o, keys) < 0 || opt_string(req, o, "address", &addr) < 0 ||
	    opt_string(req, o, "pool", &pool) < 0 || opt_weight(req, o, &weight) < 0)
		goto out;
	if (!addr) {
		reply_error(req, 400, "'address' (HOST:PORT) is required");
		goto out;
	}
	if (ctl_backend_add(api.sh, pool, addr, weight, &err) < 0)
		reply_ctl_err(req, &err);
	else
		backend_reply(req, 201, addr);
out:
	json_decref(o);
}

static void patch_backend(struct evhttp_request *req, const char *addr, const char *pool)
{
	static const char *const keys[] = { "state", "weight", NULL };
	struct ctl_err err;
	const char *state_s;
	unsigned weight;
	enum backend_state st;
	int state = -1;
	json_t *o = body_object(req);

	if (!o)
		return;
	if (only_keys(req, o, keys) < 0 || opt_string(req, o, "state", &state_s) < 0 ||
	    opt_weight(req, o, &weight) < 0)
		goto out;
	if (state_s) {
		if (backend_state_parse(state_s, &st) < 0) {
			reply_error(req, 400, "'state' must be online, draining or offline");
			goto out;
		}
		state = (int)st;
	}
	if (ctl_backend_set(api.sh, pool, addr, state, weight, &err) < 0)
		reply_ctl_err(req, &err);
	else
		backend_reply(req, 200, addr);
out:
	json_decref(o);
}

/* ---- kill (asynchronous) ---- */

struct http_kill {
	struct evhttp_request *req;
	struct kill_req *kr;
	uint32_t id;
	int query;
};

/* The HTTP client left before the KILL was done: the kill is cancelled,
 * and libevent frees the request with its connection (nothing here may
 * touch hk->req after this). */
static void kill_conn_closed(struct evhttp_connection *conn, void *arg)
{
	struct http_kill *hk = arg;
	(void)conn;
	pr_info("HTTP: the client left before KILL %u was done; cancelled", hk->id);
	kill_cancel(hk->kr);
	free(hk);
}

static void kill_done(void *ctx, const struct kill_result *res)
{
	struct http_kill *hk = ctx;

	evhttp_connection_set_closecb(evhttp_request_get_connection(hk->req), NULL, NULL);
	if (res->code == 0)
		reply_json(hk->req, 200, json_pack("{s:i,s:b}", "killed", (json_int_t)hk->id,
						   "query", hk->query));
	else
		reply_error(hk->req, res->code == ER_NO_SUCH_THREAD ? 404 : 502, "%s", res->msg);
	free(hk);
}

static void post_kill(struct evhttp_request *req, const char *id_s)
{
	static const char *const keys[] = { "query", NULL };
	struct ctl_err err;
	char *end;
	unsigned long id = strtoul(id_s, &end, 10);
	json_t *o, *q;
	struct http_kill *hk;

	if (!isdigit((unsigned char)id_s[0]) || *end || id == 0 || id > UINT32_MAX) {
		reply_error(req, 400, "'%s' is not a session id", id_s);
		return;
	}
	o = body_object(req);
	if (!o)
		return;
	q = json_object_get(o, "query");
	if (only_keys(req, o, keys) < 0)
		goto out;
	if (q && !json_is_boolean(q)) {
		reply_error(req, 400, "'query' must be true or false");
		goto out;
	}
	hk = calloc(1, sizeof(*hk));
	if (!hk) {
		reply_error(req, 500, "out of memory");
		goto out;
	}
	hk->req = req;
	hk->id = (uint32_t)id;
	hk->query = q && json_is_true(q);
	hk->kr = ctl_kill(api.sh, hk->id, hk->query, kill_done, hk, &err);
	if (!hk->kr) {
		free(hk);
		reply_ctl_err(req, &err);
		goto out;
	}
	/* kill_done runs later on this thread; if the client goes away
	 * first, the answer is dropped (and hk freed) here instead. */
	evhttp_connection_set_closecb(evhttp_request_get_connection(req), kill_conn_closed, hk);
out:
	json_decref(o);
}

/* ---- migrate (asynchronous) ---- */

struct http_migrate {
	struct evhttp_request *req;
	struct mig_req *mr;
};

/* The same for a migration in flight. */
static void migrate_conn_closed(struct evhttp_connection *conn, void *arg)
{
	struct http_migrate *hm = arg;
	(void)conn;
	pr_info("HTTP: the client left before a migration was done; cancelled");
	migrate_cancel(hm->mr);
	free(hm);
}

/* The result as JSON: 200 when moved; otherwise the status of
 * ctl_migrate_err() with the same members plus "error". */
static void migrate_done(void *ctx, const struct mig_result *res)
{
	struct http_migrate *hm = ctx;
	char line[sizeof(res->msg) + 2 * CFG_ADDR_MAX];
	struct ctl_err err = { .http = 200 };
	json_t *o;

	evhttp_connection_set_closecb(evhttp_request_get_connection(hm->req), NULL, NULL);
	ctl_migrate_summary(res, line, sizeof(line));
	pr_info("HTTP: migrate %u: %s", res->id, line);
	o = json_pack("{s:I,s:s,s:s?,s:s?,s:I,s:I,s:I,s:s}", "id", (json_int_t)res->id,
		      "outcome", mig_outcome_names[res->outcome],
		      "from", res->from[0] ? res->from : NULL, "to", res->to[0] ? res->to : NULL,
		      "wait_us", (json_int_t)res->wait_us, "held_us", (json_int_t)res->held_us,
		      "total_us", (json_int_t)res->total_us, "message", line);
	if (res->outcome != MIG_OK) {
		ctl_migrate_err(res, &err);
		json_object_set_new(o, "error", json_string(err.msg));
	}
	reply_json(hm->req, err.http, o);
	free(hm);
}

static void post_migrate(struct evhttp_request *req, const char *id_s)
{
	static const char *const keys[] = { "to", NULL };
	struct ctl_err err;
	char *end;
	unsigned long id = strtoul(id_s, &end, 10);
	const char *to;
	struct http_migrate *hm;
	json_t *o;

	if (!isdigit((unsigned char)id_s[0]) || *end || id == 0 || id > UINT32_MAX) {
		reply_error(req, 400, "'%s' is not a session id", id_s);
		return;
	}
	o = body_object(req);
	if (!o)
		return;
	if (only_keys(req, o, keys) < 0 || opt_string(req, o, "to", &to) < 0)
		goto out;
	hm = calloc(1, sizeof(*hm));
	if (!hm) {
		reply_error(req, 500, "out of memory");
		goto out;
	}
	hm->req = req;
	hm->mr = ctl_migrate(api.sh, (uint32_t)id, to, migrate_done, hm, &err);
	if (!hm->mr) {
		free(hm);
		reply_ctl_err(req, &err);
		goto out;
	}
	/* migrate_done runs later on this thread; if the client goes away
	 * first, the answer is dropped (and hm freed) here instead. */
	evhttp_connection_set_closecb(evhttp_request_get_connection(req), migrate_conn_closed, hm);
out:
	json_decref(o);
}

/* ---- readiness ---- */

static void get_readyz(struct evhttp_request *req)
{
	const struct shunt_config *cfg = shunt_cfg(api.sh);
	struct backend_view *bv = NULL;
	int n = pool_snapshot(api.sh->pools, api.sh->n_pools, &bv);
	json_t *reasons = json_array();

	for (size_t i = 0; n >= 0 && i < cfg->n_listeners; i++) {
		int usable = 0;
		for (int j = 0; j < n; j++)
			usable |= strcmp(bv[j].pool, cfg->listeners[i].pool) == 0 &&
				  bv[j].state == BACKEND_ONLINE && !bv[j].down;
		if (!usable) {
			char msg[200];
			snprintf(msg, sizeof(msg), "listener %s: pool %s has no online backend that is up",
				 cfg->listeners[i].name, cfg->listeners[i].pool);
			json_array_append_new(reasons, json_string(msg));
		}
	}
	free(bv);
	int ready = n >= 0 && json_array_size(reasons) == 0;
	reply_json(req, ready ? 200 : 503, json_pack("{s:b,s:o}", "ready", ready, "reasons", reasons));
}

/* ---- routing ---- */

static const char *method_name(enum evhttp_cmd_type m)
{
	switch (m) {
	case EVHTTP_REQ_GET: return "GET";
	case EVHTTP_REQ_POST: return "POST";
	case EVHTTP_REQ_PATCH: return "PATCH";
	case EVHTTP_REQ_DELETE: return "DELETE";
	case EVHTTP_REQ_PUT: return "PUT";
	case EVHTTP_REQ_HEAD: return "HEAD";
	default: return "?";
	}
}

static void not_allowed(struct evhttp_request *req, const char *allow)
{
	evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", allow);
	reply_error(req, 405, "method %s not allowed here (allowed: %s)",
		    method_name(evhttp_request_get_command(req)), allow);
}

static void route(struct evhttp_request *req, void *arg)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	enum evhttp_cmd_type m = evhttp_request_get_command(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	struct ctl_err err;
	char *decoded = NULL;
	(void)arg;

	if (m == EVHTTP_REQ_HEAD)
		m = EVHTTP_REQ_GET;     /* evhttp sends the headers only */
	if (!path) {
		reply_error(req, 400, "bad request URI");
		return;
	}
	const char *host = evhttp_find_header(evhttp_request_get_input_headers(req), "Host");
	if (!http_host_ok(host)) {
		reply_error(req, 403, "Host must be an address of this API or localhost (a name "
			    "is what a DNS-rebinding page sends)");
		return;
	}
	if (strncmp(path, "/api/", 5) == 0 && !token_allowed(req))
		return;
	if (strcmp(path, "/metrics") == 0) {
		if (m != EVHTTP_REQ_GET) {
			not_allowed(req, "GET");
			return;
		}
		struct evbuffer *out = evbuffer_new();
		if (!out) {
			evhttp_send_error(req, 500, NULL);
			return;
		}
		metrics_render(api.sh, out);
		evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
				  "text/plain; version=0.0.4; charset=utf-8");
		evhttp_send_reply(req, 200, "OK", out);
		evbuffer_free(out);
		return;
	}
	if (strcmp(path, "/healthz") == 0) {
		if (m != EVHTTP_REQ_GET)
			not_allowed(req, "GET");
		else
			reply_json(req, 200, json_pack("{s:s}", "status", "ok"));
		return;
	}
	if (strcmp(path, "/readyz") == 0) {
		if (m != EVHTTP_REQ_GET)
			not_allowed(req, "GET");
		else
			get_readyz(req);
		return;
	}
	if (strcmp(path, "/api/backends") == 0) {
		if (m == EVHTTP_REQ_GET)
			reply_table(req, "backends", ctl_backends(api.sh, &err), &err);
		else if (m == EVHTTP_REQ_POST) {
			if (write_allowed(req))
				post_backend(req);
		} else
			not_allowed(req, "GET, POST");
		return;
	}
	if (strncmp(path, "/api/backends/", 14) == 0 && path[14]) {
		if (m != EVHTTP_REQ_PATCH && m != EVHTTP_REQ_DELETE) {
			not_allowed(req, "PATCH, DELETE");
			return;
		}
		if (!write_allowed(req))
			return;
		size_t dlen = 0;
		decoded = evhttp_uridecode(path + 14, 0, &dlen);
		if (decoded && strlen(decoded) != dlen) {      /* an encoded NUL */
			free(decoded);
			decoded = NULL;
		}
		struct evkeyvalq q = { 0 };
		const char *query = evhttp_uri_get_query(uri);
		const char *pool = NULL;
		TAILQ_INIT(&q);
		if (query && evhttp_parse_query_str(query, &q) == 0)
			pool = evhttp_find_header(&q, "pool");
		if (!decoded)
			reply_error(req, 400, "bad backend address in the path");
		else if (m == EVHTTP_REQ_PATCH)
			patch_backend(req, decoded, pool);
		else if (ctl_backend_remove(api.sh, pool, decoded, &err) < 0)
			reply_ctl_err(req, &err);
		else
			reply_json(req, 200, json_pack("{s:s}", "removed", decoded));
		evhttp_clear_headers(&q);
		free(decoded);
		return;
	}
	if (strcmp(path, "/api/tunnels") == 0) {
		if (m != EVHTTP_REQ_GET)
			not_allowed(req, "GET");
		else
			reply_table(req, "tunnels", ctl_tunnels(api.sh, &err), &err);
		return;
	}
	if (strncmp(path, "/api/tunnels/", 13) == 0) {
		const char *id = path + 13, *slash = strchr(id, '/');
		int kill = slash && strcmp(slash, "/kill") == 0;
		if (kill || (slash && strcmp(slash, "/migrate") == 0)) {
			char ids[32];
			size_t n = (size_t)(slash - id);
			if (m != EVHTTP_REQ_POST) {
				not_allowed(req, "POST");
				return;
			}
			if (!write_allowed(req))
				return;
			snprintf(ids, sizeof(ids), "%.*s", (int)(n < 31 ? n : 31), id);
			if (kill)
				post_kill(req, ids);
			else
				post_migrate(req, ids);
			return;
		}
	}
	if (strcmp(path, "/api/stats") == 0) {
		if (m != EVHTTP_REQ_GET) {
			not_allowed(req, "GET");
			return;
		}
		struct table *t = ctl_stats(api.sh, &err);
		if (!t) {
			reply_ctl_err(req, &err);
			return;
		}
		json_t *o = json_object();
		for (size_t r = 0; r < t->nrows; r++)
			json_object_set_new(o, table_cell(t, r, 0)->s,
					    json_integer(table_cell(t, r, 1)->i));
		table_free(t);
		reply_json(req, 200, json_pack("{s:o}", "stats", o));
		return;
	}
	if (strcmp(path, "/api/reload") == 0) {
		if (m != EVHTTP_REQ_POST)
			not_allowed(req, "POST");
		else if (write_allowed(req)) {
			if (ctl_reload(api.sh, &err) < 0)
				reply_ctl_err(req, &err);
			else
				reply_json(req, 200, json_pack("{s:b}", "reloaded", 1));
		}
		return;
	}
	reply_error(req, 404, "no such endpoint: %s (see docs/admin.md)", path);
}

static void http_listen_error_cb(struct evconnlistener *evl, void *arg)
{
	(void)evl;
	(void)arg;
	listen_guard_on_error(&api.guard, EVUTIL_SOCKET_ERROR());
}

int http_start(struct shunt *sh, struct event_base *base)
{
	const struct shunt_config *cfg = shunt_cfg(sh);
	char host[CFG_ADDR_MAX];
	struct evhttp_bound_socket *bs;
	int port;

	api.sh = sh;
	if (!cfg->http_on)
		return 0;
	if (!cfg->http_token[0]) {
		char why[700];
		int rc = http_token_load(cfg->http_token_file, api.file_token, sizeof(api.file_token),
					 why, sizeof(why));
		if (rc < 0) {
			pr_err("HTTP API: %s (set http_token, or http = off)", why);
			return rc;
		}
		pr_info("HTTP API: token %s %s", rc == 1 ? "made in" : "read from", cfg->http_token_file);
	}
	api.http = evhttp_new(base);
	if (!api.http)
		return -ENOMEM;
	evhttp_set_allowed_methods(api.http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PATCH |
				   EVHTTP_REQ_DELETE | EVHTTP_REQ_PUT | EVHTTP_REQ_HEAD);
	evhttp_set_max_body_size(api.http, HTTP_MAX_BODY);
	evhttp_set_max_headers_size(api.http, 16 * 1024);
	evhttp_set_timeout(api.http, 30);
	evhttp_set_gencb(api.http, route, NULL);
	/* cfg->http.text is "HOST:PORT" or "[V6]:PORT" */
	const char *colon = strrchr(cfg->http.text, ':');
	size_t hl = (size_t)(colon - cfg->http.text);
	if (cfg->http.text[0] == '[') {
		memcpy(host, cfg->http.text + 1, hl - 2);
		host[hl - 2] = '\0';
	} else {
		memcpy(host, cfg->http.text, hl);
		host[hl] = '\0';
	}
	port = atoi(colon + 1);
	bs = evhttp_bind_socket_with_handle(api.http, host, (ev_uint16_t)port);
	if (!bs) {
		pr_err("HTTP API: cannot listen on %s (address in use?)", cfg->http.text);
		evhttp_free(api.http);
		api.http = NULL;
		return -EADDRINUSE;
	}
	/* evhttp's listener has no error callback: an accept() that fails for
	 * want of descriptors would leave it readable and the loop spinning. */
	struct evconnlistener *evl = evhttp_bound_socket_get_listener(bs);
	if (evl && listen_guard_init(&api.guard, base, evl, "HTTP API") == 0) {
		api.guarded = 1;
		evconnlistener_set_error_cb(evl, http_listen_error_cb);
	} else {
		pr_warn("HTTP API: no accept guard (out of memory): accept may spin when out of "
			"descriptors");
	}
	pr_info("HTTP API listening on %s (/api/ needs the token; writes %s)", cfg->http.text,
		cfg->http_write ? "on" : "off");
	return 0;
}

void http_stop(void)
{
	if (api.guarded)
		listen_guard_free(&api.guard);
	api.guarded = 0;
	if (api.http)
		evhttp_free(api.http);
	api.http = NULL;
}
