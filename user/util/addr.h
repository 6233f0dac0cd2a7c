/* addr.h — socket addresses as text. */
#ifndef SHUNT_ADDR_H
#define SHUNT_ADDR_H

#include <stddef.h>
#include <sys/socket.h>

/* "ip:port", "[ip6]:port" or "unix" for sa, into out (n bytes). */
void addr_format(const struct sockaddr *sa, char *out, size_t n);

#endif
