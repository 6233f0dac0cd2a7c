#!/usr/bin/env bash
# test_admin.sh — the SQL admin port (--admin, --admin-user), driven by the
# real mariadb client:
#   - login: the admin account gets in; a wrong password, an unknown user,
#     no password and a proxy user get 1045 (28000) Access denied;
#   - SELECT @@version_comment, SHOW HELP / HELP, COM_PING, COM_INIT_DB; a
#     command the port does not speak (COM_STMT_PREPARE) gets 1047;
#   - every result set's column names and types (--column-type-info):
#     integers LONGLONG, strings VAR_STRING, booleans TINY;
#   - SHOW BACKENDS / SHOW STATS follow real sessions through the proxy;
#   - ADD BACKEND (a second address: an HAProxy TCP forwarder to the same
#     MariaDB) takes the next session; SET ... STATE draining / offline keeps
#     new sessions off it, STATE online + WEIGHT bring them back; REMOVE
#     makes it disappear while a session on it carries on to its end; a
#     dead backend added at run time is failed over;
#   - SHOW TUNNELS / SHOW [FULL] PROCESSLIST list a live session with the
#     backend thread id MariaDB itself reports, its db, its transaction, its
#     mode (kernel or user), and a client that has not logged in yet;
#   - KILL QUERY ends only the running statement; KILL [CONNECTION] closes
#     the session (the client sees the connection lost, the row goes away),
#     also one that never logged in;
#   - every error: syntax (1064 42000, naming what was expected), unknown
#     statement, unknown backend/pool, duplicate add, bad weight, bad state
#     (1064 or 1105 HY000), KILL of an unknown id (1094);
#   - RELOAD CONFIG of a shunt started with -c FILE: a broken file is refused
#     with its FILE:LINE messages and the running configuration stays; a
#     change that needs a restart is refused; a fixed file with a new
#     backend, a new user and a new admin password takes effect; RELOAD
#     CONFIG of a shunt configured by flags alone keeps it as it is.
#   - regressions: a statement pipelined behind a KILL is answered, and an
#     idle admin connection outlives the 10 s login timeout.
. "$(dirname "$0")/lib.sh"
e2e_init admin
mariadb_ensure
if is_direct; then
	skip all "E2E_DIRECT=1: there is no admin port without shunt"
	e2e_finish
fi

ADMIN_PORT=$(free_port) || die "no free port"
shunt_start --admin "127.0.0.1:$ADMIN_PORT" --admin-user admin:adminpw
wait_port "$ADMIN_PORT" 10 "$SHUNT_PID" || die "the admin port 127.0.0.1:$ADMIN_PORT did not open"
MAIN=127.0.0.1:$MYSQL_PORT

case ${E2E_FASTPATH:-} in
on) WANT_MODE=kernel ;;
off) WANT_MODE=user ;;
*) WANT_MODE= ;;
esac

# ---------------------------------------------------------------- helpers

# verdict RC NAME DETAIL: PASS when RC is 0 (for [[ ]] tests, which check
# cannot run: "[[ ...; verdict $? name detail").
verdict() { if [ "$1" = 0 ]; then pass "$2" "$3"; else fail "$2" "$3"; fi; }

# adm_on PORT PASSWORD [mariadb args...]: the admin account, batch mode, no
# column names; stderr (the ERROR line) included.
adm_on() {
	local port=$1 pw=$2; shift 2
	mariadb --no-defaults -h127.0.0.1 -P"$port" -uadmin -p"$pw" -N -B "$@" 2>&1
}
adm() { adm_on "$ADMIN_PORT" adminpw "$@"; }
# adm_err SQL: the ERROR line a statement gets, without "at line 1"; empty
# when it succeeded.
adm_err() { adm -e "$1" | grep -m1 '^ERROR' | sed 's/ at line 1:/:/'; }
# expect_err NAME SQL WANT: SQL fails with exactly the ERROR line WANT.
expect_err() {
	local name=$1 sql=$2 want=$3 got
	got=$(adm_err "$sql")
	check "$name" "$sql -> ${got:-no error} (expected: $want)" [ "$got" = "$want" ]
}
# expect_ok NAME SQL: SQL succeeds (exit 0, no output).
expect_ok() {
	local name=$1 sql=$2 out rc
	out=$(adm -e "$sql"); rc=$?
	check "$name" "$sql -> exit $rc${out:+: $out}" [ "$rc" = 0 -a -z "$out" ]
}
SYN="You have an error in your admin statement"
HELPTAIL="(SHOW HELP lists the statements)"

# brow ADDR: ADDR's row of SHOW BACKENDS (tab-separated); bcol ADDR N: its
# column N (1 pool, 2 address, 3 weight, 4 state, 5 admin_state, 6 health,
# 7 sessions, 8 sessions_total, 9 connect_failures, ...).
brow() { adm -e "SHOW BACKENDS" | awk -F'\t' -v a="$1" '$2 == a'; }
bcol() { brow "$1" | cut -f"$2"; }
# stat NAME: one value of SHOW STATS.
stat() { adm -e "SHOW STATS" | awk -F'\t' -v n="$1" '$1 == n { print $2 }'; }
# types SQL: "name:TYPE ..." of a result set, from --column-type-info.
types() {
	mariadb --no-defaults -h127.0.0.1 -P"$ADMIN_PORT" -uadmin -padminpw --column-type-info -t \
		-e "$1" 2>&1 | awk '/^Field/ { gsub(/`/, "", $3); n = $3 } /^Type:/ { printf "%s%s:%s", s, n, $2; s = " " }'
}
# header SQL: the column names line of a (non-empty) result set.
header() { mariadb --no-defaults -h127.0.0.1 -P"$ADMIN_PORT" -uadmin -padminpw -B -e "$1" 2>&1 | head -1 | tr '\t' ' '; }
# one_session: a short session through shunt; prints what it selected.
one_session() { cli "$SHUNT_PORT" -N -B -e "SELECT 'via-shunt'" 2>&1; }
# maria_id SQL: MariaDB's own id of the session running exactly SQL.
maria_id() { sql_root -e "SELECT ID FROM information_schema.PROCESSLIST WHERE INFO = '$1'"; }
running() { [ -n "$(maria_id "$1")" ]; }
# tunnel_of BTID: the SHOW TUNNELS row whose backend_thread_id is BTID.
tunnel_of() { adm -e "SHOW TUNNELS" | awk -F'\t' -v b="$1" '$7 == b'; }
# tunnel_col ID N: column N of session ID's SHOW TUNNELS row.
tunnel_col() { adm -e "SHOW TUNNELS" | awk -F'\t' -v i="$1" -v c="$2" '$1 == i { print $c }'; }
has_tunnel() { adm -e "SHOW TUNNELS" | awk -F'\t' -v i="$1" '$1 == i { f = 1 } END { exit !f }'; }
no_tunnel() { ! has_tunnel "$1"; }
any_tunnel() { [ -n "$(adm -e "SHOW TUNNELS")" ]; }
# Sessions end asynchronously: wait until nothing is active on ADDR.
idle_backend() { [ "$(bcol "$1" 7)" = 0 ]; }

