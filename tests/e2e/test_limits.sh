#!/usr/bin/env bash
# test_limits.sh — local resource limits and the admin port's pre-login
# limits (the hardening issue's defects 4 and 6):
#   - shunt raises its descriptor limit to the hard limit at start;
#   - out of descriptors, a listener pauses instead of spinning: idle
#     connections past the limit do not make shunt burn CPU or flood its
#     log, and it serves again once they are gone;
#   - the admin port takes at most 8 connections that have not logged in,
#     refuses a login packet larger than 4 KiB, and answers a wrong
#     password after a delay that doubles with each failure in a row.
. "$(dirname "$0")/lib.sh"
e2e_init limits
if is_direct; then
	skip all "E2E_DIRECT=1: these are shunt's own limits"
	e2e_finish
fi
mariadb_ensure
ADMIN_PORT=$(free_port) || die "no free port for the admin port"
HTTP_PORT=$(free_port) || die "no free port for the HTTP API"
# Start with a soft descriptor limit below the hard one, as most
# distributions do, so that raising it shows.
[ "$(ulimit -Hn)" = unlimited ] || [ "$(ulimit -Hn)" -le 1024 ] || ulimit -Sn 1024
shunt_start --admin "127.0.0.1:$ADMIN_PORT" --admin-user admin:adminpw --http "127.0.0.1:$HTTP_PORT"
wait_port "$ADMIN_PORT" 10 "$SHUNT_PID" || die "the admin port did not open"

# ---------------------------------------------------------------- descriptor limit
soft=$(awk '/Max open files/ {print $4}' "/proc/$SHUNT_PID/limits")
hard=$(awk '/Max open files/ {print $5}' "/proc/$SHUNT_PID/limits")
if [ "$(ulimit -Sn)" = "$(ulimit -Hn)" ]; then
	skip fd_limit_raised "shunt was started with soft = hard = $(ulimit -Hn): nothing to raise"
else
	check fd_limit_raised "started with soft $(ulimit -Sn), hard $(ulimit -Hn): now soft $soft, hard $hard" \
		[ "$soft" = "$hard" ]
fi

# squeeze PORT: the running daemon squeezed to 48 descriptors while 80
# idle connections to PORT are open (accept() runs out part-way); sets
# CPU to the % of a CPU shunt used over 2 s meanwhile.
ticks() { awk '{print $14 + $15}' "/proc/$SHUNT_PID/stat"; }
squeeze() {
	local t0 t1 pid
	prlimit --pid "$SHUNT_PID" --nofile=48:48 || die "prlimit failed"
	"$PY" - "$1" <<'PY' &
import socket, sys, time
conns = []
for _ in range(80):
    s = socket.socket()
    s.settimeout(2)
    s.connect(("127.0.0.1", int(sys.argv[1])))
    conns.append(s)
time.sleep(3)
PY
	pid=$!
	sleep 1
	t0=$(ticks)
	sleep 2
	t1=$(ticks)
	wait "$pid"
	CPU=$(( (t1 - t0) * 100 / (2 * $(getconf CLK_TCK)) ))
}
squeeze "$SHUNT_PORT"
cpu=$CPU
lines=$(grep -c "accept failed: Too many open files" "$SHUNT_LOG")
check emfile_no_spin "shunt used ${cpu}% of a CPU over 2 s with 80 idle connections past its 48-descriptor limit (spinning is 100%)" [ "$cpu" -lt 30 ]
check emfile_log_limited "$lines 'accept failed' lines (at most one per 10 s per worker thread)" [ "$lines" -ge 1 -a "$lines" -le 2 ]
sleep 0.5
got=$(mariadb --no-defaults -h127.0.0.1 -P"$SHUNT_PORT" -u"$E2E_USER" -p"$E2E_PASS" -N -B -e "SELECT 'back'" 2>&1)
check emfile_recovers "a login after the idle connections left -> $got" [ "$got" = back ]

# The same on the HTTP API's listener (evhttp's own, which had no error
# callback: the daemon before spun there).
squeeze "$HTTP_PORT"
cpu=$CPU
lines=$(grep -c "HTTP API.*accept failed: Too many open files\|accept failed: Too many open files.*HTTP API" "$SHUNT_LOG")
check http_emfile_no_spin "HTTP API: shunt used ${cpu}% of a CPU over 2 s with 80 idle connections past 48 descriptors; $lines 'accept failed' line(s) for it" \
	[ "$cpu" -lt 30 -a "$lines" -ge 1 -a "$lines" -le 2 ]
sleep 0.5
code=$(curl -s -o /dev/null -w '%{http_code}' -m 5 "http://127.0.0.1:$HTTP_PORT/healthz")
check http_emfile_recovers "GET /healthz after they left -> $code" [ "$code" = 200 ]

# ---------------------------------------------------------------- admin pre-login limits
out=$("$PY" - "$ADMIN_PORT" <<'PY'
import socket, struct, sys, time
port = int(sys.argv[1])
def greeting(s):
    h = s.recv(4)
    n = h[0] | h[1] << 8 | h[2] << 16
    while n:
        n -= len(s.recv(n))
res = []
# nine connections that do not log in: the ninth is closed at once
conns = []
for i in range(9):
    s = socket.socket(); s.settimeout(2); s.connect(("127.0.0.1", port)); conns.append(s)
try:
    greeting(conns[8])
    res.append("ninth greeted")
except (OSError, IndexError):
    res.append("ninth closed")
for s in conns:
    s.close()
time.sleep(0.3)
# a 5000-byte login packet
s = socket.socket(); s.settimeout(3); s.connect(("127.0.0.1", port)); greeting(s)
s.sendall(struct.pack("<I", 5000)[:3] + b"\x01" + b"\x00" * 5000)
p = s.recv(200)
res.append("big login -> %s" % ("ERR %d" % struct.unpack("<H", p[5:7])[0] if p[4:5] == b"\xff" else repr(p[:8])))
print("; ".join(res))
PY
)
check admin_preauth_cap "nine admin connections that do not log in, a 5000-byte login: $out" \
	[ "$out" = "ninth closed; big login -> ERR 1153" ]
for i in 1 2 3; do
	mariadb --no-defaults -h127.0.0.1 -P"$ADMIN_PORT" -uadmin -pwrong -e "SELECT 1" >/dev/null 2>&1
done
delays=$(grep -o "answered in [0-9]* ms: [0-9]* failures\? in a row" "$SHUNT_LOG" | tr '\n' ',')
check admin_backoff "three wrong passwords in a row: $delays" \
	[ "$delays" = "answered in 100 ms: 1 failure in a row,answered in 200 ms: 2 failures in a row,answered in 400 ms: 3 failures in a row," ]
got=$(mariadb --no-defaults -h127.0.0.1 -P"$ADMIN_PORT" -uadmin -padminpw -N -B -e "SHOW STATS" 2>&1 | head -1)
check admin_still_serves "the right password afterwards -> $got" [ -n "$got" -a "${got#ERROR}" = "$got" ]
e2e_finish
