/* http.h — the HTTP API (http.c). */
#ifndef SHUNT_HTTP_H
#define SHUNT_HTTP_H

#include <event2/event.h>
#include "core/shunt.h"

/* Opens the HTTP API on the control base (when configured). 0 or -errno. */
int http_start(struct shunt *sh, struct event_base *base);
void http_stop(void);

#endif