# regression NAME OK DETAIL: PASS when OK is "yes", else FAIL.
regression() { if [ "$2" = yes ]; then pass "$1" "$3"; else fail "$1" "$3"; fi; }

# An authenticated admin connection left idle for longer than the 10 s login
# timeout must stay usable (checked at the end; runs meanwhile).
"$PY" - "$ADMIN_PORT" "$(dirname "$0")/rawclient.py" >"$E2E_TMP/idle.out" 2>&1 <<'PY' &
import importlib.util, sys, time
spec = importlib.util.spec_from_file_location("raw", sys.argv[2]); raw = importlib.util.module_from_spec(spec); spec.loader.exec_module(raw)
c = raw.Conn("127.0.0.1", int(sys.argv[1]))
raw.login(c, "admin", "adminpw", False)
time.sleep(12)
try:
    c.send_packet(0, b"\x0e")                    # COM_PING
    _, p = c.read_packet()
    print("alive" if p[:1] == b"\x00" else "answered %r" % p[:20])
except (EOFError, OSError) as e:
    print("closed (%s)" % e)
PY
IDLE_PID=$!
bg_track "$IDLE_PID"

# ---------------------------------------------------------------- login

got=$(adm -e "SELECT @@version_comment")
[[ "$got" == "shunt admin "* ]]; verdict $? version_comment "SELECT @@version_comment -> '$got'"
got=$(adm -e "select @@version_comment limit 1;")
[[ "$got" == "shunt admin "* ]]; verdict $? version_comment_limit "select @@version_comment limit 1; -> '$got'"

got=$(adm_on "$ADMIN_PORT" wrongpw -e "SHOW STATS" | head -1)
check bad_password "wrong password -> $got" \
	[ "$got" = "ERROR 1045 (28000): Access denied for user 'admin'@'127.0.0.1' (using password: YES)" ]
got=$(mariadb --no-defaults -h127.0.0.1 -P"$ADMIN_PORT" -unobody -padminpw -e "SHOW STATS" 2>&1 | head -1)
check bad_user "unknown user -> $got" \
	[ "$got" = "ERROR 1045 (28000): Access denied for user 'nobody'@'127.0.0.1' (using password: YES)" ]
got=$(mariadb --no-defaults -h127.0.0.1 -P"$ADMIN_PORT" -uadmin -e "SHOW STATS" 2>&1 | head -1)
check no_password "no password -> $got" \
	[ "$got" = "ERROR 1045 (28000): Access denied for user 'admin'@'127.0.0.1' (using password: NO)" ]
got=$(cli "$ADMIN_PORT" -e "SHOW STATS" 2>&1 | head -1)
check proxy_user "proxy user $E2E_USER on the admin port -> $got" \
	[ "$got" = "ERROR 1045 (28000): Access denied for user '$E2E_USER'@'127.0.0.1' (using password: YES)" ]

got=$(mariadb-admin --no-defaults -h127.0.0.1 -P"$ADMIN_PORT" -uadmin -padminpw ping 2>&1)
check ping "mariadb-admin ping (COM_PING) -> $got" [ "$got" = "mysqld is alive" ]
got=$(adm -e "USE anything; SHOW STATS" | head -1 | cut -f1)
check init_db "USE anything (COM_INIT_DB); SHOW STATS -> first row '$got'" [ "$got" = sessions_total ]
got=$("$PY" - "$ADMIN_PORT" "$(dirname "$0")/rawclient.py" <<'PY' 2>&1
import importlib.util, struct, sys
spec = importlib.util.spec_from_file_location("raw", sys.argv[2]); raw = importlib.util.module_from_spec(spec); spec.loader.exec_module(raw)
c = raw.Conn("127.0.0.1", int(sys.argv[1]))
raw.login(c, "admin", "adminpw", False)
c.send_packet(0, b"\x16SELECT 1")                 # COM_STMT_PREPARE
_, p = c.read_packet()
code = struct.unpack("<H", p[1:3])[0] if p[:1] == b"\xff" else -1
c.send_packet(0, b"\x03SHOW STATS")               # the connection goes on
_, p2 = c.read_packet()
print(code, p[4:9].decode(), p[9:].decode(), "then", "result" if p2[:1] == b"\x02" else repr(p2[:10]))
PY
)
check unsupported_command "COM_STMT_PREPARE -> $got" [ "$got" = "1047 08S01 Unknown command then result" ]

# ---------------------------------------------------------------- help, names, types

help=$(adm -e "SHOW HELP")
nhelp=$(grep -c . <<<"$help")
nknown=$(grep -c -e '^KILL \[CONNECTION|QUERY\] id	' -e '^RELOAD CONFIG	' \
	-e "^ADD BACKEND 'host:port' TO POOL p \[WEIGHT n\]	" -e "^MIGRATE id \[TO 'host:port'\]	" <<<"$help")
check show_help "SHOW HELP -> $nhelp rows: $(cut -f1 <<<"$help" | tr '\n' '|')" \
	[ "$nhelp" = 11 -a "$(cut -f1 <<<"$help" | head -1)" = "SHOW BACKENDS" -a "$nknown" = 4 ]
# The mariadb client takes a statement starting with "help" as its own
# command: a comment in front, kept with --comments, makes it send HELP.
check help_alias "/* */ HELP; gives the same rows as SHOW HELP" [ "$(adm --comments -e "/* */ HELP;")" = "$help" ]

got=$(one_session)
check first_session "a session through shunt -> '$got'" [ "$got" = via-shunt ]
wait_until 5 idle_backend "$MAIN"

