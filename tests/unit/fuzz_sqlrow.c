/* fuzz_sqlrow.c — libFuzzer target for the row parser of shunt's own SQL
 * client (sql_step_add_row): the first byte picks the column count (0..15),
 * the rest is fed as row packets split at 0x00 0x00 pairs, as a backend
 * could send them one after the other into one result. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "mysql/sql_batch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sql_step st;

	if (size < 1)
		return 0;
	memset(&st, 0, sizeof(st));
	st.ncols = data[0] & 15;
	size_t at = 1;
	while (at <= size) {
		size_t end = at;
		while (end + 1 < size && !(data[end] == 0 && data[end + 1] == 0))
			end++;
		if (end + 1 >= size)
			end = size;
		if (sql_step_add_row(&st, data + at, end - at) == 0) {
			/* every cell is NULL or a NUL-terminated copy of its length */
			for (size_t c = 0; c < st.ncols; c++) {
				const char *v = sql_cell(&st, st.nrows - 1, c);
				if (v && strlen(v) > st.cell_len[(st.nrows - 1) * st.ncols + c])
					abort();
			}
		}
		at = end + 2;
	}
	for (size_t i = 0; i < st.nrows * st.ncols; i++)
		free(st.cells[i]);
	free(st.cells);
	free(st.cell_len);
	return 0;
}
