/* A minimal blocking HTTP/1.1 client for shuntctl's control commands.
 *
 * One request per connection ("Connection: close"), request bodies sent
 * with Content-Length, responses framed by Content-Length, chunked
 * transfer coding, or the end of the connection. Plain TCP only (no TLS),
 * IPv4 or IPv6, socket timeouts of http_timeout_sec (5 s by default). */
#ifndef SHUNT_TOOLS_HTTP_CLIENT_H
#define SHUNT_TOOLS_HTTP_CLIENT_H

#include <stddef.h>

/* Every send, receive and connect step is limited to this long (seconds).
 * A command that waits on purpose (migrate) raises it. */
#define HTTP_TIMEOUT_SEC 5
extern int http_timeout_sec;

/* Larger responses are refused (the API's bodies are small JSON). */
#define HTTP_MAX_RESPONSE (16u << 20)

enum http_err {
	HTTP_OK = 0,
	HTTP_E_ADDR,      /* the HOST:PORT string is malformed */
	HTTP_E_CONNECT,   /* resolving or connecting failed: the API is unreachable */
	HTTP_E_IO,        /* sending or receiving failed after connecting (incl. timeouts) */
	HTTP_E_PROTO,     /* the peer's answer is not a well-formed HTTP/1.x response */
	HTTP_E_NOMEM,
};

struct http_response {
	int status;           /* e.g. 200 */
	char reason[64];      /* reason phrase, possibly empty */
	char *body;           /* decoded body, NUL-terminated; never NULL after success */
	size_t body_len;      /* without the terminating NUL */
};

/* Sends one request and reads the whole response.
 *
 * hostport: "HOST:PORT" or "[IPV6]:PORT" (an "http://" prefix and a trailing
 * "/" are tolerated). method: "GET", "POST", ... path: the already
 * percent-encoded request target, starting with '/'. token: when non-NULL
 * and non-empty, sent as "Authorization: Bearer TOKEN". body: when
 * non-NULL, body_len bytes sent with "Content-Type: application/json";
 * POST/PUT/PATCH without a body send "Content-Length: 0".
 *
 * Any HTTP status is a success of this function: the caller looks at
 * resp->status. On HTTP_OK *resp is filled and must be released with
 * http_response_free(). On any other value *resp holds nothing to free and
 * err (errlen bytes, may be 0) holds a one-line message without the
 * address, such as "Connection refused". */
enum http_err http_request(const char *hostport, const char *method, const char *path,
			   const char *token, const char *body, size_t body_len,
			   struct http_response *resp, char *err, size_t errlen);

/* Frees what http_request() allocated; safe on a zeroed struct. */
void http_response_free(struct http_response *resp);

/* Percent-encodes s for use as one path segment: every byte except the
 * unreserved ones (ALPHA / DIGIT / "-" / "." / "_" / "~") becomes %XX, so
 * "[::1]:3306" gives "%5B%3A%3A1%5D%3A3306". Returns a malloc'd string, or
 * NULL when out of memory. */
char *http_escape_segment(const char *s);

#endif