row=$(brow "$MAIN" | tr '\t' ' ')
nb=$(adm -e "SHOW BACKENDS" | grep -c .)
check show_backends "SHOW BACKENDS -> $nb row(s): $row" \
	[ "$nb" = 1 -a "$(cut -d' ' -f1-10 <<<"$row")" = "default $MAIN 1 online online up 0 1 0 0" \
	-a "$(cut -d' ' -f12 <<<"$row")" = NULL ]
ts=$(bcol "$MAIN" 11)
[[ "$ts" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$ ]]
verdict $? health_checked_at "health_checked_at after a good login -> '$ts'"

stats=$(adm -e "SHOW STATS")
bad=$(awk -F'\t' 'NF != 2 || $2 !~ /^[0-9]+$/' <<<"$stats")
dups=$(cut -f1 <<<"$stats" | sort | uniq -d)
missing=
for n in sessions_total sessions_now logins_ok logins_failed established sessions_kernel fallbacks \
	relay_bytes_c2s kills_ok kills_failed reloads_ok reloads_failed uptime_s; do
	grep -q "^$n	" <<<"$stats" || missing+=" $n"
done
check stats_rows "SHOW STATS: $(grep -c . <<<"$stats") name/value rows${missing:+, missing:$missing}${bad:+, bad rows: $bad}${dups:+, duplicates: $dups}" \
	[ -z "$missing$bad$dups" ]
sk=$(stat sessions_kernel)
[[ "$(stat sessions_total)" = 1 && "$(stat logins_ok)" = 1 && "$(stat established)" = 1 &&
	"$(stat sessions_now)" = 0 && "$(stat kills_ok)" = 0 &&
	( -z "$WANT_MODE" || "$WANT_MODE/$sk" = kernel/1 || "$WANT_MODE/$sk" = user/0 ) ]]
verdict $? stats_values "after one session: sessions_total=$(stat sessions_total) logins_ok=$(stat logins_ok) established=$(stat established) sessions_now=$(stat sessions_now) kills_ok=$(stat kills_ok) sessions_kernel=$sk (mode ${WANT_MODE:-any})"

check header_backends "SHOW BACKENDS columns: $(header "SHOW BACKENDS")" [ "$(header "SHOW BACKENDS")" = \
	"pool address weight state admin_state health sessions sessions_total connect_failures consecutive_failures health_checked_at health_error" ]
check header_stats "SHOW STATS columns: $(header "SHOW STATS")" [ "$(header "SHOW STATS")" = "name value" ]
want="pool:VAR_STRING address:VAR_STRING weight:LONGLONG state:VAR_STRING admin_state:VAR_STRING health:VAR_STRING sessions:LONGLONG sessions_total:LONGLONG connect_failures:LONGLONG consecutive_failures:LONGLONG health_checked_at:VAR_STRING health_error:VAR_STRING"
got=$(types "SHOW BACKENDS")
check types_backends "SHOW BACKENDS types: $got" [ "$got" = "$want" ]
got=$(types "SHOW STATS")
check types_stats "SHOW STATS types: $got" [ "$got" = "name:VAR_STRING value:LONGLONG" ]
got=$(types "SHOW HELP")
check types_help "SHOW HELP types: $got" [ "$got" = "statement:VAR_STRING description:VAR_STRING" ]
got=$(types "SELECT @@version_comment")
check types_version "SELECT @@version_comment types: $got" [ "$got" = "@@version_comment:VAR_STRING" ]

# ---------------------------------------------------------------- backends at run time

FWD_PORT=$(free_port) || die "no free port"
tcp_forward "$FWD_PORT" "$MYSQL_PORT" || die "the HAProxy forwarder did not start"
FWD=127.0.0.1:$FWD_PORT

expect_ok add_backend "ADD BACKEND '$FWD' TO POOL default WEIGHT 3"
row=$(brow "$FWD" | cut -f1-10 | tr '\t' ' ')
check add_listed "after ADD, SHOW BACKENDS lists: $row" [ "$row" = "default $FWD 3 online online up 0 0 0 0" ]
expect_err add_duplicate "ADD BACKEND '$FWD' TO POOL default" \
	"ERROR 1105 (HY000): backend $FWD is already in pool default"
expect_err add_duplicate_main "add backend \"$MAIN\" to pool default weight 2;" \
	"ERROR 1105 (HY000): backend $MAIN is already in pool default"
# The new backend has routed nothing yet: the next session goes there.
got=$(one_session)
wait_until 5 idle_backend "$FWD"
check add_routes "a session after ADD -> '$got'; sessions_total $FWD=$(bcol "$FWD" 8) (expected 1), $MAIN=$(bcol "$MAIN" 8) (expected 1)" \
	[ "$got" = via-shunt -a "$(bcol "$FWD" 8)" = 1 -a "$(bcol "$MAIN" 8)" = 1 ]

expect_ok set_draining "SET BACKEND '$FWD' STATE draining"
row=$(brow "$FWD" | cut -f3-5 | tr '\t' ' ')
# The backend has no session left, so the balancer may already have ended
# its drain (draining -> offline) by the time it is listed.
check draining_listed "after STATE draining: weight/state/admin_state = $row" \
	[ "$row" = "3 draining draining" -o "$row" = "3 offline offline" ]
for i in 1 2 3; do one_session >/dev/null; done
wait_until 5 idle_backend "$MAIN"
check draining_routes "3 sessions while draining: sessions_total $FWD=$(bcol "$FWD" 8) (expected 1), $MAIN=$(bcol "$MAIN" 8) (expected 4)" \
	[ "$(bcol "$FWD" 8)" = 1 -a "$(bcol "$MAIN" 8)" = 4 ]

# Its one session has ended: the balancer finishes the drain by turning
# the backend offline (within a rebalance interval).
drained() { [ "$(brow "$FWD" | cut -f4-5 | tr '\t' ' ')" = "offline offline" ]; }
wait_until 10 drained
row=$(brow "$FWD" | cut -f3-7 | tr '\t' ' ')
check drained_offline "a draining backend with no sessions left: weight/state/admin_state/health/sessions = $row" \
	[ "$row" = "3 offline offline up 0" ]
