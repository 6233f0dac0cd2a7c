/* metrics.h — the Prometheus text of /metrics (metrics.c). */
#ifndef SHUNT_METRICS_H
#define SHUNT_METRICS_H

#include <event2/event.h>
#include "core/shunt.h"

struct evbuffer;
/* Appends the text exposition of every metric to out (control thread). */
void metrics_render(struct shunt *sh, struct evbuffer *out);

#endif
