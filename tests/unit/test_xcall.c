/* test_xcall.c — the request that KILL and migration post to a session's
 * worker and get answered on (core/xcall.c): run on the target loop,
 * delivered on the requester's, released once either way; a cancelled
 * request is not delivered but still released; a request with nobody
 * waiting is released where it finishes. Two threads, as in the daemon. */
#include <pthread.h>
#include <stdlib.h>
#include <event2/event.h>
#include <event2/thread.h>
#include "test.h"
#include "core/xcall.h"

struct req {
	struct xcall x;
	pthread_t ran_on;
	pthread_t delivered_on;
	int runs, deliveries, releases;
	int cancel_before_reply;        /* the requester cancels while it runs */
	struct event_base *requester;
};

static void run(struct xcall *x)
{
	struct req *r = (struct req *)x;

	r->runs++;
	r->ran_on = pthread_self();
	if (r->cancel_before_reply)
		xcall_cancel(x);        /* stands in for the requester's cancel */
	xcall_reply(x, "test");
}

static void deliver(struct xcall *x)
{
	struct req *r = (struct req *)x;

	r->deliveries++;
	r->delivered_on = pthread_self();
	event_base_loopbreak(r->requester);
}

static void release(struct xcall *x)
{
	struct req *r = (struct req *)x;

	r->releases++;
	if (r->cancel_before_reply || !x->reply_base)
		event_base_loopbreak(r->requester);
}

static void *target_loop(void *arg)
{
	event_base_loop(arg, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

static void one(int cancel, int nobody_waits)
{
	struct event_base *requester = event_base_new(), *target = event_base_new();
	struct req r = { 0 };
	pthread_t t;

	r.requester = requester;
	r.cancel_before_reply = cancel;
	r.x = (struct xcall){ .reply_base = nobody_waits ? NULL : requester, .run = run,
			      .deliver = deliver, .release = release };
	CHECK(pthread_create(&t, NULL, target_loop, target) == 0);
	CHECK_EQ(xcall_post(&r.x, target), 0);
	struct timeval limit = { 10, 0 };       /* a hang fails the test, not CI */
	event_base_loopexit(requester, &limit);
	event_base_loop(requester, EVLOOP_NO_EXIT_ON_EMPTY);
	event_base_loopbreak(target);
	pthread_join(t, NULL);
	CHECK_EQ(r.runs, 1);
	CHECK(pthread_equal(r.ran_on, t));
	CHECK_EQ(r.deliveries, cancel || nobody_waits ? 0 : 1);
	if (!cancel && !nobody_waits)
		CHECK(pthread_equal(r.delivered_on, pthread_self()));
	CHECK_EQ(r.releases, 1);
	event_base_free(requester);
	event_base_free(target);
}

static int freed_runs;

static void run_and_reply(struct xcall *x)
{
	freed_runs++;
	xcall_reply(x, "test");         /* nobody waits: freed here (release NULL) */
}

/* A request with no release hook is freed by xcall itself (the sanitized
 * run of this test reports a leak otherwise). */
static void test_default_release_frees(void)
{
	struct event_base *b = event_base_new();
	struct xcall *x = calloc(1, sizeof(*x));

	freed_runs = 0;
	x->run = run_and_reply;
	CHECK_EQ(xcall_post(x, b), 0);
	event_base_loop(b, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	CHECK_EQ(freed_runs, 1);
	event_base_free(b);
}

static void test_delivered_on_requester(void) { one(0, 0); }
static void test_cancelled_not_delivered(void) { one(1, 0); }
static void test_nobody_waits(void) { one(0, 1); }

int main(void)
{
	evthread_use_pthreads();
	RUN(test_delivered_on_requester);
	RUN(test_cancelled_not_delivered);
	RUN(test_nobody_waits);
	RUN(test_default_release_frees);
	return TEST_SUMMARY();
}
