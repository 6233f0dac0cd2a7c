/* token_bucket.h — a token bucket: `burst` tokens at most, refilled at
 * `per_s` a second. Used for the reload rate limit (ctl/control.c) and
 * the per-address connection rate (core/client_limits.c). The caller
 * keeps the state and any locking. */
#ifndef SHUNT_TOKEN_BUCKET_H
#define SHUNT_TOKEN_BUCKET_H

#include <stdint.h>

struct token_bucket {
	double tokens;
	uint64_t last_us;        /* last refill, monotonic µs; 0: never used (full) */
};

/* Takes one token at now_us (monotonic, > 0). Returns 0 when taken, else
 * the µs until one is there. */
static inline uint64_t token_take(struct token_bucket *b, double burst, double per_s, uint64_t now_us)
{
	if (!b->last_us) {
		b->tokens = burst;
	} else {
		b->tokens += (double)(now_us - b->last_us) * per_s / 1e6;
		if (b->tokens > burst)
			b->tokens = burst;
	}
	b->last_us = now_us ? now_us : 1;
	if (b->tokens < 1)
		return (uint64_t)((1 - b->tokens) * 1e6 / per_s) + 1;
	b->tokens -= 1;
	return 0;
}

/* Gives back a token taken by mistake (never above burst). */
static inline void token_give_back(struct token_bucket *b, double burst)
{
	b->tokens = b->tokens + 1 > burst ? burst : b->tokens + 1;
}

#endif
