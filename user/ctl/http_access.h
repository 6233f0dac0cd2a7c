/* http_access.h — who may use the HTTP API (http_access.c): the token file,
 * the bearer check, and the Host check against DNS rebinding. Pure
 * functions of their arguments (and of the file system, for the token
 * file), so that they can be tested and fuzzed alone. */
#ifndef SHUNT_HTTP_ACCESS_H
#define SHUNT_HTTP_ACCESS_H

#include <stddef.h>

#define HTTP_TOKEN_MAX 128      /* with its NUL, as cfg->http_token */

/* The API token kept in path: read when the file exists, created when it
 * does not (64 hex digits from getrandom, mode 0600, its directory made
 * 0700 if missing; a concurrent creator's file wins). A file that is not a
 * regular file of ours, that others may read or write, or that holds no
 * token (1..127 printable characters, no spaces) is refused. Returns 0
 * (read), 1 (created), or -errno with why filled; out (n >=
 * HTTP_TOKEN_MAX) holds the token on success. */
int http_token_load(const char *path, char *out, size_t n, char *why, size_t whylen);

/* Whether an Authorization header value is "Bearer " + token, compared in
 * time that depends only on the lengths. An empty token matches nothing. */
int http_bearer_ok(const char *authorization, const char *token);

/* Whether a request's Host header may be answered: absent (HTTP/1.0), or
 * an IPv4 or [IPv6] literal or "localhost", each with an optional :port.
 * A name is what a DNS-rebinding page would send, so it is refused. */
int http_host_ok(const char *host);

#endif
