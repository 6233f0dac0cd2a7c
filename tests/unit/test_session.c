/* test_session.c — the session lifecycle and the write queue, with a fake
 * carrier and a fake borrower over real sockets:
 *  - outq: what a full socket does not take is queued, sent in order once
 *    the peer reads, and nothing is written ahead of what is queued;
 *  - sess_free(): the borrower lets go first, then the carrier frees (once),
 *    while the sockets are still open;
 *  - the borrow slot: a second borrower gets -EBUSY, sess_at_boundary()
 *    reaches the borrower's hook, sess_unborrow() frees the slot;
 *  - sess_find() finds a session by id on its worker and not once freed. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <event2/event.h>
#include "test.h"
#include "core/shunt.h"
#include "session/session.h"
#include "util/outq.h"

/* ---- outq ---- */

static void test_outq_keeps_order(void)
{
	int sv[2];
	struct outq q = { 0 };
	static uint8_t big[1 << 20], got[(1 << 20) + 16];
	int sndbuf = 4096;

	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7);
	size_t sent = 0;
	CHECK_EQ(outq_send(&q, sv[0], big, sizeof(big), &sent), 0);   /* socket full */
	CHECK(sent < sizeof(big));
	CHECK_EQ(outq_pending(&q), sizeof(big) - sent);
	/* Behind a queue nothing is written now, only appended. */
	size_t sent2 = 99;
	CHECK_EQ(outq_send(&q, sv[0], (const uint8_t *)"tail", 4, &sent2), 0);
	CHECK_EQ(sent2, 0);
	size_t have = 0;
	int rc = 0;
	while (have < sizeof(got)) {
		ssize_t n = read(sv[1], got + have, sizeof(got) - have);
		if (n <= 0)
			break;
		have += (size_t)n;
		rc = outq_flush(&q, sv[0], NULL);
		if (rc == 1 && have == sizeof(big) + 4)
			break;
	}
	CHECK_EQ(rc, 1);
	CHECK(outq_empty(&q));
	CHECK_EQ(have, sizeof(big) + 4);
	CHECK_MEM(got, big, sizeof(big));
	CHECK_MEM(got + sizeof(big), "tail", 4);
	/* A closed peer is an error, not a wait. */
	close(sv[1]);
	CHECK(outq_send(&q, sv[0], (const uint8_t *)"x", 1, NULL) < 0);
	outq_free(&q);
	close(sv[0]);
}

/* ---- the session with a fake carrier ---- */

static char trace[64];          /* the order of the hooks: B (borrower gone), F (free) */
static int fds_open_at_free;

static void fake_free(struct session *s)
{
	strcat(trace, "F");
	fds_open_at_free = fcntl(s->cfd, F_GETFD) >= 0 && fcntl(s->bfd, F_GETFD) >= 0;
	close(s->cfd);
	close(s->bfd);
	s->cfd = s->bfd = -1;
}

static const struct carrier_ops fake_ops = { .name = "fake", .free = fake_free };

static int boundary_calls;
static int fake_at_boundary(struct session *s, void *ctx, int held)
{
	(void)s;
	boundary_calls++;
	return held && ctx == (void *)&boundary_calls;
}

static void fake_gone(struct session *s, void *ctx)
{
	(void)ctx;
	strcat(trace, "B");
	CHECK(s->carrier != NULL);      /* still there: the borrower goes first */
}

static const struct sess_borrow_ops fake_borrower = {
	.what = "test", .at_boundary = fake_at_boundary, .gone = fake_gone,
};
static const struct sess_borrow_ops other_borrower = { .what = "other" };

static void test_session_lifecycle(void)
{
	struct shunt sh;
	struct worker w;
	struct listener_stats ls = { 0 };
	struct cfg_listener cl;
	struct listener_ctx lc;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(4242),
				  .sin_addr = { htonl(0x7f000001) } };
	int c[2], b[2];

	memset(&sh, 0, sizeof(sh));
	memset(&w, 0, sizeof(w));
	memset(&cl, 0, sizeof(cl));
	snprintf(cl.name, sizeof(cl.name), "t");
	w.sh = &sh;
	w.base = event_base_new();
	w.next_id = 1;
	TAILQ_INIT(&w.sessions);
	sh.workers = &w;
	sh.n_workers = 1;
	sh.lstats = &ls;
	sh.n_lstats = 1;
	lc.w = &w;
	lc.cl = &cl;
	lc.stats = &ls;
	lc.pool = NULL;
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, c), 0);
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, b), 0);

	struct session *s = sess_new(&lc, c[0], (struct sockaddr *)&sa, sizeof(sa));
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_EQ(s->id, 1);
	CHECK(strcmp(s->client_addr, "127.0.0.1:4242") == 0);
	CHECK(sess_find(&sh, 1) == s);
	CHECK(sess_find(&sh, 2) == NULL);
	CHECK_EQ(atomic_load(&ls.sessions_now), 1);
	/* An established session: the fake carrier takes both sockets. */
	bufferevent_setfd(s->cbev, -1);
	bufferevent_free(s->cbev);
	s->cbev = NULL;
	s->cfd = c[0];
	s->bfd = b[0];
	s->state = SESS_RELAY;
	s->carrier = &fake_ops;

	CHECK_EQ(sess_borrow(s, &fake_borrower, &boundary_calls), 0);
	CHECK_EQ(sess_borrow(s, &other_borrower, NULL), -EBUSY);
	CHECK(strcmp(sess_borrower_what(s), "test") == 0);
	CHECK(sess_borrowed_by(s, &fake_borrower) == &boundary_calls);
	CHECK(sess_borrowed_by(s, &other_borrower) == NULL);
	CHECK_EQ(sess_at_boundary(s, 1), 1);
	CHECK_EQ(sess_at_boundary(s, 0), 0);
	CHECK_EQ(boundary_calls, 2);
	sess_unborrow(s, &boundary_calls);
	CHECK(sess_borrower_what(s) == NULL);
	CHECK_EQ(sess_at_boundary(s, 1), 0);            /* nobody asked */
	CHECK_EQ(boundary_calls, 2);
	CHECK_EQ(sess_borrow(s, &fake_borrower, NULL), 0);

	sess_free(s);
	CHECK(strcmp(trace, "BF") == 0);
	CHECK(fds_open_at_free);
	CHECK(sess_find(&sh, 1) == NULL);
	CHECK_EQ(atomic_load(&ls.sessions_now), 0);
	CHECK(TAILQ_EMPTY(&w.sessions));
	close(c[1]);
	close(b[1]);
	event_base_free(w.base);
}

int main(void)
{
	RUN(test_outq_keeps_order);
	RUN(test_session_lifecycle);
	return TEST_SUMMARY();
}