expect_ok set_weight "set backend '$FWD' weight 7;"
row=$(brow "$FWD" | cut -f3-5 | tr '\t' ' ')
check weight_listed "after WEIGHT 7: weight/state/admin_state = $row" [ "$row" = "7 offline offline" ]
expect_ok set_both "SET BACKEND '$FWD' IN POOL default STATE online WEIGHT 2"
row=$(brow "$FWD" | cut -f3-5 | tr '\t' ' ')
check online_listed "after IN POOL default STATE online WEIGHT 2: $row" [ "$row" = "2 online online" ]
# This session stays open across STATE offline and REMOVE of its backend.
# Its temporary table makes it sticky: the planned failover that STATE
# offline starts cannot move it, so it stays where it is (and no
# migration lands on $MAIN to change the counts below).
LIVE_Q="SELECT SLEEP(6)"
printf "CREATE TEMPORARY TABLE $E2E_DB.keep_here (a INT);\n%s;\nSELECT 'still here';\n" "$LIVE_Q" | cli "$SHUNT_PORT" -N -B >"$E2E_TMP/live.out" 2>&1 &
LIVE_PID=$!
bg_track "$LIVE_PID"
wait_until 5 running "$LIVE_Q"
live_row=$(tunnel_of "$(maria_id "$LIVE_Q")")
live_id=$(cut -f1 <<<"$live_row")
check online_routes "a session after STATE online: on $(cut -f6 <<<"$live_row"); $FWD sessions/sessions_total=$(bcol "$FWD" 7)/$(bcol "$FWD" 8) (expected 1/2), $MAIN sessions_total=$(bcol "$MAIN" 8) (expected 4)" \
	[ "$(cut -f6 <<<"$live_row")" = "$FWD" -a "$(bcol "$FWD" 7)" = 1 -a "$(bcol "$FWD" 8)" = 2 -a "$(bcol "$MAIN" 8)" = 4 ]

expect_ok set_offline "SET BACKEND '$FWD' STATE offline"
row=$(brow "$FWD" | cut -f4-5 | tr '\t' ' ')
check offline_listed "after STATE offline: state/admin_state = $row" [ "$row" = "offline offline" ]
# The planned failover asks to move the live session (it waits in SHOW
# TUNNELS as migrating until its SLEEP ends).
asked() { [ "$(tunnel_col "$live_id" 19)" = 1 ]; }
wait_until 5 asked
check failover_asked "session $live_id on the offline backend: migrating=$(tunnel_col "$live_id" 19) (expected 1)" asked
# (No wait for $MAIN to go idle: the pending move of the live session
# counts on its target until it ends. sessions_total is counted when a
# session picks its backend, so it is settled once one_session returns.)
one_session >/dev/null
check offline_routes "a session while offline: sessions_total $FWD=$(bcol "$FWD" 8) (expected 2), $MAIN=$(bcol "$MAIN" 8) (expected 5)" \
	[ "$(bcol "$FWD" 8)" = 2 -a "$(bcol "$MAIN" 8)" = 5 ]

expect_ok remove_backend "REMOVE BACKEND '$FWD' FROM POOL default"
check remove_gone "after REMOVE, SHOW BACKENDS: $(adm -e "SHOW BACKENDS" | cut -f2 | tr '\n' ' ')" \
	[ -z "$(brow "$FWD")" -a -n "$(brow "$MAIN")" ]
# "no new sessions; current ones finish": the session on it goes on.
row=$(adm -e "SHOW TUNNELS" | awk -F'\t' -v i="$live_id" '$1 == i { print $5, $6 }')
wait "$LIVE_PID"; rc=$?
check remove_keeps_session "session $live_id after REMOVE of its backend: '$row'; then it ends with exit $rc: $(tr '\n' ' ' <<<"$(cat "$E2E_TMP/live.out")")" \
	[ "$row" = "established $FWD" -a "$rc" = 0 -a "$(tr '\n' ' ' <<<"$(cat "$E2E_TMP/live.out")")" = "0 still here " ]
# STATE offline asked for a planned failover of the live session; at its
# first safe point (after the SLEEP) shunt found the temporary table and
# left it alone, with a log line.
line=$(grep -m1 "conn=$live_id .*migration (failover) to $MAIN: sticky" "$SHUNT_LOG")
check failover_sticky "STATE offline tried to move session $live_id: ${line:-no such log line}" \
	grep -q "temporary-table" <<<"$line"
expect_err remove_again "REMOVE BACKEND '$FWD' FROM POOL default" \
	"ERROR 1105 (HY000): no backend $FWD in pool default"
expect_err remove_any_pool "REMOVE BACKEND '$FWD'" "ERROR 1105 (HY000): no backend $FWD in any pool"
expect_err set_unknown "SET BACKEND '$FWD' STATE online" "ERROR 1105 (HY000): no backend $FWD in any pool"
expect_err set_unknown_in_pool "SET BACKEND '$FWD' IN POOL default WEIGHT 5" \
	"ERROR 1105 (HY000): no backend $FWD in pool default"
got=$(one_session)
check removed_routes "a session after REMOVE -> '$got', on $MAIN (sessions_total $(bcol "$MAIN" 8), expected 6)" \
	[ "$got" = via-shunt -a "$(wait_until 5 idle_backend "$MAIN"; bcol "$MAIN" 8)" = 6 ]

# A backend nobody listens on: the session that picks it is failed over.
DEAD_PORT=$(free_port) || die "no free port"
DEAD=127.0.0.1:$DEAD_PORT
expect_ok add_dead "ADD BACKEND '$DEAD' TO POOL default"
got=$(one_session)
wait_until 5 idle_backend "$MAIN"
row=$(brow "$DEAD" | cut -f3,8,9 | tr '\t' ' ')
check dead_failover "a session with a dead backend added -> '$got'; $DEAD weight/sessions_total/connect_failures = $row (expected 1 1 1); $MAIN sessions_total $(bcol "$MAIN" 8) (expected 7)" \
	[ "$got" = via-shunt -a "$row" = "1 1 1" -a "$(bcol "$MAIN" 8)" = 7 ]
err=$(bcol "$DEAD" 12)
check dead_error "$DEAD health_error -> '$err'" [ -n "$err" -a "$err" != NULL ]
expect_ok drop_dead "DROP BACKEND '$DEAD'"
check drop_gone "after DROP BACKEND: $(adm -e "SHOW BACKENDS" | cut -f2 | tr '\n' ' ')" [ -z "$(brow "$DEAD")" ]

# ---------------------------------------------------------------- errors

expect_err err_syntax "SHOW FOO" \
	"ERROR 1064 (42000): $SYN near 'FOO': expected BACKENDS, TUNNELS, [FULL] PROCESSLIST, STATS or HELP $HELPTAIL"
