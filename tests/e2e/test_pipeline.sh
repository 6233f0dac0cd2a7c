#!/usr/bin/env bash
# test_pipeline.sh — a command shunt must see (COM_CHANGE_USER, a KILL) is
# never forwarded to the backend as it is: not when it is pipelined behind
# another command in the same segment, not when its header is split across
# segments, not behind a long comment, not inside an executable comment.
# pipeline_check.py says what each case sends. Without the fix a pipelined
# change-user logs the client in as a backend account shunt does not list
# (here one with an empty password), and a pipelined KILL of the client's
# own backend thread id kills its connection (1927) instead of being read
# as a shunt id (1094).
. "$(dirname "$0")/lib.sh"
e2e_init pipeline
mariadb_ensure
sql_root -e "CREATE USER IF NOT EXISTS 'shunt_sneak'@'%' IDENTIFIED BY ''; GRANT USAGE ON *.* TO 'shunt_sneak'@'%';" ||
	die "cannot create the backend-only account"
shunt_start
PC=("$PY" "$(dirname "$0")/pipeline_check.py" "$SHUNT_PORT" "$E2E_USER" "$E2E_PASS")

run_case() {        # run_case NAME CASE [ARG] -> JSON in $out
	out=$("${PC[@]}" "$2" ${3:+"$3"} 2>&1)
	info "$1: $out"
}

judge() {           # judge NAME EXPECT(python expression over d) DESCRIPTION
	local res
	res=$("$PY" - "$out" "$2" <<'PY'
import json, sys
try:
    d = json.loads(sys.argv[1])
except Exception:
    print("FAIL client failed: " + sys.argv[1][-300:]); sys.exit()
print("PASS" if eval(sys.argv[2]) else "FAIL got " + json.dumps(d["answers"]) + (" closed" if d["closed"] else " open") + (" as " + d["current_user"] if "current_user" in d else ""))
PY
)
	case $res in
	PASS*) pass "$1" "$3" ;;
	*) fail "$1" "${res#FAIL } (expected: $3)" ;;
	esac
}

# The kernel program still forwards a command it must punt when it is
# pipelined behind another (it counts it in punt_missed): fixing that is
# the hardening issue's work, so those cases say so here rather than fail.
pipelined_gap() {
	[ "${E2E_FASTPATH:-off}" = on ] &&
		skip "$1" "kernel carrier: a pipelined command the program must punt is still forwarded (punt_missed); not fixed yet in the BPF program"
}
kills=0
for c in change_user change_user_split; do
	pipelined_gap "$c" && continue
	run_case "$c" "$c" shunt_sneak
	judge "$c" 'd["answers"][0][0] == "ok" and d["answers"][1][:2] == ["err", 1045] and d["closed"]' \
		"DO 1 -> OK, the change-user to a backend-only account -> ERR 1045 from shunt, session closed"
done
for c in kill_query kill_cmd kill_comment kill_versioned; do
	case $c in kill_query | kill_cmd) pipelined_gap "$c" && continue ;; esac
	kills=$((kills + 1))
	run_case "$c" "$c"
	judge "$c" 'd["answers"][-1][:2] == ["err", 1094] and str(d["backend_id"]) in d["answers"][-1][2] and all(a[0] == "ok" for a in d["answers"][:-1]) and not d["closed"]' \
		"the KILL of the client's own backend thread id is read as a shunt id: ERR 1094, the session lives on"
done
# Commands sent in the same write as the login packet, before the OK: the
# session starts with them (in kernel mode it is relayed, since they were
# read in user space: one fallback each, counted as "queued").
run_case after_login after_login
judge after_login 'd["answers"] == [["rows", ["42"]], ["rows", ["two"]]] and not d["closed"]' \
	"SELECT 42 and SELECT 'two' pipelined behind the login packet -> both answered after the OK"
run_case after_login_change_user after_login_change_user shunt_sneak
judge after_login_change_user 'd["answers"][0][:2] == ["err", 1045] and d["closed"]' \
	"the change-user to a backend-only account pipelined behind the login -> ERR 1045 from shunt, session closed"
E2E_EXPECT_FALLBACKS=2
n=$(grep -c "KILL [0-9]* from the client" "$SHUNT_LOG")
check kill_logged "shunt logged $n of the $kills KILLs as its own (\"KILL N from the client\")" [ "$n" -ge "$kills" ]
if [ "${E2E_FASTPATH:-off}" != on ]; then
	n=$(grep -c "shunt_sneak" "$SHUNT_LOG")
	check refusal_logged "shunt logged the refused change-user to shunt_sneak ($n lines)" [ "$n" -ge 3 ]
else
	n=$(grep -c "shunt_sneak" "$SHUNT_LOG")
	check refusal_logged "shunt logged the refused change-user pipelined behind the login ($n lines; the other change-user cases were skipped in the kernel carrier)" [ "$n" -ge 1 ]
fi
e2e_finish
