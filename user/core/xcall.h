/* xcall.h — one request handed to another thread's event loop and answered
 * on the requester's loop, which the requester may cancel meanwhile.
 *
 * KILL (session/kill.c) and migration (migrate/migrate.c) are both such
 * requests: asked on the control thread or a worker, carried out on the
 * worker that owns the session, answered where they were asked. Embed a
 * struct xcall in the request and fill its hooks; nothing here blocks or
 * waits: each hop is an event_base_once. */
#ifndef SHUNT_XCALL_H
#define SHUNT_XCALL_H

struct event_base;

struct xcall {
	struct event_base *reply_base;   /* where deliver runs; NULL: nobody waits */
	int cancelled;                   /* the requester's thread only */
	void (*run)(struct xcall *x);    /* on the target loop */
	void (*deliver)(struct xcall *x);/* on reply_base, unless cancelled */
	void (*release)(struct xcall *x);/* frees the request: after deliver, or
					    instead of it; NULL: free(x), for a
					    request malloc'd with x first */
};

/* Runs x->run on the target loop. 0, or -ENOMEM (nothing was posted and
 * the caller still owns x). */
int xcall_post(struct xcall *x, struct event_base *target);

/* From the target loop (or at once, from the requester's, when there is
 * nothing to do elsewhere): has x->deliver run on x->reply_base, then
 * x->release. Without a reply base, or when it cannot be posted (logged
 * with what), x is released without delivering. */
void xcall_reply(struct xcall *x, const char *what);

/* The requester no longer wants the answer: deliver is not called (the
 * request still finishes and is released where it ends). Requester's
 * thread only; x may be NULL. */
void xcall_cancel(struct xcall *x);

#endif
