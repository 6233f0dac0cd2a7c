/* A minimal blocking HTTP/1.1 client for shuntctl (see http_client.h). */
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include "http_client.h"

int http_timeout_sec = HTTP_TIMEOUT_SEC;

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------ address */

/* Splits "HOST:PORT" / "[V6]:PORT" (optionally "http://...", trailing "/")
 * into host (without brackets) and port, and builds the Host header value
 * (with brackets for IPv6). All three outputs are NUL-terminated. Returns
 * 0, or -1 with err set. */
static int parse_hostport(const char *in, char *host, size_t hostlen, char *port,
			  size_t portlen, char *hosthdr, size_t hdrlen, char *err, size_t errlen)
{
	const char *h, *hend, *p;
	size_t n, plen;

	if (strncasecmp(in, "http://", 7) == 0)
		in += 7;
	n = strlen(in);
	if (n && in[n - 1] == '/')
		n--;
	if (n && in[0] == '[') {
		h = in + 1;
		hend = memchr(h, ']', n - 1);
		if (!hend || hend + 1 >= in + n || hend[1] != ':') {
			set_err(err, errlen, "'%s' is not [IPV6]:PORT", in);
			return -1;
		}
		p = hend + 2;
	} else {
		hend = NULL;
		for (const char *c = in; c < in + n; c++)
			if (*c == ':')
				hend = c;
		if (!hend) {
			set_err(err, errlen, "'%s' is not HOST:PORT", in);
			return -1;
		}
		h = in;
		if (memchr(h, ':', (size_t)(hend - h))) {
			set_err(err, errlen, "'%s': write an IPv6 address in brackets, "
				"[ADDR]:PORT", in);
			return -1;
		}
		p = hend + 1;
	}
	plen = (size_t)(in + n - p);
	if (hend == h || plen == 0 || plen > 5 || strspn(p, "0123456789") < plen ||
	    atoi(p) < 1 || atoi(p) > 65535) {
		set_err(err, errlen, "'%s' is not HOST:PORT (port 1-65535)", in);
		return -1;
	}
	if ((size_t)(hend - h) >= hostlen || plen >= portlen || n >= hdrlen) {
		set_err(err, errlen, "address '%s' is too long", in);
		return -1;
	}
	memcpy(host, h, (size_t)(hend - h));
	host[hend - h] = '\0';
	memcpy(port, p, plen);
	port[plen] = '\0';
	memcpy(hosthdr, in, n);
	hosthdr[n] = '\0';
	return 0;
}

/* Resolves host:port and connects to the first address that accepts, each
 * socket with http_timeout_sec send and receive timeouts (the send timeout
 * also bounds connect()). Returns the fd, or -1 with err set to the reason
 * of the last failed attempt (e.g. "Connection refused"). */
static int connect_to(const char *host, const char *port, char *err, size_t errlen)
{
	struct addrinfo hints, *res, *ai;
	struct timeval tv = { .tv_sec = http_timeout_sec };
	int fd = -1, rc, e = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		set_err(err, errlen, "cannot resolve '%s': %s", host,
			rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			e = errno;
			continue;
		}
		if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
		    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0) {
			e = errno;
			close(fd);
			fd = -1;
			continue;
		}
		do
			rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
		while (rc < 0 && errno == EINTR);
		if (rc == 0)
			break;
		/* A connect() cut short by SO_SNDTIMEO fails with EINPROGRESS. */
		e = (errno == EINPROGRESS || errno == EAGAIN) ? ETIMEDOUT : errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		set_err(err, errlen, "%s", strerror(e ? e : ECONNREFUSED));
	return fd;
}

/* ------------------------------------------------------------ sending */

/* Writes all n bytes (no SIGPIPE). 0, or -1 with err set. */
static int send_all(int fd, const char *p, size_t n, char *err, size_t errlen)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				set_err(err, errlen, "timed out after %d s sending the request",
					http_timeout_sec);
			else
				set_err(err, errlen, "sending the request: %s", strerror(errno));
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* True when s holds a control character, or, if no_space, a blank: such a
 * string would break the request line or a header. */
static int has_ctl(const char *s, int no_space)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f || (no_space && c == ' '))
			return 1;
	}
	return 0;
}

