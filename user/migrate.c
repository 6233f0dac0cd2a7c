/* migrate.c — placeholder until the engine lands (see migrate.h). */
#include <stdlib.h>
#include "migrate.h"
#include "session.h"

const char *const mig_trigger_names[MIG_TRIGGER__COUNT] = {
	"manual", "drain", "rebalance", "failover",
};
const char *const mig_outcome_names[MIG_OUTCOME__COUNT] = {
	"ok", "failed", "timeout", "sticky", "not_found", "busy", "no_target", "closed",
};

struct mig_req *migrate_start(struct shunt *sh, struct event_base *reply_base, uint32_t id,
			      const char *target, enum mig_trigger why, int proactive,
			      mig_done_fn done, void *ctx)
{
	(void)sh; (void)reply_base; (void)id; (void)target; (void)why; (void)proactive;
	(void)done; (void)ctx;
	return NULL;
}

void migrate_cancel(struct mig_req *r) { (void)r; }
void migrate_session_gone(struct session *s) { (void)s; }