expect_err err_unknown_statement "FROB the backends" \
	"ERROR 1064 (42000): $SYN near 'FROB the backends': expected SHOW, ADD, REMOVE, SET, KILL, MIGRATE or RELOAD $HELPTAIL"
expect_err err_select "SELECT 1" \
	"ERROR 1064 (42000): $SYN near '1': expected a statement of the admin port (only SELECT @@version_comment is understood) $HELPTAIL"
expect_err err_trailing "SHOW BACKENDS now" \
	"ERROR 1064 (42000): $SYN near 'now': expected the end of the statement $HELPTAIL"
expect_err err_unquoted "ADD BACKEND $FWD TO POOL default" \
	"ERROR 1064 (42000): $SYN near '$FWD TO POOL default': expected a quoted backend address such as '127.0.0.1:3306' $HELPTAIL"
expect_err err_missing_to "ADD BACKEND '$FWD' POOL default" \
	"ERROR 1064 (42000): $SYN near 'POOL default': expected TO $HELPTAIL"
expect_err err_unknown_pool "ADD BACKEND '$FWD' TO POOL nope" \
	"ERROR 1105 (HY000): no pool 'nope' (pools are fixed at start-up)"
expect_err err_unknown_pool_set "SET BACKEND '$MAIN' IN POOL nope STATE offline" \
	"ERROR 1105 (HY000): no pool 'nope' (pools are fixed at start-up)"
expect_err err_unknown_pool_remove "REMOVE BACKEND '$MAIN' FROM POOL nope" \
	"ERROR 1105 (HY000): no pool 'nope' (pools are fixed at start-up)"
expect_err err_bad_address "ADD BACKEND 'no-port-here' TO POOL default" \
	"ERROR 1105 (HY000): 'no-port-here': expected HOST:PORT or [IPV6]:PORT that resolves"
expect_err err_weight_big "ADD BACKEND '$FWD' TO POOL default WEIGHT 1001" \
	"ERROR 1064 (42000): $SYN near '1001': expected a weight from 1 to 1000 $HELPTAIL"
got=$(adm_err "SET BACKEND '$MAIN' WEIGHT 0")
[[ "$got" == "ERROR 1064 (42000): $SYN "*": expected a weight from 1 to 1000 $HELPTAIL" ]]
verdict $? err_weight_zero "SET BACKEND '$MAIN' WEIGHT 0 -> $got"
expect_err err_bad_state "SET BACKEND '$MAIN' STATE sleepy" \
	"ERROR 1064 (42000): $SYN near 'sleepy': expected online, draining or offline $HELPTAIL"
expect_err err_set_nothing "SET BACKEND '$MAIN'" \
	"ERROR 1064 (42000): $SYN at its end: expected STATE online|draining|offline or WEIGHT n $HELPTAIL"
expect_err err_kill_unknown "KILL 999999" "ERROR 1094 (HY000): Unknown thread id: 999999"
expect_err err_kill_query_unknown "KILL QUERY 999998" "ERROR 1094 (HY000): Unknown thread id: 999998"
expect_err err_kill_syntax "KILL USER bob" \
	"ERROR 1064 (42000): $SYN near 'USER bob': expected a session id $HELPTAIL"
expect_err err_reload_syntax "RELOAD" "ERROR 1064 (42000): $SYN at its end: expected CONFIG $HELPTAIL"
row=$(brow "$MAIN" | cut -f3-5 | tr '\t' ' ')
check errors_changed_nothing "after the refused statements $MAIN weight/state/admin_state = $row" \
	[ "$row" = "1 online online" -a "$(adm -e "SHOW BACKENDS" | grep -c .)" = 1 ]
# Case, comments and a trailing ';' (the client keeps /* */ comments with --comments).
got=$(adm --comments -e "/* hi */ sHoW bAcKeNdS /* there */;" | cut -f2)
check case_comments "/* hi */ sHoW bAcKeNdS /* there */; -> $got" [ "$got" = "$MAIN" ]

# ---------------------------------------------------------------- SHOW TUNNELS / PROCESSLIST

SLEEP_Q="SELECT SLEEP(4)"
printf 'BEGIN;\n%s;\nCOMMIT;\n' "$SLEEP_Q" | cli "$SHUNT_PORT" -N -B "$E2E_DB" >"$E2E_TMP/sleep.out" 2>&1 &
SLEEP_PID=$!
bg_track "$SLEEP_PID"
wait_until 5 running "$SLEEP_Q"
btid=$(maria_id "$SLEEP_Q")
row=$(tunnel_of "$btid")
IFS=$'\t' read -r t_id t_user t_client t_db t_state t_backend t_btid t_mode t_why t_intx t_sticky \
	t_cmds t_c2s t_s2c t_punts t_lat t_age t_migrations t_migrating <<<"$row"
check tunnels_row "SHOW TUNNELS row of MariaDB thread ${btid:-?}: $(tr '\t' ' ' <<<"$row")" \
	[ -n "$btid" -a -n "$row" -a "$(adm -e "SHOW TUNNELS" | grep -c .)" = 1 ]
[[ "$t_id" =~ ^[0-9]+$ && "$t_user" = "$E2E_USER" && "$t_client" == 127.0.0.1:* && "$t_db" = "$E2E_DB" &&
	"$t_state" = established && "$t_backend" = "$MAIN" && -n "$btid" && "$t_btid" = "$btid" ]]
verdict $? tunnels_fields "id=$t_id user=$t_user client=$t_client db=$t_db state=$t_state backend=$t_backend backend_thread_id=$t_btid (MariaDB says $btid)"
want_why=
[ "$WANT_MODE" = user ] && want_why="fast path off (configured)"
[ "$WANT_MODE" = kernel ] && want_why=NULL
[[ ( -z "$WANT_MODE" || "$t_mode" = "$WANT_MODE" ) && ( -z "$want_why" || "$t_why" = "$want_why" ) ]]
verdict $? tunnels_mode "mode=$t_mode mode_reason=$t_why (expected ${WANT_MODE:-any} ${want_why:-any})"
[[ "$t_intx" = 1 && "$t_cmds" =~ ^[0-9]+$ && "$t_cmds" -ge 2 && "$t_c2s" =~ ^[0-9]+$ && "$t_c2s" -gt 0 &&
	"$t_s2c" =~ ^[0-9]+$ && "$t_s2c" -gt 0 && "$t_punts" =~ ^[0-9]+$ && "$t_lat" =~ ^[0-9]+$ && "$t_age" =~ ^[0-9]+$ &&
	"$t_migrations" = 0 && "$t_migrating" = 0 && "$t_sticky" = NULL ]]
