/* clock.h — the two clocks shunt reads: monotonic microseconds for
 * latencies and deadlines, wall-clock milliseconds for what views show. */
#ifndef SHUNT_CLOCK_H
#define SHUNT_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in microseconds. */
uint64_t clock_mono_us(void);
/* CLOCK_REALTIME in milliseconds since the epoch. */
int64_t clock_wall_ms(void);

#endif
