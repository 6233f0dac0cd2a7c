#!/usr/bin/env bash
# test_runtime.sh — changing backends while shunt runs, through the admin
# port, and reloading the configuration file:
#   - a backend added at run time receives the next sessions (it has the
#     fewest), and its sessions work;
#   - a removed backend receives no new session, while the sessions it
#     already had keep working until they end;
#   - a broken file is refused by RELOAD CONFIG and by SIGHUP with its
#     FILE:LINE message, and the running configuration stays;
#   - a reload that changes a listener is refused (needs a restart);
#   - a good file is applied: a backend it adds appears, a user it adds
#     can log in;
#   - health: a backend nobody listens on is marked down after 3 failed
#     logins (which fail over to a live backend), and up again by the probe
#     once something listens there.
# The second backend is the same MariaDB behind an HAProxy TCP forwarder.
. "$(dirname "$0")/lib.sh"
e2e_init runtime
mariadb_ensure
FWD_PORT=$(free_port) || die "no free port"
tcp_forward "$FWD_PORT" "$MYSQL_PORT" || die "the HAProxy forwarder did not start"

SHUNT_PORT=$(free_port) || die "no free port"
ADMIN_PORT=$(free_port) || die "no free port"
A=127.0.0.1:$MYSQL_PORT
B=127.0.0.1:$FWD_PORT
write_config() {  # write_config EXTRA_POOL_LINES [EXTRA_SECTIONS]
	cat >"$E2E_TMP/shunt.ini" <<CFG
[global]
admin = 127.0.0.1:$ADMIN_PORT
admin_user = admin
admin_password = admin-pw
health_interval_ms = 300

[listener default]
listen = 127.0.0.1:$SHUNT_PORT
pool = default

[pool default]
backend = $A
$1

[user $E2E_USER]
password = $E2E_PASS
$2
CFG
}
write_config ""
shunt_config "$E2E_TMP/shunt.ini" "$SHUNT_PORT"
wait_port "$ADMIN_PORT" 5 "$SHUNT_PID" || die "admin port not listening"

