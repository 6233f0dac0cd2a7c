#!/usr/bin/env bash
# test_backend_down.sh — one shunt, four listeners:
#   dead  -> pool 'default': its only backend is a port nobody listens on
#   hole  -> pool 'hole':    a backend that accepts and never sends a greeting
#   mixed -> pool 'mixed':   the dead port and the real MariaDB
#   live  -> pool 'live':    the real MariaDB
# Clients of 'dead' and 'hole' get ERROR 9001 "no backend available in pool
# ..." quickly; 'mixed' always ends up on the live backend; 'live' keeps
# serving before, between and after the failures.
. "$(dirname "$0")/lib.sh"
e2e_init backend_down
mariadb_ensure
if is_direct; then
	skip all "E2E_DIRECT=1: pools and backend errors are shunt's"
	e2e_finish
fi
DEAD=$(free_port); PD=$(free_port); PH=$(free_port); PM=$(free_port); PL=$(free_port)
HOLE=$(free_port)

# The black hole: accepts, reads, never answers.
"$PY" - "$HOLE" <<'PY' &
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64)
conns = []
s.settimeout(1)
t0 = time.time()
while time.time() - t0 < 600:
    try:
        c, _ = s.accept(); conns.append(c)
    except socket.timeout:
        pass
PY
HOLE_PID=$!
bg_track "$HOLE_PID"
wait_port "$HOLE" 5 "$HOLE_PID" || die "black-hole backend did not start"

cat >"$E2E_TMP/shunt.ini" <<INI
[global]
connect_timeout_ms = 1000
backend_login_timeout_ms = 1000

[listener dead]
listen = 127.0.0.1:$PD
pool = default

[listener hole]
listen = 127.0.0.1:$PH
pool = hole

[listener mixed]
listen = 127.0.0.1:$PM
pool = mixed

[listener live]
listen = 127.0.0.1:$PL
pool = live

[pool default]
backend = 127.0.0.1:$DEAD

[pool hole]
backend = 127.0.0.1:$HOLE

[pool mixed]
backend = 127.0.0.1:$DEAD
backend = 127.0.0.1:$MYSQL_PORT

[pool live]
backend = 127.0.0.1:$MYSQL_PORT

[user $E2E_USER]
password = $E2E_PASS
INI
shunt_config "$E2E_TMP/shunt.ini" "$PL"
for p in $PD $PH $PM; do wait_port "$p" 5 "$SHUNT_PID" || die "shunt is not listening on $p"; done

live() {  # live NAME
	local out
	out=$(cli "$PL" -N -B -e 'SELECT 40 + 2' 2>&1)
	check "$1" "listener 'live' -> SELECT 40 + 2 -> '$out'" [ "$out" = 42 ]
}

no_backend() {  # no_backend NAME PORT POOL
	local name=$1 port=$2 pool=$3 out rc t0 ms
	t0=$(date +%s%N)
	out=$(cli "$port" -N -B -e 'SELECT 1' 2>&1 </dev/null); rc=$?
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	case $out in
	"ERROR 9001 (08S01)"*"no backend available in pool '$pool'"*)
		check "$name" "exit $rc after $ms ms: '$out'" [ "$rc" = 1 -a "$ms" -lt 10000 ] ;;
	*) fail "$name" "expected ERROR 9001 ... no backend available in pool '$pool', got exit $rc after $ms ms: '$out'" ;;
	esac
}

live live_before
no_backend dead_port "$PD" default
live live_between
no_backend black_hole "$PH" hole
for i in 1 2 3; do no_backend "dead_port_again_$i" "$PD" default; done

ok=0
for i in $(seq 1 6); do
	out=$(cli "$PM" -N -B -e 'SELECT @@port' 2>&1)
	[ "$out" = "$MYSQL_PORT" ] && ok=$((ok + 1))
done
check mixed_failover "pool 'mixed' (dead + live backend): $ok of 6 logins reached MariaDB port $MYSQL_PORT" [ "$ok" = 6 ]

# The C client against the dead listener: the exact code.
out=$("$E2E_CLIENT_BIN" 127.0.0.1 "$PD" "$E2E_USER" "$E2E_PASS" "$E2E_DB" simple 2>&1 | grep -m1 'FAIL: simple.connect')
case $out in
*"error 9001 "*"no backend available in pool 'default'"*) pass client_errno "libmariadb: ${out#*connect: }" ;;
*) fail client_errno "expected mysql_errno 9001, got: '$out'" ;;
esac

# PyMySQL parses the ERR itself (no libmariadb).
out=$("$PY" - "$PD" "$E2E_USER" "$E2E_PASS" <<'PY' 2>&1
import sys, pymysql
try:
    pymysql.connect(host="127.0.0.1", port=int(sys.argv[1]), user=sys.argv[2],
                    password=sys.argv[3], connect_timeout=10)
    print("connected")
except pymysql.err.MySQLError as e:
    print("%d %s" % (e.args[0], e.args[1]))
PY
)
case $out in
"9001 shunt: no backend available in pool 'default'") pass pymysql_errno "PyMySQL: ($out)" ;;
*) fail pymysql_errno "expected 9001 \"shunt: no backend available in pool 'default'\", got '$out'" ;;
esac

live live_after
client simple "" "$PL"
e2e_finish