verdict $? tunnels_counters "in_transaction=$t_intx commands=$t_cmds bytes_c2s=$t_c2s bytes_s2c=$t_s2c punts=$t_punts last_latency_us=$t_lat age_s=$t_age sticky_reason=$t_sticky migrations=$t_migrations migrating=$t_migrating"

plist=$(adm -e "SHOW PROCESSLIST")
prow=$(awk -F'\t' -v i="$t_id" '$1 == i' <<<"$plist" | tr '\t' '|')
want_prow="$t_id|$E2E_USER|$t_client|$E2E_DB|Query|[0-9]+|established|NULL|$MAIN|$btid|${WANT_MODE:-(kernel|user)}"
[[ "$prow" =~ ^$want_prow$ && "$(grep -c . <<<"$plist")" = 1 ]]
verdict $? processlist_row "SHOW PROCESSLIST: $prow (expected $want_prow)"
fprow=$(adm -e "SHOW FULL PROCESSLIST;" | awk -F'\t' -v i="$t_id" '$1 == i' | tr '\t' '|')
[[ "$fprow" =~ ^$want_prow$ ]]; verdict $? full_processlist "SHOW FULL PROCESSLIST: $fprow"

check header_tunnels "SHOW TUNNELS columns: $(header "SHOW TUNNELS")" [ "$(header "SHOW TUNNELS")" = \
	"id user client db state backend backend_thread_id mode mode_reason in_transaction sticky_reason commands bytes_c2s bytes_s2c punts last_latency_us age_s migrations migrating" ]
check header_processlist "SHOW PROCESSLIST columns: $(header "SHOW PROCESSLIST")" [ "$(header "SHOW PROCESSLIST")" = \
	"Id User Host db Command Time State Info Backend Backend_thread_id Mode" ]
want="id:LONGLONG user:VAR_STRING client:VAR_STRING db:VAR_STRING state:VAR_STRING backend:VAR_STRING backend_thread_id:LONGLONG mode:VAR_STRING mode_reason:VAR_STRING in_transaction:TINY sticky_reason:VAR_STRING commands:LONGLONG bytes_c2s:LONGLONG bytes_s2c:LONGLONG punts:LONGLONG last_latency_us:LONGLONG age_s:LONGLONG migrations:LONGLONG migrating:TINY"
got=$(types "SHOW TUNNELS")
check types_tunnels "SHOW TUNNELS types: $got" [ "$got" = "$want" ]
want="Id:LONGLONG User:VAR_STRING Host:VAR_STRING db:VAR_STRING Command:VAR_STRING Time:LONGLONG State:VAR_STRING Info:VAR_STRING Backend:VAR_STRING Backend_thread_id:LONGLONG Mode:VAR_STRING"
got=$(types "SHOW FULL PROCESSLIST")
check types_processlist "SHOW FULL PROCESSLIST types: $got" [ "$got" = "$want" ]

wait "$SLEEP_PID"; rc=$?
check tunnel_session_ok "the sleeping session itself -> exit $rc: $(tr '\n' ' ' <<<"$(cat "$E2E_TMP/sleep.out")")" \
	[ "$rc" = 0 -a "$(cat "$E2E_TMP/sleep.out")" = 0 ]
wait_until 5 no_tunnel "$t_id"
check tunnel_gone "after the session ended, SHOW TUNNELS has no row $t_id" eval '[ -n "$t_id" ] && no_tunnel "$t_id"'

# ---------------------------------------------------------------- KILL

# KILL QUERY: the statement ends with 1317, the session goes on.
KQ="SELECT SLEEP(21)"
t0=$(date +%s)
printf "%s;\nSELECT 'alive';\n" "$KQ" | cli "$SHUNT_PORT" -N -B --force >"$E2E_TMP/kq.out" 2>&1 &
KQ_PID=$!
bg_track "$KQ_PID"
wait_until 5 running "$KQ"
kq_row=$(tunnel_of "$(maria_id "$KQ")")
kq_id=$(cut -f1 <<<"$kq_row")
out=$(adm -e "KILL QUERY $kq_id"); rc=$?
check kill_query "KILL QUERY ${kq_id:-?} -> exit $rc${out:+: $out}" [ -n "$kq_id" -a "$rc" = 0 -a -z "$out" ]
wait "$KQ_PID"
secs=$(( $(date +%s) - t0 ))
kq_out=$(tr '\n' ' ' <<<"$(cat "$E2E_TMP/kq.out")")
check kill_query_effect "the client after ${secs}s: $kq_out" \
	[ "$secs" -lt 15 -a "$(grep -c 'ERROR 1317 (70100).*Query execution was interrupted' "$E2E_TMP/kq.out")" = 1 \
	-a "$(grep -cx alive "$E2E_TMP/kq.out")" = 1 ]

# KILL CONNECTION and plain KILL: the client loses its connection.
K1="SELECT SLEEP(22)" K2="SELECT SLEEP(23)"
t0=$(date +%s)
cli "$SHUNT_PORT" -N -B -e "$K1" >"$E2E_TMP/k1.out" 2>&1 &
K1_PID=$!
cli "$SHUNT_PORT" -N -B -e "$K2" >"$E2E_TMP/k2.out" 2>&1 &
K2_PID=$!
bg_track "$K1_PID"
bg_track "$K2_PID"
wait_until 5 running "$K1"
wait_until 5 running "$K2"
k1_id=$(tunnel_of "$(maria_id "$K1")" | cut -f1)
k2_id=$(tunnel_of "$(maria_id "$K2")" | cut -f1)
out=$(adm -e "KILL CONNECTION $k1_id"); rc=$?
check kill_connection "KILL CONNECTION ${k1_id:-?} -> exit $rc${out:+: $out}" [ -n "$k1_id" -a "$rc" = 0 -a -z "$out" ]
out=$(adm -e "kill $k2_id;"); rc=$?
check kill_plain "kill ${k2_id:-?}; -> exit $rc${out:+: $out}" [ -n "$k2_id" -a "$rc" = 0 -a -z "$out" ]
wait "$K1_PID"; rc1=$?
wait "$K2_PID"; rc2=$?
secs=$(( $(date +%s) - t0 ))
nlost=$(grep -cE '^ERROR 20(06|13) ' "$E2E_TMP/k1.out" "$E2E_TMP/k2.out" | grep -c ':1$')
check kill_client_sees "after ${secs}s the clients exit $rc1 / $rc2: $(grep -m1 '^ERROR' "$E2E_TMP/k1.out") / $(grep -m1 '^ERROR' "$E2E_TMP/k2.out")" \
	[ "$secs" -lt 15 -a "$rc1" != 0 -a "$rc2" != 0 -a "$nlost" = 2 ]
