/* must_see.c — the client-command classifier of both carriers (must_see.h). */
#include "mysql/must_see.h"
#include "mysql/stmt.h"

int must_see_classify(const struct stmt_table *stmts, const uint8_t *p, size_t avail,
		      uint32_t *see)
{
	uint32_t plen, watched = 0;
	size_t have, tlen;

	if (avail < MYSQL_HDR_LEN)
		return 0;
	plen = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
	if (plen == 0) {
		*see = MT_SEE_NONE;     /* an empty packet is no command */
		return 1;
	}
	if (avail < MYSQL_HDR_LEN + 1)
		return 0;
	if (p[MYSQL_HDR_LEN] == COM_STMT_EXECUTE && plen >= 5) {
		if (avail < MYSQL_HDR_LEN + 5)
			return 0;
		watched = stmt_watches(stmts, (uint32_t)p[5] | (uint32_t)p[6] << 8 |
					      (uint32_t)p[7] << 16 | (uint32_t)p[8] << 24);
	}
	*see = mt_see_command(p[MYSQL_HDR_LEN], 1, (int)watched);
	if (*see != MT_SEE_QUERY_TEXT)
		return 1;
	struct mt_kill_scan k = { 0 };
	tlen = plen - 1;
	have = avail - MYSQL_HDR_LEN - 1;
	if (have > tlen)
		have = tlen;
	if (have > MUST_SEE_KILL_SCAN)
		have = MUST_SEE_KILL_SCAN;
	for (size_t i = 0; i < have && !mt_kill_step(&k, p[MYSQL_HDR_LEN + 1 + i]); i++)
		;
	uint32_t v = mt_kill_verdict(&k, have == tlen && plen < MYSQL_MAX_PAYLOAD);
	if (v == MT_KILL_MAYBE && have < tlen && have < MUST_SEE_KILL_SCAN)
		return 0;
	*see = v == MT_KILL_NO ? MT_SEE_NONE : MT_SEE_KILL_QUERY;
	return 1;
}
