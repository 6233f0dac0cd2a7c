#!/usr/bin/env bash
# test_change_user.sh — COM_CHANGE_USER through shunt. The client's token is
# computed over shunt's scramble, so shunt must verify it and send the
# backend a token for the backend's scramble:
#   - change to another user: CURRENT_USER() and its privileges follow, the
#     schema given in the command is selected;
#   - change back to the first user works too;
#   - a wrong password gets ERR 1045 (28000) and the session ends;
#   - the same with a classic-EOF and a DEPRECATE_EOF client.
. "$(dirname "$0")/lib.sh"
e2e_init change_user
mariadb_ensure
shunt_start
RAW=("$PY" "$(dirname "$0")/rawclient.py" --port "$SHUNT_PORT" --user "$E2E_USER" --password "$E2E_PASS")

for style in classic deprecate_eof; do
	flag=
	[ $style = deprecate_eof ] && flag=--deprecate-eof
	out=$("${RAW[@]}" $flag "SELECT CURRENT_USER()" "\\change_user shunt_other other_pw $E2E_DB" \
		"SELECT CURRENT_USER(), DATABASE()" "SELECT COUNT(*) FROM mysql.user" \
		"\\change_user $E2E_USER $E2E_PASS" "SELECT CURRENT_USER(), DATABASE()" 2>&1)
	res=$("$PY" - "$out" "$E2E_USER" "$E2E_DB" <<'PY'
import json, sys
try:
    d = json.loads(sys.argv[1])
except Exception:
    print("FAIL client failed: " + sys.argv[1][-300:]); sys.exit()
user, db = sys.argv[2], sys.argv[3]
r, st = d["rows"], d["status"]
p = []
if r[0] != [[user + "@%"]] and r[0] != [[user + "@localhost"]]: p.append("first user %r" % r[0])
if st[1] < 0: p.append("change to shunt_other answered ERR %d" % -st[1])
if r[2] != [["shunt_other@%", db]]: p.append("after change: %r" % r[2])
if st[3] != -1142: p.append("shunt_other reading mysql.user: %r (expected ERR 1142)" % st[3])
if st[4] < 0: p.append("change back answered ERR %d" % -st[4])
if r[5] and r[5][0][0] not in (user + "@%", user + "@localhost"): p.append("after change back: %r" % r[5])
print("FAIL " + "; ".join(p) if p else "PASS %s -> shunt_other (db %s, no SELECT on mysql.user: 1142) -> %s" % (r[0][0][0], db, r[5][0][0]))
PY
)
	case $res in
	PASS*) pass "switch_$style" "${res#PASS }" ;;
	*) fail "switch_$style" "${res#FAIL }" ;;
	esac
done

code=$("$PY" - "$SHUNT_PORT" "$E2E_USER" "$E2E_PASS" "$(dirname "$0")/rawclient.py" <<'PY'
import importlib.util, sys
spec = importlib.util.spec_from_file_location("raw", sys.argv[4]); raw = importlib.util.module_from_spec(spec); spec.loader.exec_module(raw)
c = raw.Conn("127.0.0.1", int(sys.argv[1]))
_, caps, scramble = raw.login(c, sys.argv[2], sys.argv[3], False)
_, st = raw.change_user(c, "shunt_other not-the-password", scramble, caps)
try:
    raw.query(c, "SELECT 1", caps)
    after = "still open"
except (EOFError, ConnectionError, OSError):
    after = "closed"
print(st, after)
PY
)
check wrong_password "change-user with a wrong password -> status ${code%% *} (expected -1045), then the session is ${code#* }" \
	[ "$code" = "-1045 closed" ]
e2e_finish