wait_until 5 no_tunnel "$k1_id"
wait_until 5 no_tunnel "$k2_id"
check kill_row_gone "SHOW TUNNELS after the KILLs: $(adm -e "SHOW TUNNELS" | cut -f1 | tr '\n' ' ')" \
	[ -z "$(adm -e "SHOW TUNNELS")" ]
expect_err kill_again "KILL $k1_id" "ERROR 1094 (HY000): Unknown thread id: $k1_id"

# A client that connected and never logged in: listed, and killable.
exec {RAWFD}<>"/dev/tcp/127.0.0.1/$SHUNT_PORT"
wait_until 5 any_tunnel
raw_row=$(adm -e "SHOW TUNNELS" | head -1)
raw_id=$(cut -f1 <<<"$raw_row")
unauth_row_ok() {
	[[ "$(cut -f2-8 <<<"$raw_row" | tr '\t' '|')" =~ ^NULL\|127\.0\.0\.1:[0-9]+\|NULL\|login\|NULL\|NULL\|NULL$ ]] &&
		[ "$(cut -f10-16 <<<"$raw_row" | tr '\t' '|')" = "NULL|NULL|NULL|NULL|NULL|NULL|NULL" ]
}
check unauth_tunnel "SHOW TUNNELS, a client that has not logged in: $(tr '\t' ' ' <<<"$raw_row")" unauth_row_ok
prow=$(adm -e "SHOW PROCESSLIST" | awk -F'\t' -v i="$raw_id" '$1 == i { print $2 "|" $5 "|" $7 "|" $9 "|" $10 "|" $11 }')
check unauth_processlist "SHOW PROCESSLIST: $prow" [ "$prow" = "unauthenticated user|Connect|login|NULL|NULL|NULL" ]
out=$(adm -e "KILL $raw_id"); rc=$?
timeout 5 cat <&"$RAWFD" >/dev/null; eof=$?
exec {RAWFD}<&-
check unauth_kill "KILL $raw_id -> exit $rc${out:+: $out}; the client's socket then reads to EOF: $([ "$eof" = 0 ] && echo yes || echo "no ($eof)")" \
	[ -n "$raw_id" -a "$rc" = 0 -a -z "$out" -a "$eof" = 0 ]
check kill_stats "kills_ok=$(stat kills_ok) (expected 4), kills_failed=$(stat kills_failed) (expected 3: two unknown ids earlier and one again)" \
	[ "$(stat kills_ok)" = 4 -a "$(stat kills_failed)" = 3 ]
# KILL <id> kills the session's backend thread too, as MySQL's KILL does:
# its statement must not sleep on.
killed_threads_gone() { [ -z "$(maria_id "$K1")" ] && [ -z "$(maria_id "$K2")" ]; }
wait_until 10 killed_threads_gone
check kill_backend_threads "after KILL CONNECTION the killed sessions' backend threads are gone: '$(maria_id "$K1") $(maria_id "$K2")'" \
	killed_threads_gone

# A reload of a shunt configured by flags alone re-reads the same flags.
expect_ok reload_flags "RELOAD CONFIG"
check reload_flags_kept "after RELOAD CONFIG: backends $(adm -e "SHOW BACKENDS" | cut -f2 | tr '\n' ' ')reloads_ok=$(stat reloads_ok), a session -> $(one_session)" \
	[ "$(adm -e "SHOW BACKENDS" | cut -f2)" = "$MAIN" -a "$(stat reloads_ok)" = 1 -a "$(one_session)" = via-shunt ]

# ---------------------------------------------------------------- regressions

# A statement pipelined behind a KILL (both in one TCP write) must be
# answered once the KILL is: admin.c's kill_done() re-enables reading but
# does not go back to the packets already buffered.
got=$("$PY" - "$ADMIN_PORT" "$(dirname "$0")/rawclient.py" <<'PY' 2>&1
import importlib.util, socket, struct, sys
spec = importlib.util.spec_from_file_location("raw", sys.argv[2]); raw = importlib.util.module_from_spec(spec); spec.loader.exec_module(raw)
c = raw.Conn("127.0.0.1", int(sys.argv[1]))
raw.login(c, "admin", "adminpw", False)
pkt = lambda payload: struct.pack("<I", len(payload))[:3] + b"\x00" + payload
c.s.sendall(pkt(b"\x03KILL 999997") + pkt(b"\x03SHOW STATS"))
c.s.settimeout(3)
_, p = c.read_packet()
first = "ERR %d" % struct.unpack("<H", p[1:3])[0] if p[:1] == b"\xff" else repr(p[:10])
try:
    _, p = c.read_packet()
    second = "a result set" if p[:1] == b"\x02" else repr(p[:10])
except (socket.timeout, OSError, EOFError):
    second = "no answer in 3 s"
print("KILL 999997 -> %s; pipelined SHOW STATS -> %s" % (first, second))
PY
)
regression pipelined_after_kill "$([ "$got" = "KILL 999997 -> ERR 1094; pipelined SHOW STATS -> a result set" ] && echo yes)" "$got"

wait "$IDLE_PID"
got=$(cat "$E2E_TMP/idle.out")
regression idle_admin_session "$([ "$got" = alive ] && echo yes)" \
	"admin connection idle 12 s after login, then COM_PING -> $got; shunt log: $(grep -m1 -o 'admin=[0-9]* client=[^ ]* login not done in [0-9]* s; closing' "$SHUNT_LOG")"

# ---------------------------------------------------------------- RELOAD CONFIG (-c FILE)