/* ------------------------------------------------------------ parsing */

/* The next line of [p, end): returns the start of the following line and
 * sets *eol to the line's end (before "\r\n" or "\n"), or returns NULL when
 * no complete line is there yet. */
static const char *next_line(const char *p, const char *end, const char **eol)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	if (!nl)
		return NULL;
	*eol = (nl > p && nl[-1] == '\r') ? nl - 1 : nl;
	return nl + 1;
}

/* Case-insensitive: does the header line [p, eol) have this name? If so,
 * returns its value with surrounding blanks trimmed in [*v, *vend). */
static int header_is(const char *p, const char *eol, const char *name, const char **v,
		     const char **vend)
{
	size_t n = strlen(name);

	if ((size_t)(eol - p) <= n || p[n] != ':' || strncasecmp(p, name, n) != 0)
		return 0;
	p += n + 1;
	while (p < eol && (*p == ' ' || *p == '\t'))
		p++;
	while (eol > p && (eol[-1] == ' ' || eol[-1] == '\t'))
		eol--;
	*v = p;
	*vend = eol;
	return 1;
}

/* Is "chunked" the last coding of the Transfer-Encoding value [v, vend)? */
static int te_chunked(const char *v, const char *vend)
{
	const char *last = v;

	for (const char *c = v; c < vend; c++)
		if (*c == ',')
			last = c + 1;
	while (last < vend && (*last == ' ' || *last == '\t'))
		last++;
	return vend - last == 7 && strncasecmp(last, "chunked", 7) == 0;
}

/* Decodes a chunked body from [p, end) into out (room for end - p bytes;
 * the decoded body is never longer). Chunk extensions and trailers are
 * skipped. Returns 1 when the last chunk and trailers are complete (*outlen
 * set), 0 when more input is needed, -1 on malformed input (err set). */
static int dechunk(const char *p, const char *end, char *out, size_t *outlen, char *err,
		   size_t errlen)
{
	size_t n = 0;

	for (;;) {
		const char *eol, *next = next_line(p, end, &eol), *c;
		size_t size = 0;

		if (!next)
			return 0;
		for (c = p; c < eol && *c && strchr("0123456789abcdefABCDEF", *c); c++) {
			unsigned d = (unsigned)(*c <= '9' ? *c - '0' : (*c | 0x20) - 'a' + 10);

			if (size > (HTTP_MAX_RESPONSE >> 4)) {
				set_err(err, errlen, "chunk too large");
				return -1;
			}
			size = size * 16 + d;
		}
		if (c == p || (c < eol && *c != ';' && *c != ' ' && *c != '\t')) {
			set_err(err, errlen, "malformed chunk size line");
			return -1;
		}
		p = next;
		if (size == 0) {
			/* trailer section: header lines up to an empty line */
			for (;;) {
				next = next_line(p, end, &eol);
				if (!next)
					return 0;
				if (eol == p) {
					*outlen = n;
					return 1;
				}
				p = next;
			}
		}
		if ((size_t)(end - p) < size)
			return 0;
		memcpy(out + n, p, size);
		n += size;
		p += size;
		next = next_line(p, end, &eol);
		if (!next && end - p < 2)
			return 0;
		if (!next || eol != p) {
			set_err(err, errlen, "chunk not followed by CRLF");
			return -1;
		}
		p = next;
	}
}

/* Parses the response received so far, buf[0, len). eof: the peer closed
 * the connection, so nothing more will come. Interim 1xx responses are
 * skipped. Returns 1 with *resp filled (body malloc'd), 0 when more input
 * is needed (only when !eof), -1 with err set when the input is malformed
 * or truncated, -2 when out of memory. */
