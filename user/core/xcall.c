/* xcall.c — a request posted to another loop and answered back (xcall.h). */
#include <errno.h>
#include <stdlib.h>
#include <event2/event.h>
#include "core/xcall.h"
#include "util/log.h"

static void run_cb(evutil_socket_t fd, short what, void *arg)
{
	struct xcall *x = arg;

	(void)fd;
	(void)what;
	x->run(x);
}

static void release(struct xcall *x)
{
	if (x->release)
		x->release(x);
	else
		free(x);
}

static void deliver_cb(evutil_socket_t fd, short what, void *arg)
{
	struct xcall *x = arg;

	(void)fd;
	(void)what;
	if (!x->cancelled && x->deliver)
		x->deliver(x);
	release(x);
}

int xcall_post(struct xcall *x, struct event_base *target)
{
	return event_base_once(target, -1, EV_TIMEOUT, run_cb, x, NULL) < 0 ? -ENOMEM : 0;
}

void xcall_reply(struct xcall *x, const char *what)
{
	if (!x->reply_base) {
		release(x);
		return;
	}
	if (event_base_once(x->reply_base, -1, EV_TIMEOUT, deliver_cb, x, NULL) < 0) {
		pr_err("%s: cannot deliver the result (out of memory)", what);
		release(x);
	}
}

void xcall_cancel(struct xcall *x)
{
	if (x)
		x->cancelled = 1;
}