P2=$(free_port) || die "no free port"
ADMIN2=$(free_port) || die "no free port"
CONF=$E2E_TMP/shunt-admin.ini
# write_conf [BAD] [NEW]: BAD: two broken lines (lines 2 and 3); NEW: the fixed
# file with the forwarder as a second backend, user shunt_other and a new
# admin password. Line numbers matter: the [global] header is line 1.
write_conf() {
	local bad=${1:-} new=${2:-} adminport=${3:-$ADMIN2}
	{
		echo "[global]"
		[ -n "$bad" ] && printf 'threads = 12abc\nfrobnicate = yes\n'
		echo "log_level = info"
		echo "admin = 127.0.0.1:$adminport"
		echo "admin_user = admin"
		if [ -n "$new" ]; then echo "admin_password = adminpw2"; else echo "admin_password = adminpw"; fi
		echo
		echo "[listener main]"
		echo "listen = 127.0.0.1:$P2"
		echo "pool = main"
		echo
		echo "[pool main]"
		echo "backend = $MAIN"
		[ -n "$new" ] && echo "backend = $FWD"
		echo
		echo "[user $E2E_USER]"
		echo "password = $E2E_PASS"
		[ -n "$new" ] && printf '\n[user shunt_other]\npassword = other_pw\n'
	} >"$CONF"
}
write_conf
shunt_config "$CONF" "$P2"
wait_port "$ADMIN2" 10 "$SHUNT_PID" || die "the admin port 127.0.0.1:$ADMIN2 (from the file) did not open"
adm2() { adm_on "$ADMIN2" "${ADMIN2_PW:-adminpw}" "$@"; }
stat2() { adm2 -e "SHOW STATS" | awk -F'\t' -v n="$1" '$1 == n { print $2 }'; }
session2() { mariadb --no-defaults -h127.0.0.1 -P"$P2" -u"${1:-$E2E_USER}" -p"${2:-$E2E_PASS}" -N -B -e "SELECT CURRENT_USER()" 2>&1; }

got=$(session2)
[[ "$got" == "$E2E_USER@"* ]]; verdict $? conf_session "a session through the shunt started with -c -> '$got'"
check conf_backends "SHOW BACKENDS (file): $(adm2 -e "SHOW BACKENDS" | cut -f1-4 | tr '\t\n' ' |')" \
	[ "$(adm2 -e "SHOW BACKENDS" | cut -f1-4 | tr '\t' ' ')" = "main $MAIN 1 online" ]
out=$(adm2 -e "RELOAD CONFIG;"); rc=$?
check reload_same "RELOAD CONFIG of the unchanged file -> exit $rc${out:+: $out}; reloads_ok=$(stat2 reloads_ok)" \
	[ "$rc" = 0 -a -z "$out" -a "$(stat2 reloads_ok)" = 1 ]

write_conf bad
want1="$CONF:2: threads: '12abc' is not a number"
checked=$("$SHUNT_BIN" -c "$CONF" --check-config 2>&1 | grep "^$CONF:" | paste -sd';')
got=$(adm_on "$ADMIN2" adminpw -e "RELOAD CONFIG" | grep -m1 '^ERROR' | sed 's/ at line 1:/:/')
[[ "$got" == "ERROR 1105 (HY000): reload refused, the running configuration stays: "*"$want1"* &&
	"$got" == *"$CONF:3: "* && "$got" == *";"* ]]
verdict $? reload_broken "RELOAD CONFIG of a broken file -> $got"
[[ -n "$checked" && "$got" == *"$checked" ]]
verdict $? reload_broken_all "the refusal lists what --check-config lists: $checked"
got=$(session2)
[[ "$got" == "$E2E_USER@"* && "$(adm2 -e "SHOW BACKENDS" | cut -f2)" = "$MAIN" && "$(stat2 reloads_failed)" = 1 ]]
verdict $? reload_broken_kept "after the refused reload: a session -> '$got', backends $(adm2 -e "SHOW BACKENDS" | cut -f2 | tr '\n' ' ')reloads_failed=$(stat2 reloads_failed)"

ADMIN3=$(free_port) || die "no free port"
write_conf "" "" "$ADMIN3"
got=$(adm2 -e "RELOAD CONFIG" | grep -m1 '^ERROR' | sed 's/ at line 1:/:/')
check reload_restart_only "RELOAD CONFIG with a new admin address -> $got" \
	[ "$got" = "ERROR 1105 (HY000): reload refused, the running configuration stays: admin changed, which needs a restart" ]

got=$(session2 shunt_other other_pw | head -1)
[[ "$got" == "ERROR 1045 (28000)"* ]]; verdict $? reload_before_user "shunt_other before the reload -> $got"
write_conf "" new
out=$(adm2 -e "RELOAD CONFIG"); rc=$?
check reload_fixed "RELOAD CONFIG of the fixed file -> exit $rc${out:+: $out}" [ "$rc" = 0 -a -z "$out" ]
got=$(adm2 -e "SHOW STATS" | head -1)
check reload_old_password "the old admin password after the reload -> $got" \
	[ "$got" = "ERROR 1045 (28000): Access denied for user 'admin'@'127.0.0.1' (using password: YES)" ]
ADMIN2_PW=adminpw2
rows=$(adm2 -e "SHOW BACKENDS" | cut -f1-8 | tr '\t' ' ')
check reload_new_backend "SHOW BACKENDS after the reload (new password): $(tr '\n' '|' <<<"$rows")" \
	[ "$(grep -c . <<<"$rows")" = 2 -a "$(grep -c "^main $FWD 1 online online up 0 0$" <<<"$rows")" = 1 \
	-a "$(grep -c "^main $MAIN 1 online" <<<"$rows")" = 1 ]
got=$(session2 shunt_other other_pw)
[[ "$got" == "shunt_other@"* ]]; verdict $? reload_new_user "shunt_other after the reload -> $got"
fwd_total=$(adm2 -e "SHOW BACKENDS" | awk -F'\t' -v a="$FWD" '$2 == a { print $8 }')
check reload_new_routes "the session after the reload went to the new backend: $FWD sessions_total=$fwd_total (expected 1)" \
	[ "$fwd_total" = 1 ]
check reload_stats "reloads_ok=$(stat2 reloads_ok) (expected 2), reloads_failed=$(stat2 reloads_failed) (expected 2)" \
	[ "$(stat2 reloads_ok)" = 2 -a "$(stat2 reloads_failed)" = 2 ]
last=$(grep -o 'configuration reloaded from .*' "$SHUNT_LOG" | tail -1)
check reload_logged "the log says: $last" [ "$last" = "configuration reloaded from $CONF: 2 user(s), 1 backend change(s)" ]

e2e_finish
