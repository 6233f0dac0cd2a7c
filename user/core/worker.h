/* worker.h — worker threads: one event_base each, each with its own
 * SO_REUSEPORT listening socket per listener, so the kernel spreads new
 * connections and a session never changes thread (docs/architecture.md). */
#ifndef SHUNT_WORKER_H
#define SHUNT_WORKER_H

#include "core/shunt.h"

/* Creates sh->n_workers workers with their event bases and bound, listening
 * sockets (so the ports accept as soon as this returns). 0 or -errno; on
 * error everything created is released. */
int worker_create_all(struct shunt *sh);
/* Starts the threads. 0 or -errno. */
int worker_start_all(struct shunt *sh);
/* Asks every worker loop to stop (thread-safe), joins the threads, closes
 * every remaining session and frees the workers. */
void worker_stop_all(struct shunt *sh);

/* Runs fn(w, arg) on w's thread and waits for it to return, at most
 * timeout_ms for the worker to start it (fn itself must be short and
 * never block). For the control thread only (never from a worker: it
 * would wait for itself). Returns 0; -ETIMEDOUT when the worker did not
 * get to it in time (fn will not run, and arg may be freed); -ENOMEM. */
int worker_call_sync(struct worker *w, void (*fn)(struct worker *w, void *arg), void *arg,
		     unsigned timeout_ms);
/* How long the control thread waits for a worker in a listing. */
#define WORKER_CALL_TIMEOUT_MS 2000

#endif
