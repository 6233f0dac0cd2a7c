/* listen_guard.h — what a listening socket does when accept() fails for
 * want of local resources (EMFILE, ENFILE, ENOMEM, ENOBUFS).
 *
 * A level-triggered listener whose accept fails that way stays readable,
 * so the loop would spin at full CPU and log one line per try. The guard
 * disables the listener for a short pause instead (new connections wait
 * in the kernel's backlog, or are refused by it when that is full), logs
 * at most one line per LISTEN_GUARD_LOG_S seconds per listener with the
 * number of pauses since the last line, and enables it again. */
#ifndef SHUNT_LISTEN_GUARD_H
#define SHUNT_LISTEN_GUARD_H

#include <stdint.h>
#include <event2/event.h>
#include <event2/listener.h>

#define LISTEN_GUARD_PAUSE_MS 100
#define LISTEN_GUARD_LOG_S    10

struct listen_guard {
	struct evconnlistener *evl;
	struct event *timer;
	char what[96];               /* "listener main (127.0.0.1:3306)", for the log */
	uint64_t last_log_us;        /* 0: never logged */
	unsigned pauses_unlogged;
};

/* Pauses taken by every guard in the process (/metrics). */
uint64_t listen_guard_pauses(void);

/* Sets g up for evl (which it does not own). The listener's error
 * callback calls listen_guard_on_error. 0, or -ENOMEM. */
int listen_guard_init(struct listen_guard *g, struct event_base *base,
		      struct evconnlistener *evl, const char *what);
/* accept() on g's listener failed with errno err: pause it for a resource
 * error, and log (rate-limited) either way. */
void listen_guard_on_error(struct listen_guard *g, int err);
/* Frees the guard's timer (before the listener is freed). */
void listen_guard_free(struct listen_guard *g);

#endif
