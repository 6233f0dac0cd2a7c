/* health.h — health probes (health.c). */
#ifndef SHUNT_HEALTH_H
#define SHUNT_HEALTH_H

#include <event2/event.h>
#include "core/shunt.h"

/* Probes down backends every health_interval_ms on the control base. */
int health_start(struct shunt *sh, struct event_base *base);
void health_stop(void);

#endif
