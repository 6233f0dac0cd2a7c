/* http_access.c — the token file, the bearer check and the Host check of
 * the HTTP API (http_access.h). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/random.h>
#include <sys/stat.h>
#include "ctl/http_access.h"

/* A token: 1..HTTP_TOKEN_MAX-1 printable ASCII characters, no spaces or
 * quotes (what a Bearer header and the config key can carry). */
static int token_valid(const char *t, size_t len)
{
	if (len == 0 || len >= HTTP_TOKEN_MAX)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (t[i] <= 0x20 || t[i] >= 0x7f || t[i] == '"')
			return 0;
	return 1;
}

/* Reads the token from an open file, checking what the file is. */
static int read_token_fd(int fd, const char *path, char *out, size_t n, char *why, size_t whylen)
{
	struct stat st;
	char buf[HTTP_TOKEN_MAX + 2];
	ssize_t got;

	if (fstat(fd, &st) < 0) {
		snprintf(why, whylen, "cannot stat token file %s: %s", path, strerror(errno));
		return -errno;
	}
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
		snprintf(why, whylen, "token file %s is not a regular file owned by this user", path);
		return -EPERM;
	}
	if (st.st_mode & 077) {
		snprintf(why, whylen, "token file %s may be read or written by others (mode %04o): "
			 "chmod 600 it", path, (unsigned)(st.st_mode & 07777));
		return -EPERM;
	}
	got = read(fd, buf, sizeof(buf) - 1);
	if (got < 0) {
		snprintf(why, whylen, "cannot read token file %s: %s", path, strerror(errno));
		return -errno;
	}
	size_t len = (size_t)got;
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	if (!token_valid(buf, len) || len + 1 > n) {
		snprintf(why, whylen, "token file %s holds no token (1..%d printable characters "
			 "without spaces)", path, HTTP_TOKEN_MAX - 1);
		return -EINVAL;
	}
	memcpy(out, buf, len);
	out[len] = '\0';
	return 0;
}

/* Makes the token file's directory (one level, 0700) when it is missing. */
static int make_parent(const char *path, char *why, size_t whylen)
{
	char dir[512];
	const char *slash = strrchr(path, '/');

	if (!slash || slash == path)
		return 0;
	if ((size_t)(slash - path) >= sizeof(dir)) {
		snprintf(why, whylen, "token file path %s is too long", path);
		return -ENAMETOOLONG;
	}
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		snprintf(why, whylen, "cannot create %s for the token file: %s", dir, strerror(errno));
		return -errno;
	}
	return 0;
}

int http_token_load(const char *path, char *out, size_t n, char *why, size_t whylen)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char rnd[32];
	char token[2 * sizeof(rnd) + 2], tmp[600];
	int fd, rc;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0) {
		rc = read_token_fd(fd, path, out, n, why, whylen);
		close(fd);
		return rc;
	}
	if (errno != ENOENT) {
		snprintf(why, whylen, "cannot open token file %s: %s", path, strerror(errno));
		return -errno;
	}
	rc = make_parent(path, why, whylen);
	if (rc < 0)
		return rc;
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		snprintf(why, whylen, "cannot get random bytes for the API token: %s", strerror(errno));
		return -EIO;
	}
	for (size_t i = 0; i < sizeof(rnd); i++) {
		token[2 * i] = hex[rnd[i] >> 4];
		token[2 * i + 1] = hex[rnd[i] & 15];
	}
	token[2 * sizeof(rnd)] = '\n';
	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(why, whylen, "cannot create token file %s: %s", tmp, strerror(errno));
		return -errno;
	}
	size_t len = 2 * sizeof(rnd) + 1;
	int ok = write(fd, token, len) == (ssize_t)len && fsync(fd) == 0;
	close(fd);
	/* link, not rename: a file another shunt created meanwhile wins. */
	if (!ok || (link(tmp, path) < 0 && errno != EEXIST)) {
		snprintf(why, whylen, "cannot write token file %s: %s", path, strerror(errno));
		unlink(tmp);
		return -EIO;
	}
	unlink(tmp);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, whylen, "cannot open token file %s: %s", path, strerror(errno));
		return -errno;
	}
	rc = read_token_fd(fd, path, out, n, why, whylen);
	close(fd);
	if (rc < 0)
		return rc;
	return memcmp(out, token, 2 * sizeof(rnd)) == 0 ? 1 : 0;
}

int http_bearer_ok(const char *authorization, const char *token)
{
	size_t tl = token ? strlen(token) : 0;

	if (!authorization || tl == 0 || strncmp(authorization, "Bearer ", 7) != 0)
		return 0;
	const char *given = authorization + 7;
	size_t gl = strlen(given);
	unsigned char diff = gl != tl;
	for (size_t i = 0; i < tl; i++)        /* time depends on the lengths only */
		diff |= (unsigned char)((i < gl ? given[i] : 0) ^ token[i]);
	return diff == 0;
}

/* Whether s[0..len) is a port: 1..5 digits. */
static int is_port(const char *s, size_t len)
{
	if (len == 0 || len > 5)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

int http_host_ok(const char *host)
{
	char name[64];
	const char *port = NULL;
	size_t len;

	if (!host)
		return 1;
	if (host[0] == '[') {
		const char *rb = strchr(host, ']');
		struct in6_addr a6;
		if (!rb || (size_t)(rb - host - 1) >= sizeof(name))
			return 0;
		len = (size_t)(rb - host - 1);
		memcpy(name, host + 1, len);
		name[len] = '\0';
		if (rb[1] == ':')
			port = rb + 2;
		else if (rb[1])
			return 0;
		if (port && !is_port(port, strlen(port)))
			return 0;
		return inet_pton(AF_INET6, name, &a6) == 1;
	}
	const char *colon = strchr(host, ':');
	len = colon ? (size_t)(colon - host) : strlen(host);
	if (len == 0 || len >= sizeof(name))
		return 0;
	if (colon && !is_port(colon + 1, strlen(colon + 1)))
		return 0;
	memcpy(name, host, len);
	name[len] = '\0';
	struct in_addr a4;
	return strcasecmp(name, "localhost") == 0 || inet_pton(AF_INET, name, &a4) == 1;
}
