#!/usr/bin/env bash
# test_client_limits.sh — the limits on client connections (client_limits.c):
#   - max_unauthenticated_per_source: connections from one address that have
#     not logged in past the limit get 1040 before any greeting, and the
#     address logs in again once they are gone;
#   - max_connections_per_source: the same for connections in all;
#   - a user's max_connections: the login past it gets 1203;
#   - login_failures_per_source: after that many failed logins the address
#     gets 1129 (even with the right password) for login_block_ms, then may
#     log in again;
#   - max_connection_rate_per_source, turned on by a reload: past the burst,
#     1040 until the bucket refills;
#   - every refusal is counted in shunt_limit_refusals_total and logged
#     with the connection id, at most once per 10 s per address.
# The daemon before these limits greeted every connection and let any
# number of logins and wrong passwords through. (MariaDB 10.11's client
# reports an error before the greeting as 2002 "... cannot be verified:
# 1040 - ..."; both spellings are accepted.)
. "$(dirname "$0")/lib.sh"
e2e_init client_limits
if is_direct; then
	skip all "E2E_DIRECT=1: these are shunt's own limits"
	e2e_finish
fi
mariadb_ensure
SHUNT_PORT=$(free_port) || die "no free port"
HTTP_PORT=$(free_port) || die "no free port"
cat >"$E2E_TMP/limits.ini" <<CFG
[global]
http = 127.0.0.1:$HTTP_PORT
http_token = e2e-limits-token
max_unauthenticated_per_source = 4
max_connections_per_source = 6
login_failures_per_source = 3
login_failure_window_ms = 60000
login_block_ms = 2000

[listener default]
listen = 127.0.0.1:$SHUNT_PORT
pool = default

[pool default]
backend = 127.0.0.1:$MYSQL_PORT

[user $E2E_USER]
password = $E2E_PASS

[user shunt_other]
password = other_pw
max_connections = 2
CFG
shunt_spawn "$SHUNT_PORT" -c "$E2E_TMP/limits.ini" --http "127.0.0.1:$HTTP_PORT" || die "shunt did not start" start
wait_port "$SHUNT_PORT" 30 "$SHUNT_PID" && wait_port "$HTTP_PORT" 30 "$SHUNT_PID" || die "HTTP port not listening"

q() { mariadb --no-defaults -h127.0.0.1 -P"$SHUNT_PORT" -u"${2:-$E2E_USER}" -p"${3:-$E2E_PASS}" -N -B -e "$1" 2>&1; }
refusals() { curl -s "http://127.0.0.1:$HTTP_PORT/metrics" | awk -v l="limit=\"$1\"" 'index($0, "shunt_limit_refusals_total{") == 1 && index($0, l) { print $2 }'; }

# raw N HOLD_S: N connections that read the greeting (or the refusal) and
# say nothing for HOLD_S seconds; prints what the last one got first.
raw() {
	"$PY" - "$SHUNT_PORT" "$1" "$2" <<'PY'
import socket, struct, sys, time
port, n, hold = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
conns, first = [], []
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    hdr = s.recv(4)
    body = s.recv(hdr[0] | hdr[1] << 8 | hdr[2] << 16) if len(hdr) == 4 else b""
    first.append("err %d %s" % (struct.unpack("<H", body[1:3])[0], body[9:].decode(errors="replace"))
                 if body[:1] == b"\xff" else "greeting" if body[:1] == b"\x0a" else "other %r" % body[:8])
    conns.append(s)
print("; ".join("%d: %s" % (i + 1, f) for i, f in enumerate(first)), flush=True)
time.sleep(hold)
PY
}

out=$(raw 5 0.5)
check unauth_per_source "5 connections that do not log in, limit 4: $out" \
	eval '[[ "$out" == *"4: greeting"* && "$out" == *"5: err 1040 Too many connections (shunt: too many logins in progress from this address)"* ]]'
sleep 0.3
out=$(q "SELECT 1")
check unauth_released "once they closed, a login works: $out" [ "$out" = 1 ]

# Six sessions logged in and sleeping, then one more connection.
# One after the other: six logins at once would meet max_unauthenticated_per_source.
for i in 1 2 3 4 5 6; do q "SELECT SLEEP(3)" >/dev/null & bg_track $!; sleep 0.2; done
wait_until 5 eval '[ "$(curl -s "http://127.0.0.1:$HTTP_PORT/metrics" | awk "/^shunt_sessions[{ ]/ { s += \$2 } END { print s + 0 }")" -ge 6 ]'
out=$(q "SELECT 1")
check per_source "7th connection from one address, limit 6: $out" \
	eval 'grep -qE "(ERROR 1040|1040 - ).*too many connections from this address" <<<"$out"'
