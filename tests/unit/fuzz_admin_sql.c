/* fuzz_admin_sql.c — libFuzzer target for the admin port's statement
 * parser (admin_parse): any bytes, as a logged-in admin could send them
 * in a COM_QUERY. A parse either fails with a message or fills the
 * statement with bounded, NUL-terminated fields. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "ctl/admin_sql.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct admin_stmt st;
	char err[256];

	memset(&st, 0xa5, sizeof(st));
	err[0] = '\0';
	if (admin_parse((const char *)data, size, &st, err, sizeof(err)) == 0) {
		if (!memchr(st.addr, 0, sizeof(st.addr)) || !memchr(st.pool, 0, sizeof(st.pool)))
			abort();
		if (st.verb < ADM_SHOW_BACKENDS || st.verb > ADM_MIGRATE)
			abort();
	} else if (!memchr(err, 0, sizeof(err)) || !err[0]) {
		abort();
	}
	return 0;
}
