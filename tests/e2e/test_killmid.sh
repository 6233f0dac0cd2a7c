#!/usr/bin/env bash
# test_killmid.sh — a client that disappears in the middle of a large
# streaming result (FIN, then RST): shunt must close its backend connection
# (the query leaves MariaDB's process list), free the client's fds, and keep
# serving new clients.
. "$(dirname "$0")/lib.sh"
e2e_init killmid
mariadb_ensure
shunt_start
P=$SHUNT_PORT

out=$(cli "$P" -N -B -e 'SELECT 1' 2>&1)   # warm up
sleep 0.3
fd0=$( [ -n "$SHUNT_PID" ] && fd_count "$SHUNT_PID" )
be0=$(backend_sessions)

gone() { [ "$(backend_sessions "$E2E_USER" e2e_killmid)" = 0 ] && [ "$(backend_sessions)" -le "$be0" ]; }
fd_back() { [ "$(fd_count "$SHUNT_PID")" -le "$fd0" ]; }

for mode in fin rst; do
	client killmid "$mode"
	t0=$(date +%s%N)
	if wait_until 10 gone; then
		ms=$(( ($(date +%s%N) - t0) / 1000000 ))
		pass "backend_closed_$mode" "killed query gone from MariaDB's process list, $E2E_USER sessions back to $be0, within $ms ms"
	else
		fail "backend_closed_$mode" "after 10 s MariaDB still has $(backend_sessions) sessions of $E2E_USER ($(backend_sessions "$E2E_USER" e2e_killmid) running the killed query); baseline $be0"
		sql_root -e "SELECT ID, USER, COMMAND, TIME, STATE, LEFT(INFO, 60) FROM information_schema.PROCESSLIST WHERE USER='$E2E_USER'" | sed 's/^/    | /'
	fi
	if is_direct; then
		skip "fds_$mode" "E2E_DIRECT=1: no shunt process"
	else
		wait_until 5 fd_back
		fd1=$(fd_count "$SHUNT_PID")
		check "fds_$mode" "shunt open fds $fd0 before, $fd1 after" [ "$fd1" -le "$fd0" ]
		cw=$(close_wait_count "$SHUNT_PID")
		check "no_close_wait_$mode" "$cw CLOSE-WAIT sockets of shunt" [ "$cw" = 0 ]
	fi
	out=$(cli "$P" -N -B -e 'SELECT 6*7' 2>&1)
	check "still_serving_$mode" "new client after the kill: SELECT 6*7 -> '$out'" [ "$out" = 42 ]
done
e2e_finish
