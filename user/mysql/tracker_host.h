/* tracker_host.h — the conversation tracker for user-space code: bytes
 * come from plain memory. Include this instead of mysql_tracker.h. */
#ifndef SHUNT_TRACKER_HOST_H
#define SHUNT_TRACKER_HOST_H

#include <linux/types.h>
#include <string.h>

#define MT_LOAD(ctx, off, dst, n) (memcpy((dst), (const unsigned char *)(ctx) + (off), (n)), 0)
#include "mysql_tracker.h"

#endif