admin() { mariadb --no-defaults -h127.0.0.1 -P"$ADMIN_PORT" -uadmin -padmin-pw -N -B -e "$1" 2>&1; }
# sessions ADDR: the "sessions" column of SHOW BACKENDS for ADDR ("" if absent)
sessions() { admin "SHOW BACKENDS" | awk -F'\t' -v a="$1" '$2 == a { print $7 }'; }
# tunnels_on ADDR: established sessions on ADDR in SHOW TUNNELS
tunnels_on() { admin "SHOW TUNNELS" | awk -F'\t' -v a="$1" '$6 == a && $5 == "established"' | wc -l; }
# hold N: N sessions running SELECT SLEEP(15) through shunt; their output
# and exit status are checked at the end (held_sessions_ok).
HELD=()
hold() {
	local i f
	for i in $(seq 1 "$1"); do
		f=$E2E_TMP/held.${#HELD[@]}
		( mariadb --no-defaults -h127.0.0.1 -P"$SHUNT_PORT" -u"$E2E_USER" -p"$E2E_PASS" \
			-N -B -e "SELECT SLEEP(15)" >"$f" 2>&1; echo "rc=$?" >>"$f" ) &
		bg_track $!
		HELD+=("$f")
	done
}
q() { mariadb --no-defaults -h127.0.0.1 -P"$SHUNT_PORT" -u"${2:-$E2E_USER}" -p"${3:-$E2E_PASS}" -N -B -e "$1" 2>&1; }

hold 4
wait_until 5 eval '[ "$(tunnels_on "$A")" = 4 ]'
check before_add "4 sessions, all on $A: $(tunnels_on "$A") established there" [ "$(tunnels_on "$A")" = 4 ]

out=$(admin "ADD BACKEND '$B' TO POOL default WEIGHT 1")
check add "ADD BACKEND '$B' TO POOL default -> '$out'; SHOW BACKENDS lists it with $(sessions "$B") sessions" \
	eval '[ -z "$out" ] && [ "$(sessions "$B")" = 0 ]'
hold 4
wait_until 5 eval '[ "$(tunnels_on "$B")" = 4 ]'
nb=$(tunnels_on "$B"); na=$(tunnels_on "$A")
check added_gets_sessions "4 new sessions after the add: $nb on the new backend $B, $na on $A (least connections)" \
	[ "$nb" = 4 -a "$na" = 4 ]
out=$(q "SELECT 40 + 2")
check new_backend_works "a session through shunt with both backends online: SELECT 40 + 2 -> $out" [ "$out" = 42 ]

out=$(admin "REMOVE BACKEND '$B'")
listed=$(admin "SHOW BACKENDS" | awk -F'\t' -v a="$B" '$2 == a' | wc -l)
check remove "REMOVE BACKEND '$B' -> '$out'; listed afterwards: $listed" [ -z "$out" -a "$listed" = 0 ]
hold 4
wait_until 10 eval '[ "$(tunnels_on "$A")" = 8 ]'
nb=$(tunnels_on "$B"); na=$(tunnels_on "$A")
check removed_gets_none "4 new sessions after the remove: $na on $A (expected 8), the removed $B still carries its old $nb (expected 4)" \
	[ "$na" = 8 -a "$nb" = 4 ]
for i in 1 2 3 4 5 6; do out=$(q "SELECT 1"); [ "$out" = 1 ] || break; done
check removed_no_login "6 more logins after the remove all work and none lands on $B: $(tunnels_on "$B") there" \
	[ "$out" = 1 -a "$(tunnels_on "$B")" = 4 ]

# A broken file: refused, the running configuration stays.
cp "$E2E_TMP/shunt.ini" "$E2E_TMP/good.ini"
printf '\n[global2]\nfrob = 1\n' >>"$E2E_TMP/shunt.ini"
out=$(admin "RELOAD CONFIG")
check reload_broken_admin "RELOAD CONFIG with an unknown section -> '$out'" \
	eval 'grep -q "ERROR 1105.*reload refused.*shunt.ini:[0-9]*: unknown section" <<<"$out"'
refused() { grep -c "WARN reload refused.*unknown section" "$SHUNT_LOG"; }
n0=$(refused)
kill -HUP "$SHUNT_PID"
wait_until 5 eval '[ "$(refused)" -gt "$n0" ]'
n=$(refused)
check reload_broken_sighup "SIGHUP with the broken file: 'reload refused' warnings $n0 -> $n, after a 'SIGHUP: reloading' line; shunt still answers: $(q 'SELECT 3')" \
	eval '[ "$n" = $((n0 + 1)) ] && grep -q "SIGHUP: reloading the configuration" "$SHUNT_LOG" && [ "$(q "SELECT 3")" = 3 ]'

# A listener change needs a restart.
sed "s/^listen = 127.0.0.1:$SHUNT_PORT/listen = 127.0.0.1:$FWD_PORT/" "$E2E_TMP/good.ini" >"$E2E_TMP/shunt.ini"
out=$(admin "RELOAD CONFIG")
check reload_listener "a file that moves the listener -> '$out'" \
	eval 'grep -q "listeners changed, which needs a restart" <<<"$out"'

# A good file: backend B back (weight 3) and a new user.
write_config "backend = $B weight=3" "
[user shunt_other]
password = other_pw"
out=$(q "SELECT 1" shunt_other other_pw)
check user_before_reload "shunt_other before the reload: refused by shunt ($out)" \
	eval 'grep -q "ERROR 1045" <<<"$out"'
kill -HUP "$SHUNT_PID"
wait_until 5 grep -q "configuration reloaded" "$SHUNT_LOG"
w=$(admin "SHOW BACKENDS" | awk -F'\t' -v a="$B" '$2 == a { print $3 }')
out=$(q "SELECT CURRENT_USER()" shunt_other other_pw)
check reload_applied "SIGHUP with a good file: $B listed with weight '$w' (3); shunt_other logs in as '$out'" \
	[ "$w" = 3 -a "$out" = "shunt_other@%" ]
stats=$(admin "SHOW STATS" | awk -F'\t' '$1 == "reloads_ok" || $1 == "reloads_failed" { printf "%s=%s ", $1, $2 }')
check reload_counters "SHOW STATS: $stats" eval '[[ "$stats" == *"reloads_ok=1 "* && "$stats" == *"reloads_failed=3 "* ]]'

# Reloads free what they replace: 30 reloads of a file with 3000 users
# (about 1 MiB of configuration each) leave shunt's RSS where it was and no
# replaced configuration retained (the daemon before kept every one until
# exit). Before that, with the small file: more than 10 reloads in a row
# are refused.
out=$(mariadb --no-defaults -h127.0.0.1 -P"$ADMIN_PORT" -uadmin -padmin-pw -N -B -f \
	-e "$(for i in $(seq 1 40); do printf "RELOAD CONFIG;"; done)" 2>&1 | grep ERROR | head -1)
check reload_throttled "40 reloads in a row: the first 10 go through, then -> '$out'" \
	eval 'grep -q "ERROR 1105.*too many reloads" <<<"$out"'
sleep 1.5   # the bucket fills again
for i in $(seq 1 3000); do printf '[user bulk%04d]\npassword = pw%04d\n' "$i" "$i"; done >>"$E2E_TMP/shunt.ini"
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$SHUNT_PID/status"; }
admin "RELOAD CONFIG" >/dev/null
sleep 1
rss0=$(rss)
bad=0
for i in $(seq 1 30); do
	out=$(admin "RELOAD CONFIG")
	[ -z "$out" ] || bad=$((bad + 1))
	sleep 0.15
done
sleep 1
rss1=$(rss)
kept=$(admin "SHOW STATS" | awk -F'\t' '$1 == "configs_retained" { print $2 }')
# Under ASan freed memory waits in its quarantine: RSS says nothing there.
san=; grep -q asan "/proc/$SHUNT_PID/maps" 2>/dev/null && san=1
check reload_frees "30 reloads of a 3000-user file: $bad refused, shunt RSS $rss0 -> $rss1 KiB${san:+ (sanitized: RSS not judged)}, replaced configurations retained: '$kept'" \
	eval '[ "$bad" = 0 ] && [ "$kept" = 0 ] && { [ -n "$san" ] || [ $((rss1 - rss0)) -lt 4096 ]; }'

# Health: a dead backend goes down, and comes back up by itself.
C_PORT=$(free_port) || die "no free port"
C=127.0.0.1:$C_PORT
admin "ADD BACKEND '$C' TO POOL default WEIGHT 1000" >/dev/null
ok=0
for i in 1 2 3 4; do [ "$(q 'SELECT 5')" = 5 ] && ok=$((ok + 1)); done
row=$(admin "SHOW BACKENDS" | awk -F'\t' -v a="$C" '$2 == a { print $4 "|" $6 "|" $10 "|" $12 }')
check health_down "4 logins with a dead backend first in line: $ok answered; its row state|health|consecutive|error: $row" \
	eval '[ "$ok" = 4 ] && [[ "$row" == down\|down\|*\|*connect* ]]'
tcp_forward "$C_PORT" "$MYSQL_PORT" || die "the HAProxy forwarder did not start"
wait_until 5 eval '[ "$(admin "SHOW BACKENDS" | awk -F"\t" -v a="$C" "\$2 == a { print \$6 }")" = up ]'
row=$(admin "SHOW BACKENDS" | awk -F'\t' -v a="$C" '$2 == a { print $4 "|" $6 "|" $10 }')
check health_up "once something listens on $C the probe marks it up: $row; log: $(grep -o "backend $C is up again" "$SHUNT_LOG" | head -1)" \
	eval '[ "$row" = "online|up|0" ] && grep -q "backend $C is up again" "$SHUNT_LOG"'
# Every held session, on the removed backend or not, ran to its end.
held_done() { local f; for f in "${HELD[@]}"; do grep -q '^rc=' "$f" || return 1; done; }
wait_until 30 held_done
bad=0
for f in "${HELD[@]}"; do [ "$(tr '\n' ' ' <"$f")" = "0 rc=0 " ] || bad=$((bad + 1)); done
check held_sessions_ok "${#HELD[@]} sessions held across add/remove/reload: $bad did not answer SELECT SLEEP(15) -> 0" \
	[ "${#HELD[@]}" = 12 -a "$bad" = 0 ]
e2e_finish
