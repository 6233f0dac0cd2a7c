/* addr.h — socket addresses as text. */
#ifndef SHUNT_ADDR_H
#define SHUNT_ADDR_H

#include <stddef.h>
#include <sys/socket.h>
#include <netinet/in.h>

#define CFG_ADDR_MAX 300        /* "host:port" as written, for logs and views */

/* An address as configured: the text the user wrote and what it resolved to. */
struct cfg_addr {
	char text[CFG_ADDR_MAX];           /* as written by the user */
	struct sockaddr_storage sa;
	socklen_t salen;
};

/* "ip:port", "[ip6]:port" or "unix" for sa, into out (n bytes). */
void addr_format(const struct sockaddr *sa, char *out, size_t n);

#endif
