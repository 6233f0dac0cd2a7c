/* balancer.h — moving sessions off backends that should not have them,
 * and evening out load (docs/migration.md).
 *
 * One timer on the control thread, every min(rebalance_interval_ms,
 * 500 ms), so that a drain starts within half a second:
 *
 *  - drain and planned failover: every established, movable session on a
 *    backend that is draining (trigger "drain"), offline or failing
 *    health (trigger "failover") is asked to move, idle ones at once
 *    (migrate_start with no target: the pool picks). Nothing is asked
 *    while its pool has no usable backend to take it.
 *  - a draining backend left with no session is set offline, with one
 *    log line "backend X drained: offline".
 *  - rebalance (rebalance = on), every rebalance_interval_ms, per pool:
 *    among the usable backends (online, not down) each has a target of
 *    sessions proportional to its weight; one above target *
 *    (1 + rebalance_tolerance) gives sessions to the least loaded one, as
 *    long as a move narrows the gap, at most rebalance_max_moves per
 *    round over all pools. rebalance_policy = active also takes idle
 *    sessions at once; passive (default) moves each when its client
 *    sends its next command.
 *
 * Requests in flight are remembered by session id, so a session is not
 * asked twice at a time; at most BAL_MAX_INFLIGHT are in flight, half of
 * them at most for the rebalancer, so it never holds up a drain. A
 * session that could not be moved (sticky, no safe point in time, failed,
 * nowhere to go) is left alone for 10 rounds of what asked (10 ticks for
 * a drain, 10 rebalance intervals for the rebalancer).
 *
 * Which session is where comes from ctl_sessions_brief() (one
 * worker_call_sync per worker), taken only in a tick that has work: a
 * quiet proxy costs the workers nothing. */
#ifndef SHUNT_BALANCER_H
#define SHUNT_BALANCER_H

#include <event2/event.h>

struct shunt;

#define BAL_TICK_MAX_MS   500   /* a drain starts within this */
#define BAL_MAX_INFLIGHT  64    /* migration requests the balancer has out */
#define BAL_BACKOFF_ROUNDS 10   /* rounds a session that did not move is left alone */

/* Starts the timer on base (the control thread's). 0 or -ENOMEM. */
int balancer_start(struct shunt *sh, struct event_base *base);
/* Stops the timer and cancels the requests in flight (their results are
 * dropped). Safe if never started. */
void balancer_stop(void);

#endif
