#!/usr/bin/env bash
# test_big.sh — large packets and large results through shunt:
#  - 20 MiB values written by COM_QUERY (40 MB hex literal), by an inline
#    COM_STMT_EXECUTE and by long data, read back in text and binary
#    protocol; rows and queries exactly at the 0xFFFFFF boundaries;
#  - a ~230 MB streamed result (2M rows, mysql_use_result), every row
#    checked, compared with a server-side aggregate and with the stream
#    hash of the same query made directly to MariaDB.
. "$(dirname "$0")/lib.sh"
e2e_init big
mariadb_ensure
shunt_start
client big
HUGE_ROWS=${E2E_HUGE_ROWS:-2000000}
client huge "$HUGE_ROWS"
via_sha=$(sed -n 's/.*stream SHA-256 \([0-9a-f]*\).*/\1/p' <<<"$E2E_LAST_OUT")
if is_direct; then
	skip huge_vs_direct "E2E_DIRECT=1: the run above was the direct one"
else
	# The same stream over a direct connection must hash the same.
	d=$("$E2E_CLIENT_BIN" 127.0.0.1 "$MYSQL_PORT" "$E2E_USER" "$E2E_PASS" "$E2E_DB" huge "$HUGE_ROWS" 2>&1)
	direct_sha=$(sed -n 's/.*stream SHA-256 \([0-9a-f]*\).*/\1/p' <<<"$d")
	direct_rate=$(sed -n 's/.*s (\([0-9]* MB\/s\)).*/\1/p' <<<"$d")
	check huge_vs_direct "stream SHA-256 through shunt ${via_sha:-none}... = direct ${direct_sha:-none}... (direct: $direct_rate)" \
		[ -n "$via_sha" -a "$via_sha" = "$direct_sha" ]
fi
e2e_finish
