/* admin.h — the SQL admin port (admin.c). */
#ifndef SHUNT_ADMIN_H
#define SHUNT_ADMIN_H

#include <event2/event.h>
#include "core/shunt.h"

/* Opens the admin port on the control base (when configured, with an
 * admin_password). 0 or -errno (logged). */
int admin_start(struct shunt *sh, struct event_base *base);
void admin_stop(void);

#endif
