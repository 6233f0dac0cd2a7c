#!/usr/bin/env bash
# test_sessions.sh — 1000 sequential sessions (connect, SELECT 1, quit)
# through shunt: all succeed, shunt's open fd count returns to what it was,
# no socket of shunt's is left in CLOSE-WAIT, and MariaDB has no leftover
# session of the test user.
. "$(dirname "$0")/lib.sh"
e2e_init sessions
mariadb_ensure
shunt_start
N=${E2E_SESSIONS:-1000}

# Warm up (lazy allocations, worker threads); not a check.
"$E2E_CLIENT_BIN" 127.0.0.1 "$SHUNT_PORT" "$E2E_USER" "$E2E_PASS" "$E2E_DB" sessions 20 >/dev/null 2>&1 ||
	fail warmup "20 warm-up sessions failed"
sleep 0.5
fd0=$( [ -n "$SHUNT_PID" ] && fd_count "$SHUNT_PID" )
be0=$(backend_sessions)
rss0=$( [ -n "$SHUNT_PID" ] && awk '/VmRSS/ {print $2}' "/proc/$SHUNT_PID/status")

client sessions "$N"

fd_back() { [ "$(fd_count "$SHUNT_PID")" -le "$fd0" ]; }
be_back() { [ "$(backend_sessions)" -le "$be0" ]; }
if is_direct; then
	skip fd_stable "E2E_DIRECT=1: no shunt process"
	skip no_close_wait "E2E_DIRECT=1: no shunt process"
else
	wait_until 5 fd_back
	fd1=$(fd_count "$SHUNT_PID")
	check fd_stable "shunt open fds: $fd0 before, $fd1 after $N sessions" [ "$fd1" -le "$fd0" ]
	cw=$(close_wait_count "$SHUNT_PID")
	check no_close_wait "ss -tanp: $cw CLOSE-WAIT sockets of pid $SHUNT_PID" [ "$cw" = 0 ]
	rss1=$(awk '/VmRSS/ {print $2}' "/proc/$SHUNT_PID/status")
	info "shunt RSS ${rss0} kB before, ${rss1} kB after $N sessions"
fi
wait_until 5 be_back
be1=$(backend_sessions)
check backend_sessions "MariaDB sessions of $E2E_USER: $be0 before, $be1 after" [ "$be1" -le "$be0" ]
e2e_finish
