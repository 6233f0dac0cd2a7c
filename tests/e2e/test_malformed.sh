#!/usr/bin/env bash
# test_malformed.sh — bad input at the front door gets a clear MySQL error
# and a clean close, with a log line carrying the connection id, and leaves
# nothing behind: garbage, truncated and out-of-order logins, a TLS request,
# a pre-4.1 client, an oversized header, a half packet from a client that
# vanishes, and an unknown command after login (the server's ERR, and the
# session goes on).
. "$(dirname "$0")/lib.sh"
e2e_init malformed
mariadb_ensure
shunt_start
fd0=$(fd_count "$SHUNT_PID")
run_checks malformed "$PY" "$(dirname "$0")/malformed_check.py" "$SHUNT_PORT" "$E2E_USER" "$E2E_PASS" "$SHUNT_LOG"
n=$(grep -cE 'conn=[0-9]+ client=127\.0\.0\.1:[0-9]+ .*error (1043|1156|1251)' "$SHUNT_LOG")
check log_lines "$n refusals logged with the connection id and client (expected at least 6)" [ "$n" -ge 6 ]
fds_back() { [ "$(fd_count "$SHUNT_PID")" -le "$fd0" ]; }
wait_until 5 fds_back
fd1=$(fd_count "$SHUNT_PID")
check no_leaked_fds "shunt fds before $fd0, after $fd1" [ "$fd1" -le "$fd0" ]
check still_serving "SELECT 1 after all that -> $(cli "$SHUNT_PORT" -N -B -e 'SELECT 1' 2>&1)" \
	[ "$(cli "$SHUNT_PORT" -N -B -e 'SELECT 1' 2>&1)" = 1 ]
e2e_finish
