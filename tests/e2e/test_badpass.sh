#!/usr/bin/env bash
# test_badpass.sh — authentication failures with the mariadb CLI: wrong
# password, unknown user and no password give "ERROR 1045 (28000)" and exit
# status 1; the right password still works; a user given to shunt as the
# mysql.user hash (NAME:*HEX) logs in too. A user name that carries a
# newline and a fake log line is refused like any other, and shunt's log
# shows it escaped on the refusal's own line: no forged line.
. "$(dirname "$0")/lib.sh"
e2e_init badpass
mariadb_ensure
shunt_start
P=$SHUNT_PORT
P_LOG=$SHUNT_LOG

denied() {  # denied NAME USER PASS-ARGS...
	local name=$1 user=$2 out rc; shift 2
	out=$(mariadb --no-defaults -h127.0.0.1 -P"$P" -u"$user" "$@" -e 'SELECT 1' 2>&1 </dev/null); rc=$?
	case $out in
	"ERROR 1045 (28000): Access denied for user '$user'@"*) check "$name" "exit $rc, '$out'" [ "$rc" = 1 ] ;;
	*) fail "$name" "expected exit 1 and ERROR 1045 (28000) Access denied, got exit $rc: '$out'" ;;
	esac
}
denied wrong_password "$E2E_USER" -p"${E2E_PASS}x"
denied unknown_user no_such_user_e2e -pwhatever
denied no_password "$E2E_USER"

out=$(cli "$P" -N -B -e 'SELECT CURRENT_USER()' 2>&1)
check right_password "after the failures, the right password -> CURRENT_USER() '$out'" \
	[ "$out" = "$E2E_USER@%" ]

# The second test user (SELECT only on the test db) keeps its own grants.
out=$(mariadb --no-defaults -h127.0.0.1 -P"$P" -ushunt_other -pother_pw -N -B \
	-e "CREATE DATABASE nope_e2e" 2>&1 </dev/null); rc=$?
out=$(grep "^ERROR" <<<"$out")
case $out in
*"ERROR 1044 (42000)"*) check other_user_grants "shunt_other cannot CREATE DATABASE: '$out'" [ "$rc" = 1 ] ;;
*) fail other_user_grants "expected ERROR 1044, got exit $rc: '$out'" ;;
esac

# shunt given the stage-2 hash instead of the password.
if is_direct; then
	skip hashed_user "E2E_DIRECT=1: no shunt user table"
else
	hash=$(sql_root -e "SELECT PASSWORD('$E2E_PASS')")
	HPORT=$(free_port)
	shunt_spawn "$HPORT" --listen "127.0.0.1:$HPORT" --backend "127.0.0.1:$MYSQL_PORT" \
		--user "$E2E_USER:$hash" || die "shunt with a hashed user did not start" hashed_user
	out=$(cli "$HPORT" -N -B -e 'SELECT 42' 2>&1)
	check hashed_user "--user $E2E_USER:${hash:0:9}... then login -> '$out'" [ "$out" = 42 ]
	out=$(mariadb --no-defaults -h127.0.0.1 -P"$HPORT" -u"$E2E_USER" -pnope -e 'SELECT 1' 2>&1 </dev/null)
	case $out in
	"ERROR 1045 (28000)"*) pass hashed_user_wrong "wrong password against the hash -> '$out'" ;;
	*) fail hashed_user_wrong "expected ERROR 1045 (28000), got '$out'" ;;
	esac
fi
# Log injection: the name is the client's, the log line is shunt's.
FORGED="2026-12-02T10:00:00.000Z INFO conn=1 user=root"   # fits a 63-byte name
got=$("$PY" - "$P" "$FORGED" <<'PY' 2>&1
import sys
sys.path.insert(0, "tests/e2e")
import rawclient
c = rawclient.Conn("127.0.0.1", int(sys.argv[1]))
try:
    rawclient.login(c, "evil\n" + sys.argv[2] + "\r", "x", False)
    print("logged in")
except RuntimeError as e:
    print("refused" if "\\xff" in repr(e) or "login failed" in str(e) else "other: %s" % e)
PY
)
for _ in $(seq 1 20); do          # the refusal's line, once written
	escaped=$(grep -cF "evil\\x0a$FORGED\\x0d'" "$P_LOG")
	[ "$escaped" -ge 1 ] && break
	sleep 0.1
done
forged=$(grep -c "^$FORGED" "$P_LOG")
check log_injection "a user name with a newline and a fake line -> $got; forged lines in the log: $forged, the name escaped on the refusal's line: $escaped" \
	[ "$got" = refused -a "$forged" = 0 -a "$escaped" -ge 1 ]
e2e_finish
