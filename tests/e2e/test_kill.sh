#!/usr/bin/env bash
# test_kill.sh — KILL and Ctrl-C as clients expect them through shunt.
# Clients see shunt's connection id; shunt maps it to the session's
# backend thread and kills there on its own connection:
#   - the mariadb client's Ctrl-C (it sends KILL QUERY <id> on a second
#     connection): SELECT SLEEP(30) ends with 1317 within a second;
#   - PyMySQL (tests/e2e/kill_check.py): KILL QUERY returns at once, the
#     victim gets 1317 and its session keeps working on the same backend
#     thread; KILL and COM_PROCESS_KILL close the victim; 1095 for another
#     user's session, 1094 for an unknown id, 1927 for one's own connection.
# With --fastpath on the KILL is punted by the BPF program and answered by
# user space; every session must still have been carried by the kernel.
. "$(dirname "$0")/lib.sh"
e2e_init kill
mariadb_ensure
shunt_start

# The mariadb client's Ctrl-C.
t0=$(date +%s%N)
mariadb --no-defaults -h127.0.0.1 -P"$SHUNT_PORT" -u"$E2E_USER" -p"$E2E_PASS" \
	-e 'SELECT SLEEP(30)' >"$E2E_TMP/ctrlc.out" 2>&1 &
cli_pid=$!
sleep_running() { [ "$(sql_root -e "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO = 'SELECT SLEEP(30)'")" -ge 1 ]; }
wait_until 10 sleep_running || fail ctrl_c_setup "SELECT SLEEP(30) never showed in MariaDB's processlist"
t_int=$(date +%s%N)
kill -INT "$cli_pid"
wait "$cli_pid"; rc=$?
ms=$(( ($(date +%s%N) - t_int) / 1000000 ))
out=$(tr '\n' ' ' <"$E2E_TMP/ctrlc.out")
check ctrl_c "mariadb got SIGINT during SELECT SLEEP(30): exit $rc $ms ms later: $out" \
	eval '[ "$rc" = 1 ] && [ "$ms" -lt 1000 ] && grep -q "ERROR 1317" "$E2E_TMP/ctrlc.out"'
if is_direct; then
	skip ctrl_c_logged "E2E_DIRECT=1: no shunt log to read"
else
	check ctrl_c_logged "shunt logged the KILL QUERY and the backend thread it killed" \
		grep -q "KILL QUERY: killing backend thread" "$SHUNT_LOG"
fi

run_checks kill_check "$PY" "$(dirname "$0")/kill_check.py" "$SHUNT_PORT" "$E2E_USER" "$E2E_PASS" \
	shunt_other other_pw
e2e_finish