sleep 3.3

q "SELECT SLEEP(3)" shunt_other other_pw >/dev/null & bg_track $!
q "SELECT SLEEP(3)" shunt_other other_pw >/dev/null & bg_track $!
sleep 0.8
out=$(q "SELECT 1" shunt_other other_pw)
check per_user "a third session of shunt_other (max_connections = 2): $out" \
	eval 'grep -q "ERROR 1203 .*User shunt_other already has more than .max_user_connections. active connections" <<<"$out"'
sleep 2.5
out=$(q "SELECT CURRENT_USER()" shunt_other other_pw)
check per_user_released "after they ended: $out" [ "$out" = "shunt_other@%" ]

for i in 1 2 3; do q "SELECT 1" "$E2E_USER" wrong-pw >/dev/null; done
out=$(q "SELECT 1")
check blocked_after_failures "after 3 wrong passwords, the right one: $out" \
	eval 'grep -qE "(ERROR 1129|1129 - ).*Host .127.0.0.1. is blocked because of many failed logins" <<<"$out"'
sleep 2.2
out=$(q "SELECT 1")
check unblocked "after login_block_ms (2 s): $out" [ "$out" = 1 ]

m="unauth $(refusals unauthenticated_per_source), source $(refusals per_source), user $(refusals per_user), blocked $(refusals blocked_source)"
check refusals_counted "shunt_limit_refusals_total: $m" \
	eval '[ "$(refusals unauthenticated_per_source)" = 1 ] && [ "$(refusals per_source)" = 1 ] && [ "$(refusals per_user)" = 1 ] && [ "$(refusals blocked_source)" = 1 ]'
n=$(grep -cE 'conn=[0-9]+ .*(connection refused: [a-z_]+ limit|refused: the user has)' "$SHUNT_LOG")
check refusals_logged "log lines with a connection id for the refusals: $n" [ "$n" -ge 4 ]

# Malformed handshakes count as failed logins too, and a blocked address
# that keeps connecting costs one log line per 10 s, not one per try.
garbage=$("$PY" - "$SHUNT_PORT" <<'PY'
import socket, sys
port, got = int(sys.argv[1]), []
for i in range(3):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    h = s.recv(4); s.recv(h[0] | h[1] << 8 | h[2] << 16)
    s.sendall(b"\x05\x00\x00\x01junk!")
    p = s.recv(200)
    got.append("ERR %d" % (p[5] | p[6] << 8) if p[4:5] == b"\xff" else repr(p[:8]))
    s.close()
print(" ".join(got))
PY
)
out=$(q "SELECT 1")
check blocked_after_bad_handshakes "3 malformed handshakes ($garbage), then the right password: $out" \
	eval 'grep -qE "(ERROR 1129|1129 - )" <<<"$out"'
l0=$(grep -c "connection refused: blocked_source limit" "$SHUNT_LOG")
"$PY" - "$SHUNT_PORT" <<'PY'
import socket, sys
for i in range(50):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
    s.recv(200)
    s.close()
PY
l1=$(grep -c "connection refused: blocked_source limit" "$SHUNT_LOG")
check refusal_log_limited "50 more connections while blocked: $((l1 - l0)) more refusal lines in the log (at most one per 10 s per address)" \
	[ $((l1 - l0)) -le 1 ]

# A reload turns on a connection-rate limit: 3 a second (a burst of 3;
# below the 4 logins in progress the address may have).
sleep 2.2       # the block ends
sed -i 's/^login_block_ms = 2000$/login_block_ms = 2000\nmax_connection_rate_per_source = 3/' "$E2E_TMP/limits.ini"
kill -HUP "$SHUNT_PID"
wait_until 5 eval '[ "$(grep -c "configuration reloaded" "$SHUNT_LOG")" -ge 1 ]'
out=$(raw 8 0)
check rate_per_source "8 connections at once after the reload, 3 a second allowed: $out" \
	eval '[[ "$out" == *"3: greeting"* && "$out" == *"4: err 1040 Too many connections (shunt: this address connects too often)"* && "$out" == *"8: err 1040"* ]]'
sleep 1.2
out=$(q "SELECT 1")
check rate_refills "a second later: $out" [ "$out" = 1 ]
e2e_finish