static int parse_response(const char *buf, size_t len, int eof, struct http_response *resp,
			  char *err, size_t errlen)
{
	const char *p = buf, *end = buf + len, *eol, *next, *v, *vend;
	const char *body_start;
	int status, chunked, have_cl, have_te;
	unsigned long long cl;
	size_t rlen;

again:
	status = 0;
	chunked = have_cl = have_te = 0;
	cl = 0;
	next = next_line(p, end, &eol);
	if (!next)
		goto incomplete;
	if (eol - p < 12 || strncmp(p, "HTTP/1.", 7) != 0 || p[8] != ' ' ||
	    !strchr("0123456789", p[9]) || !strchr("0123456789", p[10]) ||
	    !strchr("0123456789", p[11]) || (eol - p > 12 && p[12] != ' ')) {
		set_err(err, errlen, "not an HTTP/1.x response (status line '%.*s')",
			(int)((eol - p) > 60 ? 60 : eol - p), p);
		return -1;
	}
	status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	if (status < 100) {
		set_err(err, errlen, "invalid HTTP status %d", status);
		return -1;
	}
	rlen = eol - p > 13 ? (size_t)(eol - p - 13) : 0;
	if (rlen >= sizeof(resp->reason))
		rlen = sizeof(resp->reason) - 1;
	memcpy(resp->reason, p + 13, rlen);
	resp->reason[rlen] = '\0';
	if (has_ctl(resp->reason, 0))
		resp->reason[0] = '\0';
	p = next;

	for (;;) {
		next = next_line(p, end, &eol);
		if (!next)
			goto incomplete;
		if (eol == p) {
			p = next;
			break;
		}
		if (header_is(p, eol, "Content-Length", &v, &vend)) {
			unsigned long long x = 0;

			if (v == vend) {
				set_err(err, errlen, "empty Content-Length");
				return -1;
			}
			for (const char *c = v; c < vend; c++) {
				if (*c < '0' || *c > '9' || x > HTTP_MAX_RESPONSE) {
					set_err(err, errlen, "invalid Content-Length '%.*s'",
						(int)(vend - v > 30 ? 30 : vend - v), v);
					return -1;
				}
				x = x * 10 + (unsigned)(*c - '0');
			}
			if (have_cl && x != cl) {
				set_err(err, errlen, "conflicting Content-Length headers");
				return -1;
			}
			have_cl = 1;
			cl = x;
		} else if (header_is(p, eol, "Transfer-Encoding", &v, &vend)) {
			have_te = 1;
			chunked = te_chunked(v, vend);
		}
		p = next;
	}
	if (status < 200 && status != 101)
		goto again;     /* e.g. 100 Continue: the real response follows */

	body_start = p;
	resp->status = status;
	if (status == 204 || status == 304 || status == 101) {
		resp->body_len = 0;
	} else if (chunked) {
		int rc;

		resp->body = malloc((size_t)(end - body_start) + 1);
		if (!resp->body)
			return -2;
		rc = dechunk(body_start, end, resp->body, &resp->body_len, err, errlen);
		if (rc <= 0) {
			free(resp->body);
			resp->body = NULL;
			if (rc < 0)
				return -1;
			if (eof) {
				set_err(err, errlen, "connection closed in the middle of the "
					"chunked response body");
				return -1;
			}
			return 0;
		}
	} else if (have_cl && !have_te) {
		if ((unsigned long long)(end - body_start) < cl) {
			if (eof) {
				set_err(err, errlen, "connection closed after %zu of %llu body bytes",
					(size_t)(end - body_start), cl);
				return -1;
			}
			return 0;
		}
		resp->body_len = (size_t)cl;
	} else {
		if (!eof)
			return 0;       /* the body ends with the connection */
		resp->body_len = (size_t)(end - body_start);
	}
	if (!resp->body) {
		resp->body = malloc(resp->body_len + 1);
		if (!resp->body)
			return -2;
		memcpy(resp->body, body_start, resp->body_len);
	}
	resp->body[resp->body_len] = '\0';
	return 1;

incomplete:
	if (!eof)
		return 0;
	if (len == 0)
		set_err(err, errlen, "the server closed the connection without a response");
	else
		set_err(err, errlen, "connection closed in the middle of the response headers");
	return -1;
}

/* Reads from fd until parse_response() has a complete response or the
 * peer closes. Returns HTTP_OK with *resp filled, or an error with err
 * set. */
