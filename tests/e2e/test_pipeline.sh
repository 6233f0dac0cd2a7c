#!/usr/bin/env bash
# test_pipeline.sh — a command shunt must see (COM_CHANGE_USER, a KILL) is
# never forwarded to the backend as it is: not when it is pipelined behind
# another command in the same segment, not when its header is split across
# segments, not behind a long comment, not inside an executable comment,
# in either carrier (the kernel program holds such bytes for user space,
# which frames every held packet).
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

kills=0
for c in change_user change_user_split; do
	run_case "$c" "$c" shunt_sneak
	judge "$c" 'd["answers"][0][0] == "ok" and d["answers"][1][:2] == ["err", 1045] and d["closed"]' \
		"DO 1 -> OK, the change-user to a backend-only account -> ERR 1045 from shunt, session closed"
done
run_case change_user_behind_slow change_user_behind_slow shunt_sneak
judge change_user_behind_slow 'd["answers"][0][0] == "ok" and d["answers"][1][:2] == ["err", 1045] and d["closed"]' \
	"DO SLEEP(0.3), then (while it runs) the change-user to a backend-only account -> OK, then ERR 1045 from shunt, session closed"
for c in kill_query kill_cmd kill_comment kill_versioned kill_behind_slow kill_after_forwarded; do
	kills=$((kills + 1))
	run_case "$c" "$c"
	judge "$c" 'd["answers"][-1][:2] == ["err", 1094] and str(d["backend_id"]) in d["answers"][-1][2] and all(a[0] == "ok" for a in d["answers"][:-1]) and not d["closed"]' \
		"the KILL of the client's own backend thread id is read as a shunt id: ERR 1094, the session lives on"
done
kills=$((kills + 2))
run_case kill_twice kill_twice
judge kill_twice 'd["answers"][0][0] == "ok" and [a[:2] for a in d["answers"][1:]] == [["err", 1094]] * 2 and not d["closed"]' \
	"DO 1 and the same KILL twice in one write -> OK, ERR 1094, ERR 1094 in order, the session lives on"
# Commands sent in the same write as the login packet, before the OK: the
# session starts with them (in kernel mode it is relayed, since they were
# read in user space: one fallback each, counted as "queued").
run_case after_login after_login
judge after_login 'd["answers"] == [["rows", ["42"]], ["rows", ["two"]]] and not d["closed"]' \
	"SELECT 42 and SELECT 'two' pipelined behind the login packet -> both answered after the OK"
run_case big_prepare big_prepare
judge big_prepare 'd["answers"] == [["prepared", 1, 1], ["rows", ["big"]]] and not d["closed"]' \
	"a 2.5 MB prepare and a 2.5 MB query starting with a comment -> answered as MariaDB answers them"
run_case after_login_change_user after_login_change_user shunt_sneak
judge after_login_change_user 'd["answers"][0][:2] == ["err", 1045] and d["closed"]' \
	"the change-user to a backend-only account pipelined behind the login -> ERR 1045 from shunt, session closed"
E2E_EXPECT_FALLBACKS=2
n=$(grep -c "KILL [0-9]* from the client" "$SHUNT_LOG")
check kill_logged "shunt logged $n of the $kills KILLs as its own (\"KILL N from the client\")" [ "$n" -ge "$kills" ]
n=$(grep -c "shunt_sneak" "$SHUNT_LOG")
check refusal_logged "shunt logged the refused change-user to shunt_sneak ($n lines)" [ "$n" -ge 4 ]
e2e_finish
