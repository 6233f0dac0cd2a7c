#!/usr/bin/env bash
# test_routing.sh — weighted least-connections routing in one pool of two
# backends that reach the same MariaDB (one directly, one through an
# HAProxy TCP forwarder, so that shunt sees two distinct servers):
#   - 30 concurrent sessions over weights 2:1 split exactly 20/10;
#   - after closing 10 sessions of the heavier backend, the next 10 all go
#     there (fewest connections relative to weight);
#   - 8 threads churning good logins, wrong passwords and logins the backend
#     refuses leave the counts exact: 30 sessions split 20/10 again, and
#     once every client is gone shunt's own counts (SIGUSR1 logs them) are
#     0 active on both backends, with totals that add up to the logins.
. "$(dirname "$0")/lib.sh"
e2e_init routing
mariadb_ensure
# A user shunt knows but MariaDB does not: the backend refuses its login
# after shunt picked a backend for it (the count must be released).
FWD_PORT=$(free_port) || die "no free port"
tcp_forward "$FWD_PORT" "$MYSQL_PORT" || die "the HAProxy forwarder did not start"

SHUNT_PORT=$(free_port) || die "no free port"
cat >"$E2E_TMP/shunt.ini" <<CFG
[listener main]
listen = 127.0.0.1:$SHUNT_PORT
pool = two

[pool two]
backend = 127.0.0.1:$MYSQL_PORT weight=2
backend = 127.0.0.1:$FWD_PORT weight=1

[user $E2E_USER]
password = $E2E_PASS

[user ghost]
password = ghost_pw
CFG
shunt_spawn "$SHUNT_PORT" -c "$E2E_TMP/shunt.ini" --log-level info || die "shunt did not start"
run_checks routing "$PY" "$(dirname "$0")/routing_check.py" "$SHUNT_PORT" "$E2E_USER" "$E2E_PASS" \
	"$SHUNT_LOG" "127.0.0.1:$MYSQL_PORT" "127.0.0.1:$FWD_PORT"

# Every client closed: the pool's counts must be back to zero.
sleep 1
kill -USR1 "$SHUNT_PID"
wait_until 5 grep -q "pool two backend 127.0.0.1:$FWD_PORT" "$SHUNT_LOG"
sum_field() {  # sum_field NAME: adds NAME's value over the last stats of both backends
	grep "pool two backend" "$SHUNT_LOG" | tail -2 |
		awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) s += $(i + 1) } END { print s + 0 }'
}
act=$(sum_field active)
tot=$(sum_field total)
# 30 + 10 + 8*40 good + 8*40 backend-refused (they picked a backend) + 30
# A second shunt on the same port must refuse to start: with SO_REUSEPORT
# it would otherwise silently take a share of the clients.
out=$(timeout 10 "$SHUNT_BIN" --listen "127.0.0.1:$SHUNT_PORT" --backend "127.0.0.1:$MYSQL_PORT" \
	--user x:y --fastpath off 2>&1); rc=$?
refused=no
[ "$rc" != 0 ] && [ "$rc" != 124 ] && grep -q "Address already in use" <<<"$out" && refused=yes
check port_taken "second shunt on 127.0.0.1:$SHUNT_PORT -> exit $rc: $(grep -m1 -o 'cannot listen.*' <<<"$out")" \
	[ "$refused" = yes ]

check pool_counts "after all clients left: $act active (expected 0), $tot routed (expected 710)" \
	[ "$act" = 0 -a "$tot" = 710 ]
e2e_finish