static enum http_err read_response(int fd, struct http_response *resp, char *err, size_t errlen)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	int rc = 0, eof = 0;

	if (!buf)
		return HTTP_E_NOMEM;
	for (;;) {
		ssize_t r;

		if (len == cap) {
			char *nb;

			if (cap >= HTTP_MAX_RESPONSE) {
				free(buf);
				set_err(err, errlen, "response larger than %u bytes",
					HTTP_MAX_RESPONSE);
				return HTTP_E_PROTO;
			}
			nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				return HTTP_E_NOMEM;
			}
			buf = nb;
			cap *= 2;
		}
		r = recv(fd, buf + len, cap - len, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				set_err(err, errlen, "timed out after %d s waiting for the response",
					http_timeout_sec);
			else
				set_err(err, errlen, "receiving the response: %s", strerror(errno));
			free(buf);
			return HTTP_E_IO;
		}
		if (r == 0)
			eof = 1;
		len += (size_t)r;
		rc = parse_response(buf, len, eof, resp, err, errlen);
		if (rc != 0 || eof)
			break;
	}
	free(buf);
	if (rc == -2)
		return HTTP_E_NOMEM;
	return rc == 1 ? HTTP_OK : HTTP_E_PROTO;
}

/* ------------------------------------------------------------ API */

enum http_err http_request(const char *hostport, const char *method, const char *path,
			   const char *token, const char *body, size_t body_len,
			   struct http_response *resp, char *err, size_t errlen)
{
	char host[256], port[8], hosthdr[300];
	char *req;
	size_t cap, n;
	int fd, has_body;
	enum http_err rc;

	memset(resp, 0, sizeof(*resp));
	if (err && errlen)
		err[0] = '\0';
	if (parse_hostport(hostport, host, sizeof(host), port, sizeof(port), hosthdr,
			   sizeof(hosthdr), err, errlen) < 0)
		return HTTP_E_ADDR;
	if (path[0] != '/' || has_ctl(path, 1) || has_ctl(method, 1) ||
	    (token && has_ctl(token, 0))) {
		set_err(err, errlen, "refusing to send a request with control characters "
			"or blanks in the method, path or token");
		return HTTP_E_ADDR;
	}
	has_body = body || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
		   strcmp(method, "PATCH") == 0;
	if (!body)
		body_len = 0;

	cap = strlen(method) + strlen(path) + strlen(hosthdr) + (token ? strlen(token) : 0) + 512;
	req = malloc(cap + body_len);
	if (!req)
		return HTTP_E_NOMEM;
	n = (size_t)snprintf(req, cap,
			     "%s %s HTTP/1.1\r\n"
			     "Host: %s\r\n"
			     "User-Agent: shuntctl\r\n"
			     "Accept: application/json\r\n"
			     "Connection: close\r\n",
			     method, path, hosthdr);
	if (token && *token)
		n += (size_t)snprintf(req + n, cap - n, "Authorization: Bearer %s\r\n", token);
	if (body)
		n += (size_t)snprintf(req + n, cap - n, "Content-Type: application/json\r\n");
	if (has_body)
		n += (size_t)snprintf(req + n, cap - n, "Content-Length: %zu\r\n", body_len);
	n += (size_t)snprintf(req + n, cap - n, "\r\n");
	if (body_len)
		memcpy(req + n, body, body_len);
	n += body_len;

	fd = connect_to(host, port, err, errlen);
	if (fd < 0) {
		free(req);
		return HTTP_E_CONNECT;
	}
	if (send_all(fd, req, n, err, errlen) < 0) {
		free(req);
		close(fd);
		return HTTP_E_IO;
	}
	free(req);
	/* No shutdown(SHUT_WR): some servers take a half-close as an abort. */
	rc = read_response(fd, resp, err, errlen);
	close(fd);
	if (rc != HTTP_OK) {
		http_response_free(resp);
		if (rc == HTTP_E_NOMEM)
			set_err(err, errlen, "out of memory");
	}
	return rc;
}

void http_response_free(struct http_response *resp)
{
	free(resp->body);
	resp->body = NULL;
	resp->body_len = 0;
}

char *http_escape_segment(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = malloc(3 * strlen(s) + 1), *o = out;

	if (!out)
		return NULL;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			*o++ = (char)c;
		} else {
			*o++ = '%';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
	}
	*o = '\0';
	return out;
}
